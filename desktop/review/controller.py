"""The review flow: current item, decisions, skip, undo, prefetch of the next items.

One decision per keystroke and no wait on the database in the keypress-to-next-item
path: a decision updates the row's overlay at once, queues the write on the single
writer thread (so writes apply in the order they were made) and moves on to the next open
item, whose texts were prefetched (:attr:`prefetch` items ahead). The write's result
arrives later and only clears the "saving" mark; a failed write puts the row back and
shows the error.

Undo (U, Ctrl+Z) keeps :data:`UNDO_DEPTH` decisions, also after moving on: it restores the
decision that existed before (``restore_decision`` with the previous correction, or
clears it). The previous correction is read on the writer thread by the decision itself,
and the undo is queued behind it on the same thread, so it always sees it.

GUI thread only.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.core import ops
from desktop.core.context import ChangeSet
from desktop.review.data import QueueFilter, QueueRow, ReviewItem, progress_counts
from desktop.review.model import ReviewQueueModel, RowState, fetch_details
from sync import actions
from sync.model.records import Correction

__all__ = ["UNDO_DEPTH", "ReviewController"]

UNDO_DEPTH = 100
_CACHE = 400


@dataclass
class _Undo:
    assessment_id: int
    before: RowState | None
    state: RowState
    what: str = ""  # "accepted Collaboration for Pat": what an undo would undo
    previous: Correction | None = None
    written: bool = False  # set on the writer thread once the decision committed


class ReviewController(QObject):
    """Drives a :class:`ReviewQueueModel` (see the module docstring)."""

    current_changed = Signal(int, object)  # row, ReviewItem | None (None: still loading)
    progress_changed = Signal(int, int)  # reviewed today, still pending
    finished_queue = Signal()  # no open item left
    undo_changed = Signal(object)  # what Undo would undo (str) or None
    undone = Signal(str)  # what was just undone

    def __init__(self, model: ReviewQueueModel, *, prefetch: int = 6) -> None:
        super().__init__(model)
        self.model = model
        self.ctx = model.ctx
        self.prefetch = prefetch
        self.row = -1
        self.item: ReviewItem | None = None
        self.details: OrderedDict[int, ReviewItem] = OrderedDict()
        self._fetching: set[int] = set()
        self.undo_stack: deque[_Undo] = deque(maxlen=UNDO_DEPTH)
        self.decided: set[int] = set()
        self.progress: tuple[int, int] | None = None
        self._progress_running = False
        self._progress_dirty = False
        self._want_id: int | None = None
        self._to_first_open = False
        model.loaded.connect(self._loaded)
        model.completed.connect(self._completed)
        model.modelReset.connect(self._after_reset)
        self.ctx.bus.changed.connect(self._changes)

    # -- loading -----------------------------------------------------------------------
    def open(self, flt: QueueFilter | None = None, *, refresh: bool = False) -> None:
        """(Re)load the queue.

        ``refresh`` (an outside change, same filter) keeps the rows on screen until the
        new list is read and the current item current if it is still listed. Otherwise
        (opening the queue, a new filter or mode) the first window shows as soon as it is
        read and the lowest-confidence open item (the first open one) becomes current.
        """
        self._want_id = self.item.row.id if refresh and self.item is not None else None
        self._to_first_open = not refresh
        self.model.load(flt or self.model.filter, keep=self.decided, first_window=not refresh)
        self.refresh_progress()

    def _loaded(self, items: dict[int, ReviewItem]) -> None:
        self._remember(items)
        if self._to_first_open:
            first = self.model.find_open(0)
            if first is not None or self.model.complete:
                self._to_first_open = False
            self.set_row(first if first is not None else 0, force=True)
            if first is None and self.model.complete:
                self.finished_queue.emit()
            return
        wanted = None if self._want_id is None else self.model.row_of(self._want_id)
        if wanted is not None:
            self._want_id = None
            self.set_row(wanted, force=True)
        elif self.row < 0 or self.model.id_at(self.row) is None:
            self.set_row(0 if self.model.rowCount() else -1)

    def _completed(self) -> None:
        if self._to_first_open:
            self._to_first_open = False
            first = self.model.find_open(0)
            self.set_row(first if first is not None else min(0, self.model.rowCount() - 1))
            if first is None:
                self.finished_queue.emit()
            return
        if self._want_id is not None:
            row = self.model.row_of(self._want_id)
            self._want_id = None
            if row is not None:
                self.set_row(row, force=True)
                return
        if self.row < 0 and self.model.rowCount():
            self.set_row(0)
        elif self.model.rowCount() == 0:
            self.set_row(-1)

    def _after_reset(self) -> None:
        self.row = -1

    def _remember(self, items: dict[int, ReviewItem]) -> None:
        for aid, item in items.items():
            self.details[aid] = item
            self.details.move_to_end(aid)
            self._fetching.discard(aid)
        while len(self.details) > _CACHE:
            self.details.popitem(last=False)

    # -- current item ------------------------------------------------------------------
    def set_row(self, row: int, *, force: bool = False) -> None:
        if row == self.row and not force:
            return
        self.row = row
        aid = self.model.id_at(row)
        if aid is None:
            self.item = None
            self.current_changed.emit(-1, None)
            return
        self.item = self.details.get(aid)
        self.current_changed.emit(row, self.item)
        self._prefetch(row)

    def _prefetch(self, row: int) -> None:
        wanted = [
            aid
            for r in range(max(0, row - 1), row + self.prefetch + 1)
            if (aid := self.model.id_at(r)) is not None
            and aid not in self.details
            and aid not in self._fetching
        ]
        if not wanted:
            return
        self._fetching.update(wanted)
        fetch_details(self.ctx, wanted, self._details_arrived)

    def _details_arrived(self, items: dict[int, ReviewItem]) -> None:
        self._remember(items)
        aid = self.model.id_at(self.row)
        if aid is not None and self.item is None and aid in items:
            self.item = items[aid]
            self.current_changed.emit(self.row, self.item)

    def move(self, delta: int) -> None:
        if self.model.rowCount() == 0:
            return
        self.set_row(max(0, min(self.model.rowCount() - 1, self.row + delta)))

    def _advance(self) -> None:
        nxt = self.model.find_open(self.row + 1)
        if nxt is None:
            nxt = self.model.find_open(0)
        if nxt is None:
            nxt = self.model.find_open(0, skipped=True)
        if nxt is None:
            self.finished_queue.emit()
            nxt = min(self.row + 1, self.model.rowCount() - 1)
        self.set_row(nxt)

    # -- decisions ---------------------------------------------------------------------
    def accept(self, *, notes: str | None = None, justification: str | None = None) -> None:
        self._decide(None, notes=notes, justification=justification)

    def correct(
        self, level: str, *, notes: str | None = None, justification: str | None = None
    ) -> None:
        self._decide(level, notes=notes, justification=justification)

    def _decide(self, level: str | None, *, notes: str | None, justification: str | None) -> None:
        aid = self.model.id_at(self.row)
        if aid is None:
            return
        row = self.model.cached_row(self.row)
        if row is not None and actions.is_acceptance(row.level, level):
            level = None
        state = RowState("accepted" if level is None else "corrected", level, saving=True)
        entry = _Undo(aid, self.model.overlay.get(aid), state, _describe(row, level, notes))
        self.model.set_state(aid, state)
        self.undo_stack.append(entry)
        self.undo_changed.emit(entry.what)
        self.decided.add(aid)

        def remember(previous: Correction | None) -> None:  # writer thread: store only
            entry.previous = previous
            entry.written = True

        ops.decide(
            self.ctx,
            assessment_id=aid,
            level=level,
            notes=notes,
            justification=justification,
            remember=remember,
            on_done=lambda _d: self._saved(entry),
            on_error=lambda exc: self._failed(entry, exc),
        )
        self._advance()

    def _saved(self, entry: _Undo) -> None:
        if self.model.overlay.get(entry.assessment_id) is entry.state:
            done = RowState(entry.state.kind, entry.state.level)
            entry.state = done
            self.model.set_state(entry.assessment_id, done)

    def _failed(self, entry: _Undo, exc: BaseException) -> None:
        if entry in self.undo_stack:
            self.undo_stack.remove(entry)
            self.undo_changed.emit(self.undo_text())
        if self.model.overlay.get(entry.assessment_id) is entry.state:
            self.model.set_state(entry.assessment_id, entry.before)
        self.ctx.tasks.error.emit(exc)

    def skip(self) -> None:
        aid = self.model.id_at(self.row)
        if aid is None:
            return
        if self.model.is_open(self.row):
            self.model.set_state(aid, RowState("skipped"))
        self._advance()

    def undo(self) -> bool:
        """Undo the most recent decision still on the stack; False when there is none."""
        if not self.undo_stack:
            return False
        entry = self.undo_stack.pop()
        self.undone.emit(entry.what)
        self.undo_changed.emit(self.undo_text())
        aid = entry.assessment_id
        self.model.set_state(aid, entry.before or RowState("open"))
        if entry.before is None:
            self.decided.discard(aid)
        self.details.pop(aid, None)  # its decision changed: re-read when shown
        ops.restore_decision(
            self.ctx,
            assessment_id=aid,
            previous=lambda: entry.previous,
            skip=lambda: not entry.written,
            on_error=lambda exc: self.ctx.tasks.error.emit(exc),
        )
        row = self.model.row_of(aid)
        if row is not None:
            self.set_row(row, force=True)
        return True

    def undo_text(self) -> str | None:
        """What an undo would undo now, or None."""
        return self.undo_stack[-1].what if self.undo_stack else None

    # -- progress and outside changes ------------------------------------------------
    def refresh_progress(self) -> None:
        if self._progress_running:
            self._progress_dirty = True
            return
        self._progress_running = True
        store, teacher = self.ctx.store, self.ctx.teacher_id

        def work() -> tuple[int, int]:
            with store.read() as conn:
                return progress_counts(conn, teacher_id=teacher)

        def done(counts: tuple[int, int]) -> None:
            self._progress_running = False
            self.progress = counts
            self.progress_changed.emit(*counts)
            if self._progress_dirty:
                self._progress_dirty = False
                self.refresh_progress()

        def failed(exc: BaseException) -> None:
            self._progress_running = False

        self.ctx.tasks.read(work, done, failed, name="progress")

    def _changes(self, change: ChangeSet) -> None:
        if not change.touches("assessments", "teacher_corrections", "data_entries", "students"):
            return
        self.refresh_progress()
        if change.source == "review":
            return  # our own decisions are already in the overlay
        self.details.clear()
        self._fetching.clear()
        if change.touches("assessments", "teacher_corrections", "students"):
            self.open(refresh=True)


def _describe(row: QueueRow | None, level: str | None, notes: str | None) -> str:
    """ "accepted Collaboration for Pat" / "corrected … to Proficient" (for Undo)."""
    if row is None:
        return "the last decision"
    what = f"{row.skill_name} for {row.student_name}"
    if level is not None:
        return f"corrected {what} to {level}"
    return f"accepted {what}" + (" with notes" if notes else "")
