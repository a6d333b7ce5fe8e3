"""The review queue as a lazy table model: ids up front, rows fetched in windows.

Loading happens in two background reads that run side by side on the reader pool:

1. the first window (``LIMIT 200`` ids, their scalar columns and the texts of the first
   few items), which puts the first item on screen in a few milliseconds even with 50,000
   pending proposals;
2. the full ordered id list (ids only: a 50,000-row queue is 400 KB of ints), after which
   ``rowCount`` covers the whole queue.

Scalar columns of other rows are fetched in windows of :data:`PAGE` rows when the view
first asks for them (``data()`` answers "…" meanwhile and the window arrives via
``dataChanged``); texts are never loaded here. A generation counter drops answers that
belong to a previous load.

Decisions made in this session are an overlay (:class:`RowState`) on top of the rows, so a
decided item stays in place (J/K and undo keep working) until the next full reload, which
keeps decided ids in the queue (``keep``).

GUI thread only; the reads it starts run on :class:`desktop.core.tasks.TaskRunner`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

from desktop.core.context import AppContext
from desktop.core.wording import format_date
from desktop.review.data import QueueFilter, QueueRow, ReviewItem, item_details, queue_ids
from desktop.review.data import queue_rows as fetch_rows
from sync.model.vocab import ENTRY_TYPES

__all__ = ["PAGE", "ReviewQueueModel", "RowState"]

PAGE = 200
_Index = QModelIndex | QPersistentModelIndex
_ENTRY_LABEL = {t: t.replace("_", " ").capitalize() for t in ENTRY_TYPES}


@dataclass(frozen=True)
class RowState:
    """What the teacher did to a row in this session."""

    kind: str  # "accepted" | "corrected" | "skipped" | "open" (a decision was undone)
    level: str | None = None
    saving: bool = False

    def label(self) -> str:
        if self.kind in ("skipped", "open"):
            return "skipped" if self.kind == "skipped" else ""
        text = "✓ accepted" if self.kind == "accepted" else f"→ {self.level}"
        return text + (" …" if self.saving else "")


class ReviewQueueModel(QAbstractTableModel):
    """Rows of the review queue (see the module docstring)."""

    loaded = Signal(object)  # dict[int, ReviewItem]: texts of the first items
    completed = Signal()  # the full id list is known

    BASE_COLUMNS = ("Student", "Skill", "AI level", "Confidence", "Decision")

    def __init__(self, ctx: AppContext, *, prefetch: int = 6) -> None:
        super().__init__()
        self.ctx = ctx
        self.prefetch = prefetch
        self.filter = QueueFilter()
        self._ids: list[int] = []
        self._pos: dict[int, int] = {}
        self._rows: dict[int, QueueRow] = {}
        self._asked: set[int] = set()
        self._gen = 0
        self.complete = False
        self.loading = False
        self._full_seen = False
        self.overlay: dict[int, RowState] = {}

    # -- loading -----------------------------------------------------------------------
    def load(
        self, flt: QueueFilter, *, keep: Collection[int] = (), first_window: bool = True
    ) -> None:
        """Start loading the queue for ``flt`` (``keep``: decided ids to keep listed).

        ``first_window`` shows the first window as soon as it is read (opening the queue,
        changing a filter); without it the current rows stay until the full list is in
        (a refresh after an outside change: no flicker, no lost scroll position).
        """
        self._gen += 1
        gen = self._gen
        # the evidence column comes or goes with the mode: views must hear of it
        regroup = flt.by_document != self.filter.by_document
        if regroup:
            self.beginResetModel()
        self.filter = flt
        if regroup:
            self.endResetModel()
        self.loading = True
        self._full_seen = False
        store = self.ctx.store
        keep = tuple(keep)
        prefetch = self.prefetch

        def first() -> tuple[list[int], dict[int, QueueRow], dict[int, ReviewItem]]:
            with store.read() as conn:
                ids = queue_ids(conn, flt, keep=keep, limit=PAGE)
                return ids, fetch_rows(conn, ids), item_details(conn, ids[:prefetch])

        def full() -> list[int]:
            with store.read() as conn:
                return queue_ids(conn, flt, keep=keep)

        if first_window:
            self.ctx.tasks.read(first, lambda r: self._first_arrived(gen, *r), name="queue-first")
        self.ctx.tasks.read(full, lambda ids: self._full_arrived(gen, ids), name="queue-ids")

    def _first_arrived(
        self, gen: int, ids: list[int], rows: dict[int, QueueRow], items: dict[int, ReviewItem]
    ) -> None:
        if gen != self._gen:
            return
        self._rows.update(rows)
        if not self._full_seen:  # else the full list came first and already holds these
            self._reset(ids, complete=len(ids) < PAGE)
        self.loaded.emit(items)

    def _full_arrived(self, gen: int, ids: list[int]) -> None:
        if gen != self._gen:
            return
        self._full_seen = True
        n = len(self._ids)
        if not self.complete and self._ids == ids[:n]:  # this load's first window: extend
            if len(ids) > n:
                self.beginInsertRows(QModelIndex(), n, len(ids) - 1)
                self._ids = ids
                self._pos.update((aid, i) for i, aid in enumerate(ids[n:], start=n))
                self.endInsertRows()
            self.complete = True
        elif ids != self._ids or not self.complete:
            self._reset(ids, complete=True)
        self.loading = False
        self.completed.emit()

    def _reset(self, ids: list[int], *, complete: bool) -> None:
        self.beginResetModel()
        self._ids = ids
        self._pos = {aid: i for i, aid in enumerate(ids)}
        self._asked = set()
        self.complete = complete
        live = set(ids)
        self.overlay = {k: v for k, v in self.overlay.items() if k in live}
        self.endResetModel()

    def _ensure_page(self, row: int) -> None:
        page = row // PAGE
        if page in self._asked:
            return
        self._asked.add(page)
        gen = self._gen
        ids = self._ids[page * PAGE : (page + 1) * PAGE]
        store = self.ctx.store

        def work() -> dict[int, QueueRow]:
            with store.read() as conn:
                return fetch_rows(conn, ids)

        self.ctx.tasks.read(work, lambda rows: self._page_arrived(gen, page, rows), name="page")

    def _page_arrived(self, gen: int, page: int, rows: dict[int, QueueRow]) -> None:
        if gen != self._gen:
            return
        self._rows.update(rows)
        top = page * PAGE
        bottom = min(len(self._ids), top + PAGE) - 1
        if bottom >= top:
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, self.columnCount() - 1))

    # -- access ------------------------------------------------------------------------
    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, assessment_id: int) -> int | None:
        return self._pos.get(assessment_id)

    def cached_row(self, row: int) -> QueueRow | None:
        aid = self.id_at(row)
        return None if aid is None else self._rows.get(aid)

    def ids(self) -> list[int]:
        return list(self._ids)

    def set_state(self, assessment_id: int, state: RowState | None) -> None:
        if state is None:
            self.overlay.pop(assessment_id, None)
        else:
            self.overlay[assessment_id] = state
        row = self._pos.get(assessment_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def _is_open(self, aid: int, *, skipped: bool) -> bool:
        state = self.overlay.get(aid)
        if state is not None:
            return state.kind == "open" or (skipped and state.kind == "skipped")
        cached = self._rows.get(aid)
        return cached is None or cached.decided_level is None

    def is_open(self, row: int) -> bool:
        """True when the row has no decision (skipped rows count as open)."""
        aid = self.id_at(row)
        return aid is not None and self._is_open(aid, skipped=True)

    def find_open(self, start: int, step: int = 1, *, skipped: bool = False) -> int | None:
        """The nearest row from ``start`` (inclusive, moving by ``step``) without a decision."""
        row = start
        while 0 <= row < len(self._ids):
            if self._is_open(self._ids[row], skipped=skipped):
                return row
            row += step
        return None

    # -- Qt model API --------------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        if self.filter.by_document:
            return ("Evidence", *self.BASE_COLUMNS)
        return self.BASE_COLUMNS

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return str(section + 1)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row_no = index.row()
        aid = self._ids[row_no]
        if role == Qt.ItemDataRole.UserRole:
            return aid
        row = self._rows.get(aid)
        if row is None:
            self._ensure_page(row_no)
            return "…" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        column = self.columns[index.column()]
        state = self.overlay.get(aid)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row_no, row, column, state)
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = _ENTRY_LABEL.get(row.entry_type or "", row.entry_type or "")
            what = f"{kind}, {format_date(row.entry_date)}"
            return f"{row.student_name} · {row.skill_name} ({row.skill_category}) · #{row.id}\n" + (
                f"Evidence: {row.entry_title} ({what})" if row.entry_title else f"Evidence: {what}"
            )
        if role == Qt.ItemDataRole.ForegroundRole:
            decided = (
                state.kind in ("accepted", "corrected") if state is not None else row.decided_level
            )
            if decided:  # decided rows recede; open ones keep the normal text colour
                # the placeholder tone: receding, yet readable (≥ 4.5:1, tested)
                return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
            return None
        if role == Qt.ItemDataRole.FontRole and column == "Evidence":
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == "Confidence":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row_no: int, row: QueueRow, column: str, state: RowState | None) -> str:
        if column == "Student":
            return row.student_name
        if column == "Skill":
            return row.skill_name
        if column == "AI level":
            return row.level
        if column == "Confidence":
            return "" if row.confidence is None else f"{row.confidence:.2f}"
        if column == "Decision":
            if state is not None:
                return state.label()
            return f"decided earlier: {row.decided_level}" if row.decided_level else ""
        if column == "Evidence":
            previous = self.cached_row(row_no - 1) if row_no > 0 else None
            if previous is not None and previous.data_entry_id == row.data_entry_id:
                return ""
            kind = _ENTRY_LABEL.get(row.entry_type or "", row.entry_type or "")
            if row.entry_title:
                return f"{row.entry_title} · {kind}"
            return f"{kind}, {format_date(row.entry_date)}"  # untitled: never its id
        return ""


def fetch_details(
    ctx: AppContext, ids: list[int], on_done: Callable[[dict[int, ReviewItem]], Any]
) -> None:
    """Read the texts of ``ids`` in the background (see :func:`item_details`)."""
    store = ctx.store

    def work() -> dict[int, ReviewItem]:
        with store.read() as conn:
            return item_details(conn, ids)

    ctx.tasks.read(work, on_done, name="details")
