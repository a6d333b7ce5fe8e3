"""The main window: class roster on the left, the selected student's proposals on the right."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent, QPaintEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QTableView,
)

from desktop.tasks import TaskRunner
from sync.local import LocalStore
from sync.queries import StudentSummary, assessment_rows, student_summaries

__all__ = ["MainWindow"]

_Index = QModelIndex | QPersistentModelIndex


class AssessmentTableModel(QAbstractTableModel):
    COLUMNS = (
        ("skill_name", "Skill"),
        ("level", "Level"),
        ("confidence_score", "Confidence"),
        ("corrected", "Reviewed"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        key = self.COLUMNS[index.column()][0]
        value = self.rows[index.row()][key]
        if key == "confidence_score" and value is not None:
            return f"{float(value):.2f}"
        if key == "corrected":
            return "yes" if value else ""
        return value

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section][1]
        return None


class MainWindow(QMainWindow):
    first_paint = Signal()

    def __init__(self, store: LocalStore, *, demo: bool = False) -> None:
        super().__init__()
        self.store = store
        self.tasks = TaskRunner(self)
        self._painted = False
        self.setWindowTitle("Flourish" + (" — demo" if demo else ""))
        self.resize(1100, 700)
        self.roster = QListWidget()
        self.table_model = AssessmentTableModel()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        splitter = QSplitter()
        splitter.addWidget(self.roster)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(1, 3)
        self.setCentralWidget(splitter)
        self.status_label = QLabel("Loading…")
        self.statusBar().addWidget(self.status_label)
        self.roster.currentItemChanged.connect(self._student_selected)
        self.tasks.error.connect(self.status_label.setText)
        self.tasks.run(self._load_students, self._show_students)

    def _load_students(self) -> list[StudentSummary]:
        with self.store.read() as conn:
            return student_summaries(conn)

    def _show_students(self, students: list[StudentSummary]) -> None:
        self.roster.clear()
        for s in students:
            item = QListWidgetItem(f"{s.name}  ({s.pending} to review)")
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            self.roster.addItem(item)
        total = sum(s.pending for s in students)
        self.status_label.setText(f"{len(students)} students · {total} proposals to review")
        if students:
            self.roster.setCurrentRow(0)

    def _student_selected(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        student_id = item.data(Qt.ItemDataRole.UserRole)

        def load() -> list[dict[str, Any]]:
            with self.store.read() as conn:
                return assessment_rows(conn, student_id=student_id, pending=True)

        self.tasks.run(load, self.table_model.set_rows)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_paint.emit()

    def shutdown(self) -> None:
        self.tasks.wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
