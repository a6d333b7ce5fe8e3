"""The review queue screen: filters, the queue table, the proposal beside its evidence.

Keys (also listed in Help ▸ Keyboard shortcuts): A or Enter accept · 1–4 correct to that
level (inline editor, Enter confirms) · N notes · S skip · U or Ctrl+Z undo · J/K or the
arrow keys move. The table hands these keys to the panel before its own type-ahead
search, and the editor's line edits keep letters for typing.

GUI thread only; all reading and writing goes through the controller's background tasks.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.widgets import ChoiceModel, combo_value
from desktop.review.controller import ReviewController
from desktop.review.data import BANDS, QueueFilter, ReviewItem
from desktop.review.model import ReviewQueueModel
from desktop.review.panes import CorrectionEditor, EvidencePane, ProposalPane
from sync.model.vocab import LEVELS

__all__ = ["ReviewPanel"]

_CATEGORIES = (("SEL", "SEL"), ("Executive function", "EF"), ("21st century", "21st_Century"))
HINTS = "A/Enter accept · 1–4 correct · N notes · S skip · U/Ctrl+Z undo · J/K or ↑/↓ move"


class _QueueTable(QTableView):
    """The queue table: review keys go to the panel, not to type-ahead search."""

    review_key = Signal(QKeyEvent)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if ReviewPanel.is_review_key(event):
            self.review_key.emit(event)
            event.accept()
            return
        super().keyPressEvent(event)


class ReviewPanel(QWidget):
    """Everything on the review tab (see the module docstring)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.ctx = ctx
        self.model = ReviewQueueModel(ctx)
        self.controller = ReviewController(self.model)
        self._syncing_selection = False
        self.started = False

        self.student_box = QComboBox()
        self.student_choices = ChoiceModel([("All students", None)])
        self.student_box.setModel(self.student_choices)
        self.skill_box = QComboBox()
        self.skill_box.setModel(
            ChoiceModel([("All skills", None)] + [(n, n) for n in ctx.curriculum.skill_names])
        )
        self.category_box = QComboBox()
        self.category_box.setModel(ChoiceModel([("All categories", None), *_CATEGORIES]))
        self.band_box = QComboBox()
        self.band_box.setModel(
            ChoiceModel([("Any confidence", None)] + [(f"Confidence {b}", b) for b in BANDS])
        )
        self.by_document = QCheckBox("By evidence document")
        self.by_document.setToolTip(
            "Read each transcript once and decide every proposal it supports (Ctrl+D)"
        )
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("reviewProgress")
        filters = QHBoxLayout()
        for w in (self.student_box, self.skill_box, self.category_box, self.band_box):
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            w.setMinimumWidth(w.fontMetrics().averageCharWidth() * 10)  # shrinks if it must
            filters.addWidget(w)
            w.currentIndexChanged.connect(self.apply_filters)
        filters.addWidget(self.by_document)
        filters.addStretch(1)
        self.by_document.toggled.connect(self.apply_filters)

        self.table = _QueueTable()
        self.table.setObjectName("reviewTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.table.review_key.connect(self.handle_key)
        self.table.selectionModel().currentRowChanged.connect(self._row_clicked)

        self.proposal = ProposalPane()
        self.editor = CorrectionEditor()
        self.editor.confirmed.connect(self._editor_confirmed)
        self.editor.cancelled.connect(self._editor_closed)
        proposal_box = QWidget()
        pl = QVBoxLayout(proposal_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.proposal, 1)
        pl.addWidget(self.editor)
        self.evidence = EvidencePane()
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(proposal_box)
        bottom.addWidget(self.evidence)
        bottom.setStretchFactor(0, 2)
        bottom.setStretchFactor(1, 3)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("reviewSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        hints = QLabel(HINTS)
        hints.setObjectName("reviewHints")
        hints.setEnabled(False)
        hints.setWordWrap(True)

        bottom_row = QHBoxLayout()
        bottom_row.addWidget(hints, 1)
        bottom_row.addWidget(self.progress_label)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom_row)
        self.setFocusProxy(self.table)

        self.controller.current_changed.connect(self._show_current)
        self.controller.progress_changed.connect(self._show_progress)
        self.model.modelReset.connect(self._columns_changed)
        self._columns_changed()  # the first rows may arrive as an insert, not a reset

    # -- filters -----------------------------------------------------------------------
    def set_students(self, students: list[tuple[str, str]]) -> None:
        """(name, id) pairs for the student filter (kept selection when possible)."""
        current = combo_value(self.student_box)
        self.student_box.blockSignals(True)
        self.student_choices.set_choices([("All students", None), *students])
        index = self.student_box.findData(current, Qt.ItemDataRole.UserRole)
        self.student_box.setCurrentIndex(max(0, index))
        self.student_box.blockSignals(False)

    def current_filter(self) -> QueueFilter:
        return QueueFilter(
            student_id=combo_value(self.student_box),
            skill_name=combo_value(self.skill_box),
            category=combo_value(self.category_box),
            band=combo_value(self.band_box),
            by_document=self.by_document.isChecked(),
        )

    def start(self) -> None:
        """Load the queue (first time the tab is shown, or on demand)."""
        self.started = True
        self.controller.open(self.current_filter())

    def apply_filters(self) -> None:
        if self.started:
            self.controller.open(self.current_filter())

    def _columns_changed(self) -> None:
        header = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        samples = {
            "Evidence": "Percent Discounts with Tape Diagrams (Peer tutoring)",
            "Student": "Student name here",
            "Skill": "Responsible Decision-Making",
            "AI level": "Developing",
            "Confidence": "Confidence",
            "Decision": "decided earlier: Proficient",
        }
        pad = fm.averageCharWidth() * 3
        stretch = "Evidence" if "Evidence" in self.model.columns else "Skill"
        for col, title in enumerate(self.model.columns):
            if title == stretch:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            if title in samples:
                width = max(fm.horizontalAdvance(samples[title]), fm.horizontalAdvance(title))
                header.resizeSection(col, width + pad)

    # -- current item ------------------------------------------------------------------
    def _row_clicked(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._syncing_selection and current.isValid():
            self.controller.set_row(current.row())

    def _show_current(self, row: int, item: ReviewItem | None) -> None:
        if row >= 0:
            index = self.model.index(row, 0)
            self._syncing_selection = True
            self.table.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(index)
            self._syncing_selection = False
        aid = self.model.id_at(row)
        state = None if aid is None else self.model.overlay.get(aid)
        self.proposal.show_item(item, state, loading=row >= 0 and item is None)
        self.evidence.show_item(item, by_document=self.model.filter.by_document)

    def _show_progress(self, reviewed: int, pending: int) -> None:
        self.progress_label.setText(f"{reviewed} of {reviewed + pending} reviewed today")

    # -- keys --------------------------------------------------------------------------
    @staticmethod
    def is_review_key(event: QKeyEvent) -> bool:
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return False
        return event.key() in _KEYS

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.is_review_key(event) and not self.editor.isVisible():
            self.handle_key(event)
            return
        super().keyPressEvent(event)

    def handle_key(self, event: QKeyEvent) -> None:
        if self.editor.isVisible():
            return
        key = event.key()
        c = self.controller
        if key in (Qt.Key.Key_A, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            c.accept()
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_4:
            self.open_editor(LEVELS[key - Qt.Key.Key_1])
        elif key == Qt.Key.Key_N:
            self.open_editor(None)
        elif key == Qt.Key.Key_S:
            c.skip()
        elif key == Qt.Key.Key_U:
            self.undo()
        elif key in (Qt.Key.Key_J, Qt.Key.Key_Down):
            c.move(1)
        elif key in (Qt.Key.Key_K, Qt.Key.Key_Up):
            c.move(-1)

    def undo(self) -> bool:
        self.editor.cancel()
        done = self.controller.undo()
        self.table.setFocus()
        return done

    def open_editor(self, level: str | None) -> None:
        item = self.controller.item
        row = self.model.cached_row(self.controller.row)
        if row is None:
            return
        notes = ""
        if item is not None and item.decision is not None:
            notes = item.decision.teacher_notes or ""
            level = level or item.decision.corrected_level
        self.editor.open_for(level or row.level, notes=notes)

    def _editor_confirmed(self, level: str, notes: str, justification: str) -> None:
        self.controller.correct(level, notes=notes or None, justification=justification or None)
        self._editor_closed()

    def _editor_closed(self) -> None:
        self.table.setFocus()


_KEYS = frozenset(
    {
        Qt.Key.Key_A,
        Qt.Key.Key_Return,
        Qt.Key.Key_Enter,
        Qt.Key.Key_1,
        Qt.Key.Key_2,
        Qt.Key.Key_3,
        Qt.Key.Key_4,
        Qt.Key.Key_N,
        Qt.Key.Key_S,
        Qt.Key.Key_U,
        Qt.Key.Key_J,
        Qt.Key.Key_K,
        Qt.Key.Key_Down,
        Qt.Key.Key_Up,
    }
)
