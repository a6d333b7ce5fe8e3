"""The conflicts panel: changes that lost a timestamp conflict, side by side with the
version that won, and the teacher's way out — re-apply theirs, or dismiss.

Rows come from the local ``sync_conflicts`` table (pulled from the server) through
:func:`sync.model.queries.conflict_rows`; re-apply and dismiss are
:func:`sync.actions.conflicts.reapply` and :func:`sync.actions.conflicts.dismiss` on the
writer thread, so the resolution is queued for sync like any other change. GUI thread only.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext, ChangeSet
from desktop.core.ops import run_action
from desktop.core.theme import is_dark
from desktop.core.widgets import Column, RowTableModel
from desktop.core.wording import format_date, format_time

__all__ = ["ComparisonModel", "ConflictsPanel"]

_Index = QModelIndex | QPersistentModelIndex
_HIDDEN = {"id", "sync_hlc", "sync_origin", "sync_version", "sync_txid", "modified_at"}
_TABLE_NAMES = {
    "teacher_corrections": "Decision on a proposal",
    "skill_targets": "Target",
    "badges": "Badge",
    "data_entries": "Evidence",
    "assessments": "AI proposal",
    "students": "Student",
}
_KINDS = {
    "stale_write": "a newer change won",
    "natural_key": "two decisions for one item",
    "deleted_row": "the row was deleted",
    "human_decision": "a teacher's decision was kept",
}


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _kinds(table: str | None) -> dict[str, str]:
    """The columns of ``table`` that need reading as booleans, times or JSON."""
    if not table:
        return {}
    from sqlalchemy import JSON, Boolean, Date, DateTime

    from sync.model.tables import LOCAL

    try:
        columns = LOCAL.table(table).columns
    except KeyError:
        return {}
    kinds = {}
    for col in columns:
        for kind, types in (
            ("bool", Boolean),
            ("time", DateTime),
            ("date", Date),
            ("json", JSON),
        ):
            if isinstance(col.type, types):
                kinds[col.name] = kind
                break
    return kinds


#: Fields that hold a person's id: shown by name where this laptop knows it.
_PEOPLE = {"corrected_by": "teachers", "granted_by": "teachers", "teacher_id": "teachers"}
_PEOPLE_STUDENTS = {"student_id"}


def _value(value: Any, kind: str | None = None) -> str:
    """A field's value as the teacher reads it: one word for each truth value whether the
    laptop (1) or the server (true) sent it, local time to the second, JSON parsed, so that
    two versions that mean the same read the same."""
    if value is None:
        return "—"
    if kind == "json" and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if kind == "bool" or isinstance(value, bool):
        if isinstance(value, str):
            value = value.strip().lower() in ("1", "true", "t", "yes")
        return "yes" if value else "no"
    if kind == "time":
        return format_time(value, seconds=True)
    if kind == "date":
        return format_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


class ComparisonModel(QAbstractTableModel):
    """Field | your version (lost) | the version kept; differing rows highlighted."""

    HEADERS = ("Field", "Your version (lost)", "Version kept")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str, str, bool]] = []

    def set_versions(
        self,
        losing: dict[str, Any] | None,
        winning: dict[str, Any] | None,
        table: str | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        """Show two versions of a row of ``table`` (its column types say how values read;
        rows differ only where what the teacher reads differs); ``names``: people's names
        by id, for the fields that hold a teacher's or a student's id."""
        losing, winning = losing or {}, winning or {}
        kinds, names = _kinds(table), names or {}
        fields = [f for f in dict.fromkeys([*losing, *winning]) if f not in _HIDDEN]

        def shown(f: str, value: Any) -> str:
            if (f in _PEOPLE or f in _PEOPLE_STUDENTS) and str(value) in names:
                return names[str(value)]
            return _value(value, kinds.get(f))

        rows = []
        for f in fields:
            a = shown(f, losing.get(f))
            b = shown(f, winning.get(f)) if winning else "(deleted)"
            rows.append((_label(f), a, b, a != b))
        rows.sort(key=lambda r: not r[3])  # differences first
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and row[3] and index.column() > 0:
            return QColor("#5c4a12") if is_dark() else QColor("#fff3bf")
        if role == Qt.ItemDataRole.FontRole and row[3]:
            font = QFont()
            font.setBold(True)
            return font
        return None


class ConflictsPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictsPanel")
        self.ctx = ctx
        self.intro = QLabel(
            "When two changes to the same item meet, the newer one is kept and the other is "
            "listed here. Re-apply yours to make it the newest, or dismiss it."
        )
        self.intro.setWordWrap(True)
        self.show_resolved = QCheckBox("Show resolved")
        self.show_resolved.toggled.connect(self.refresh)
        self.model: RowTableModel[dict[str, Any]] = RowTableModel(
            [
                Column("When", lambda r: format_time(r.get("created_at"))),
                Column("What", lambda r: _TABLE_NAMES.get(r["table_name"], r["table_name"])),
                Column("About", lambda r: r.get("subject") or r.get("student_id") or ""),
                Column(
                    "Why",
                    lambda r: _KINDS.get(r["kind"], r["kind"]),
                    tooltip=lambda r: str(r.get("reason") or ""),
                ),
                Column("Resolution", lambda r: r.get("resolution") or "open"),
            ]
        )
        self.list = QTableView()
        self.list.setObjectName("conflictList")
        self.list.setAccessibleName("Conflicts")
        self.list.setModel(self.model)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.verticalHeader().hide()
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.list.horizontalHeader().setStretchLastSection(True)
        self.list.selectionModel().currentRowChanged.connect(self._selected)
        self.compare = ComparisonModel()
        self.compare_view = QTableView()
        self.compare_view.setObjectName("conflictCompare")
        self.compare_view.setAccessibleName("Your version and the version that won")
        self.compare_view.setModel(self.compare)
        self.compare_view.verticalHeader().hide()
        self.compare_view.setWordWrap(True)
        header = self.compare_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(Qt.TextFormat.RichText)
        self.reapply_button = QPushButton("Re-apply my version")
        self.dismiss_button = QPushButton("Dismiss")
        self.reapply_button.clicked.connect(self.reapply)
        self.dismiss_button.clicked.connect(self.dismiss)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reason, 1)
        buttons.addWidget(self.dismiss_button)
        buttons.addWidget(self.reapply_button)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.compare_view, 1)
        bl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        top = QHBoxLayout()
        top.addWidget(self.intro, 1)
        top.addWidget(self.show_resolved)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.loaded_once = False
        self._update_buttons()
        ctx.bus.changed.connect(self._changes)

    def refresh(self) -> None:
        store, unresolved = self.ctx.store, not self.show_resolved.isChecked()

        def work() -> list[dict[str, Any]]:
            from sync.model.queries import conflict_rows

            with store.read() as conn:
                rows = conflict_rows(conn, unresolved_only=unresolved)
                names = {
                    str(i): str(n)
                    for i, n in conn.exec_driver_sql(
                        "SELECT id, name FROM teachers UNION ALL SELECT id, name FROM students"
                    )
                    if n
                }
                for row in rows:
                    row["subject"] = describe_subject(conn, row)
                    row["names"] = names
                return rows

        self.ctx.tasks.read(work, self._loaded, name="conflicts")

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        self.loaded_once = True
        current = self.current()
        self.model.set_rows(rows)
        target = 0
        if current is not None:
            target = next((i for i, r in enumerate(rows) if r["id"] == current["id"]), 0)
        if rows:
            self.list.selectRow(target)
        else:
            self.compare.set_versions({}, {})
            self.reason.setText("No conflicts.")
        self._update_buttons()

    def _changes(self, change: ChangeSet) -> None:
        if self.loaded_once and change.touches("sync_conflicts"):
            self.refresh()

    def current(self) -> dict[str, Any] | None:
        index = self.list.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row(current.row()) if current.isValid() else None
        if row is None:
            return
        self.compare.set_versions(
            row.get("losing_row"),
            row.get("winning_row"),
            row.get("table_name"),
            row.get("names"),
        )
        self.compare_view.resizeRowsToContents()
        what = _TABLE_NAMES.get(row["table_name"], row["table_name"])
        subject = escape(str(row.get("subject") or ""))
        self.reason.setText(
            f"<b>{escape(what)}: {subject}</b><br>{escape(str(row.get('reason') or ''))}"
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.current()
        open_ = row is not None and row.get("resolution") is None
        self.reapply_button.setEnabled(open_)
        self.dismiss_button.setEnabled(open_)

    def reapply(self) -> None:
        row = self.current()
        if row is None:
            return
        from sync.actions.conflicts import reapply

        cid, teacher = int(row["id"]), self.ctx.teacher_id or ""
        self.reapply_button.setEnabled(False)
        run_action(
            self.ctx,
            lambda: reapply(self.ctx.store, conflict_id=cid, teacher_id=teacher),
            source="conflicts",
            name="reapply",
            on_error=self._failed,
        )

    def dismiss(self) -> None:
        row = self.current()
        if row is None:
            return
        from sync.actions.conflicts import dismiss

        cid = int(row["id"])
        self.dismiss_button.setEnabled(False)
        run_action(
            self.ctx,
            lambda: dismiss(self.ctx.store, conflict_id=cid),
            source="conflicts",
            name="dismiss",
            on_error=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self._update_buttons()
        self.ctx.tasks.error.emit(exc)


def describe_subject(conn: Any, row: dict[str, Any]) -> str:
    """Who and what a conflict is about, in words (worker thread)."""
    version = row.get("losing_row") or row.get("winning_row") or {}
    student = row.get("student_id") or version.get("student_id")
    name = None
    if student:
        found = conn.exec_driver_sql("SELECT name FROM students WHERE id = ?", (student,)).first()
        name = found[0] if found else student
    aid = version.get("assessment_id")
    if aid is not None:
        found = conn.exec_driver_sql(
            "SELECT s.name, a.skill_name, a.level FROM assessments a "
            "JOIN students s ON s.id = a.student_id WHERE a.id = ?",
            (aid,),
        ).first()
        if found:
            return f"{found[0]} · {found[1]} (AI proposed {found[2]})"
    skill = version.get("skill_name")
    parts = [p for p in (name, skill) if p]
    return " · ".join(parts)
