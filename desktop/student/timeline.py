"""The evidence timeline of one student: every entry, newest first, filter by type, the full
text of the selected one (read in the background when selected), and the status of each
entry — its proposal count, or "awaiting AI assessment" until the AI pipeline has run.
GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.widgets import ChoiceModel, Column, RowTableModel, combo_value
from desktop.core.wording import format_date
from desktop.review.panes import entry_label
from desktop.student.data import EntrySummary, entry_text
from sync.model.vocab import ENTRY_TYPES

__all__ = ["EvidenceTimeline"]


class _Reader(QPlainTextEdit):
    """The entry's text with its buttons in a strip under it, inside the frame (so the
    buttons cost no height of their own on a small screen)."""

    def set_buttons(self, *buttons: QPushButton) -> None:
        self._buttons = buttons
        for button in buttons:
            button.setParent(self)
        height = max(b.sizeHint().height() for b in buttons)
        self.setViewportMargins(0, 0, 0, height + 4)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rect = self.contentsRect()
        bar = self.verticalScrollBar()
        right = rect.right() - 2 - (bar.width() if bar.isVisible() else 0)
        for button in reversed(getattr(self, "_buttons", ())):
            hint = button.sizeHint()
            button.setGeometry(
                right - hint.width(), rect.bottom() - hint.height() - 1, hint.width(), hint.height()
            )
            right -= hint.width() + 6


class EvidenceTimeline(QWidget):
    add_requested = Signal()
    import_requested = Signal()
    assess_requested = Signal(str)  # entry id: the teacher assesses it
    reassess_requested = Signal(str)  # an entry id: assess it again with the current model

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entries: list[EntrySummary] = []
        self.type_box = QComboBox()
        self.type_box.setModel(
            ChoiceModel([("All types", None)] + [(entry_label(t), t) for t in ENTRY_TYPES])
        )
        self.type_box.currentIndexChanged.connect(self._filter)
        add = QPushButton("Write observation…")
        add.clicked.connect(self.add_requested)
        imp = QPushButton("Import files…")
        imp.clicked.connect(self.import_requested)
        self.assess_button = QPushButton("Assess it yourself…")
        self.assess_button.setObjectName("assessYourselfButton")
        self.assess_button.setToolTip(
            "Record a level from the selected evidence yourself: skill, level and a quote"
        )
        self.assess_button.setEnabled(False)
        self.assess_button.clicked.connect(self._assess)
        self.type_box.setAccessibleName("Evidence type filter")
        self.reassess = QPushButton("Re-assess this entry")
        self.reassess.setObjectName("reassessButton")
        self.reassess.setAccessibleName("Re-assess this entry")
        self.reassess.setToolTip(
            "Ask the AI about the selected entry again (skills it already has a proposal "
            "for keep theirs)"
        )
        self.reassess.setEnabled(False)
        self.reassess.clicked.connect(self._reassess)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.type_box)
        top.addStretch(1)
        top.addWidget(add)
        top.addWidget(imp)
        self.model: RowTableModel[EntrySummary] = RowTableModel(
            [
                Column("Date", lambda e: format_date(e.date)),
                Column("Type", lambda e: entry_label(e.type)),
                Column("Title", lambda e: e.title, tooltip=lambda e: e.title),
                Column("AI", lambda e: e.status, tooltip=lambda e: e.status),
            ]
        )
        self.view = QTableView()
        self.view.setObjectName("evidenceTable")
        self.view.setAccessibleName("Evidence entries")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(self._selected)
        self.text = _Reader()
        self.text.setObjectName("evidenceFullText")
        self.text.setAccessibleName("Evidence text")
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("Select an entry to read it.")
        self.text.set_buttons(self.reassess, self.assess_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.text)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        rows = self.view.verticalHeader().defaultSectionSize()
        split.setSizes([rows * 7, rows * 5])  # about six entries in view at 1280x720
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._shown: str | None = None

    def _assess(self) -> None:
        if self._shown is not None:
            self.assess_requested.emit(self._shown)

    def _reassess(self) -> None:
        if self._shown:
            self.reassess_requested.emit(self._shown)

    def set_entries(self, entries: list[EntrySummary]) -> None:
        self.entries = entries
        self._filter()

    def _filter(self) -> None:
        kind = combo_value(self.type_box)
        rows = [e for e in self.entries if kind is None or e.type == kind]
        self.model.set_rows(rows)
        if self._shown and not any(e.id == self._shown for e in rows):
            self.text.clear()
            self._shown = None
        self.assess_button.setEnabled(self._shown is not None)
        self.reassess.setEnabled(self._shown is not None)

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = self.model.row(current.row()) if current.isValid() else None
        if entry is None:
            return
        self._shown = entry.id
        self.assess_button.setEnabled(True)
        self.reassess.setEnabled(True)
        store = self.ctx.store

        def work() -> tuple[str, dict[str, object]]:
            with store.read() as conn:
                return entry_text(conn, entry.id)

        def done(result: tuple[str, dict[str, object]]) -> None:
            if self._shown == entry.id:
                self.text.setPlainText(result[0])

        self.ctx.tasks.read(work, done, name="entry-text")
