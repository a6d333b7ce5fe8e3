"""The review queue screen: filters, the queue table, the proposal beside its evidence.

Keys (also listed in Help ▸ Keyboard shortcuts): A or Enter accept · 1–4 correct to that
level (inline editor, Enter confirms) · N notes · S skip · U or Ctrl+Z undo · J/K or the
arrow keys move. The same choices are buttons under the queue and a context menu on its
rows (:mod:`desktop.review.buttons`). The keys act on the queue wherever the focus is in
the panel — the table, a filter box, a button, the evidence text — except in a text
field: the editor's line edits keep letters for typing, a filter box keeps its arrow keys.

GUI thread only; all reading and writing goes through the controller's background tasks.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.widgets import ChoiceModel, combo_value
from desktop.review.buttons import DecisionBar, DoneBanner, build_row_menu
from desktop.review.controller import ReviewController
from desktop.review.data import BANDS, QueueFilter, ReviewItem
from desktop.review.model import ReviewQueueModel
from desktop.review.panes import CorrectionEditor, EvidencePane, ProposalPane
from sync.model.vocab import LEVELS

__all__ = ["ReviewPanel"]

_CATEGORIES = (("SEL", "SEL"), ("Executive function", "EF"), ("21st century", "21st_Century"))
HINTS = "A/Enter accept · 1–4 correct · N notes · S skip · U/Ctrl+Z undo · J/K or ↑/↓ move"
MOVE_HINT = "J/K or ↑/↓ move · right-click a row for its choices · F1 all keys"


class _QueueTable(QTableView):
    """The queue table: review keys go to the panel, not to type-ahead search; the
    current row stays in view when the table is resized."""

    review_key = Signal(QKeyEvent)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if ReviewPanel.is_review_key(event):
            self.review_key.emit(event)
            event.accept()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        current = self.currentIndex()
        if current.isValid():
            self.scrollTo(current, QAbstractItemView.ScrollHint.EnsureVisible)


class _KeysToQueue(QObject):
    """Event filter: review keys pressed on the panel's other widgets act on the queue.

    A filter box would otherwise take "A" as "All skills" and "S" as "Self-Awareness";
    its arrow keys stay its own (that is how a keyboard user changes a filter), and so
    do the evidence text's. Text fields are never filtered.
    """

    def __init__(self, panel: ReviewPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if isinstance(watched, QLineEdit) or not ReviewPanel.is_review_key(event):
            return False
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not isinstance(watched, QPushButton):
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and isinstance(watched, QPushButton):
            return False  # Enter clicks the focused button
        if isinstance(watched, QComboBox) and watched.view().isVisible():
            return False  # the open list keeps its keys
        if self.panel.editor.isVisible():
            return False
        self.panel.handle_key(event)
        return True


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
        self.decisions = DecisionBar()
        self.decisions.chosen.connect(self.choose)
        self.done_banner = DoneBanner()
        self.done_banner.clear_filters.connect(self.clear_filters)
        hints = QLabel(MOVE_HINT)
        hints.setObjectName("reviewHints")  # normal text colour: readable in both palettes
        hints.setWordWrap(True)
        self.notice = QLabel("")
        self.notice.setObjectName("reviewNotice")
        self.notice.setAccessibleName("Last review action")

        bottom_row = QHBoxLayout()
        bottom_row.addWidget(hints, 1)
        bottom_row.addWidget(self.notice)
        bottom_row.addWidget(self.progress_label)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.done_banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.decisions)
        layout.addLayout(bottom_row)
        self.setFocusProxy(self.table)

        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._row_menu)
        self.row_menu: QMenu | None = None
        self._keys = _KeysToQueue(self)
        watched: tuple[QWidget, ...] = (
            self.student_box,
            self.skill_box,
            self.category_box,
            self.band_box,
            self.by_document,
            self.evidence.text,
            *self.decisions.buttons.values(),
        )
        for widget in watched:
            widget.installEventFilter(self._keys)
        self._name_widgets()

        self.controller.current_changed.connect(self._show_current)
        self.controller.progress_changed.connect(self._show_progress)
        self.controller.undo_changed.connect(self.decisions.set_undo)
        self.controller.undone.connect(lambda what: self.notice.setText(f"Undone: {what}"))
        self.controller.finished_queue.connect(self._finished)
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
        self.done_banner.hide()
        if self.started:
            self.controller.open(self.current_filter())

    def filtered(self) -> bool:
        f = self.current_filter()
        return any(v is not None for v in (f.student_id, f.skill_name, f.category, f.band))

    def clear_filters(self) -> None:
        for box in (self.student_box, self.skill_box, self.category_box, self.band_box):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.apply_filters()
        self.table.setFocus()

    def _finished(self) -> None:
        pending = None if self.controller.progress is None else self.controller.progress[1]
        self.done_banner.show_done(filtered=self.filtered(), pending=pending)

    def _name_widgets(self) -> None:
        """Accessible names for the controls that show no label of their own."""
        for box, name in (
            (self.student_box, "Student filter"),
            (self.skill_box, "Skill filter"),
            (self.category_box, "Skill category filter"),
            (self.band_box, "Confidence filter"),
        ):
            box.setAccessibleName(name)
            box.setToolTip(name)
        self.table.setAccessibleName("Review queue")
        self.table.setAccessibleDescription(
            "Proposals waiting for your decision, lowest confidence first"
        )
        self.evidence.text.setAccessibleName("Evidence text")
        self.proposal.setAccessibleName("AI proposal")

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
        self.decisions.set_decidable(aid is not None)
        if aid is not None and self.model.is_open(row):
            self.done_banner.hide()
        self.proposal.show_item(item, state, loading=row >= 0 and item is None)
        self.evidence.show_item(item, by_document=self.model.filter.by_document)

    def _show_progress(self, reviewed: int, pending: int) -> None:
        self.progress_label.setText(f"{reviewed} of {reviewed + pending} reviewed today")
        if self.done_banner.isVisible():  # the count it shows was read before the writes
            self._finished()

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
        if not done:
            self.notice.setText("Nothing to undo")
        self.done_banner.hide()
        self.table.setFocus()
        return done

    def choose(self, choice: str) -> None:
        """A decision button or menu entry: the same as its key."""
        if self.editor.isVisible() and choice != "undo":
            self.editor.cancel()
        if choice == "accept":
            self.controller.accept()
        elif choice in LEVELS:
            self.open_editor(choice)
        elif choice == "notes":
            self.open_editor(None)
        elif choice == "skip":
            self.controller.skip()
        elif choice == "undo":
            self.undo()
        if not self.editor.isVisible():
            self.table.setFocus()

    def _row_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.controller.set_row(index.row())
        menu = build_row_menu(
            self,
            undo_text=self.controller.undo_text(),
            decidable=self.model.id_at(index.row()) is not None,
        )
        menu.triggered.connect(lambda action: self.choose(str(action.data())))
        self.row_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(pos))

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
