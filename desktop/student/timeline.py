"""The evidence timeline of one student: every entry, newest first, filter by type, the full
text of the selected one (read in the background when selected), and the status of each
entry — its proposal count, or "awaiting AI assessment" until the AI pipeline has run.
GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
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
from desktop.review.panes import entry_label
from desktop.student.data import EntrySummary, entry_text
from sync.model.vocab import ENTRY_TYPES

__all__ = ["EvidenceTimeline"]


class EvidenceTimeline(QWidget):
    add_requested = Signal()
    import_requested = Signal()
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
        top.addWidget(self.reassess)
        self.model: RowTableModel[EntrySummary] = RowTableModel(
            [
                Column("Date", lambda e: e.date),
                Column("Type", lambda e: entry_label(e.type)),
                Column("Title", lambda e: e.title),
                Column("AI", lambda e: e.status, tooltip=lambda e: e.status),
            ]
        )
        self.view = QTableView()
        self.view.setObjectName("evidenceTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(self._selected)
        self.text = QPlainTextEdit()
        self.text.setObjectName("evidenceFullText")
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("Select an entry to read it.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.text)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._shown: str | None = None

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
            self.reassess.setEnabled(False)

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = self.model.row(current.row()) if current.isValid() else None
        if entry is None:
            return
        self._shown = entry.id
        self.reassess.setEnabled(True)
        store = self.ctx.store

        def work() -> tuple[str, dict[str, object]]:
            with store.read() as conn:
                return entry_text(conn, entry.id)

        def done(result: tuple[str, dict[str, object]]) -> None:
            if self._shown == entry.id:
                self.text.setPlainText(result[0])

        self.ctx.tasks.read(work, done, name="entry-text")
