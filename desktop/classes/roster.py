"""The class roster: every student in the store with their pending-review count.

:class:`RosterModel` is a list model filled from one background read
(:func:`sync.model.queries.student_summaries`), re-read when a change touches students,
assessments or decisions. :class:`RosterDelegate` paints the name, grade and a count pill.
GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext, ChangeSet
from desktop.core.tasks import LatestRead
from desktop.core.widgets import draw_item_frame
from sync.model.queries import StudentSummary, student_summaries

__all__ = ["RosterModel", "RosterPanel"]

_Index = QModelIndex | QPersistentModelIndex
StudentRole = Qt.ItemDataRole.UserRole
PendingRole = Qt.ItemDataRole.UserRole + 1
GradeRole = Qt.ItemDataRole.UserRole + 2


class RosterModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.students: list[StudentSummary] = []

    def set_students(self, students: list[StudentSummary]) -> None:
        self.beginResetModel()
        self.students = students
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.students)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.students[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return s.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{s.name} ({s.id}), grade {s.grade}: {s.pending} proposals to review"
        if role == StudentRole:
            return s.id
        if role == PendingRole:
            return s.pending
        if role == GradeRole:
            return s.grade
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{s.name}, {s.pending} to review"
        return None

    def row_of(self, student_id: str) -> int | None:
        for i, s in enumerate(self.students):
            if s.id == student_id:
                return i
        return None


class RosterDelegate(QStyledItemDelegate):
    """Name over "grade · id", pending count as a pill on the right."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        fm = option.fontMetrics
        return QSize(fm.averageCharWidth() * 24, fm.height() * 2 + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = draw_item_frame(self, painter, option, index)
        rect: QRect = opt.rect
        pal: QPalette = opt.palette
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        fm = opt.fontMetrics
        pad = 8
        painter.save()
        pending = int(index.data(PendingRole) or 0)
        pill_w = 0
        if pending:
            text = str(pending)
            pill_w = fm.horizontalAdvance(text) + 14
            pill = QRect(
                rect.right() - pad - pill_w,
                rect.center().y() - fm.height() // 2 - 2,
                pill_w,
                fm.height() + 4,
            )
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(
                pal.color(
                    QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
                )
            )
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.setPen(
                pal.color(
                    QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.HighlightedText
                )
            )
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        text_rect = rect.adjusted(pad, 4, -(pad * 2 + pill_w), -4)
        font = QFont(opt.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(pal.color(role))
        name = fm.elidedText(str(index.data()), Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, name)
        painter.setFont(opt.font)
        sub = f"Grade {index.data(GradeRole)} · {index.data(StudentRole)}"
        if not pending:
            sub += " · all reviewed"
        painter.setPen(
            pal.color(QPalette.ColorRole.PlaceholderText) if not selected else pal.color(role)
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft, sub)
        painter.restore()


class RosterPanel(QWidget):
    """Search box over the student list; emits ``student_selected(student_id)``."""

    student_selected = Signal(str)
    students_loaded = Signal(list)
    add_requested = Signal()
    edit_requested = Signal(str)
    remove_requested = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RosterModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a student")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QListView()
        self.view.setObjectName("roster")
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(RosterDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        self.search.setAccessibleName("Find a student")
        self.view.setAccessibleName("Students")
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.menu: QMenu | None = None
        self.add_button = QPushButton("Add student…")
        self.add_button.setObjectName("addStudentButton")
        self.add_button.setToolTip("Add a student by hand (File ▸ Import roster… adds a class)")
        self.add_button.clicked.connect(self.add_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.add_button)
        self._reads: LatestRead[list[StudentSummary]] = LatestRead(
            ctx.tasks, "roster", again=self.refresh, loaded=self._loaded
        )
        ctx.bus.changed.connect(self._changes)

    def refresh(self) -> None:
        store = self.ctx.store

        def work() -> list[StudentSummary]:
            with store.read() as conn:
                return student_summaries(conn)

        self._reads.start(work)

    def _loaded(self, students: list[StudentSummary]) -> None:
        current = self.current_student()
        self.model.set_students(students)
        if current is not None:
            self.select(current, notify=False)
        self.students_loaded.emit(students)

    def _changes(self, change: ChangeSet) -> None:
        if change.touches("students", "assessments", "teacher_corrections"):
            self.refresh()

    def current_student(self) -> str | None:
        index = self.view.currentIndex()
        return None if not index.isValid() else str(index.data(StudentRole))

    def select(self, student_id: str, *, notify: bool = True) -> None:
        row = self.model.row_of(student_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        self.view.setCurrentIndex(index)
        if notify:
            self.student_selected.emit(student_id)

    def _menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        sid = str(index.data(StudentRole))
        menu = QMenu(self)
        menu.setObjectName("rosterMenu")
        menu.addAction("Edit student…", lambda: self.edit_requested.emit(sid))
        menu.addAction("Remove student…", lambda: self.remove_requested.emit(sid))
        menu.addSeparator()
        menu.addAction("Add student…", self.add_requested.emit)
        self.menu = menu
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def summary(self, student_id: str) -> StudentSummary | None:
        row = self.model.row_of(student_id)
        return None if row is None else self.model.students[row]

    def _clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.student_selected.emit(str(index.data(StudentRole)))
