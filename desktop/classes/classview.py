"""The class view: a students × 17 skills heat map of effective levels.

The effective level is the teacher's corrected level where there is one, else the AI's
(``effective_levels`` view, latest assessment per student and skill). Cells show the
level's rank (1–4) on the level colour; a cell with **no evidence** is hatched and shows
"–", so it never reads as Emerging; levels the teacher has not reviewed yet carry a small
corner mark. Clicking a row (or a cell) opens that student.

The grid is read in one background query and re-read when a change touches assessments,
decisions or students. GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext, ChangeSet
from desktop.core.marks import UNREVIEWED, UNREVIEWED_LEGEND, draw_unreviewed_corner
from desktop.core.tasks import LatestRead
from desktop.core.theme import level_colors
from sync.model.curriculum import Curriculum
from sync.model.vocab import LEVEL_RANK, LEVELS

__all__ = ["ClassGrid", "ClassPanel", "HeatMapModel", "load_grid"]

_Index = QModelIndex | QPersistentModelIndex
LevelRole = Qt.ItemDataRole.UserRole + 1
ReviewedRole = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class ClassGrid:
    students: list[tuple[str, str, int]]  # id, name, grade
    levels: dict[tuple[str, str], tuple[str, bool]]  # (student, skill) -> (level, reviewed)


def load_grid(conn: Any) -> ClassGrid:
    """Every student and their effective level per skill (worker thread)."""
    students = [
        (str(i), str(n), int(g))
        for i, n, g in conn.exec_driver_sql(
            "SELECT id, name, grade FROM students ORDER BY name, id"
        )
    ]
    levels = {
        (str(s), str(k)): (str(level), bool(reviewed))
        for s, k, level, reviewed in conn.exec_driver_sql(
            "SELECT student_id, skill_name, effective_level, reviewed FROM effective_levels"
        )
    }
    return ClassGrid(students, levels)


class HeatMapModel(QAbstractTableModel):
    def __init__(self, curriculum: Curriculum) -> None:
        super().__init__()
        self.curriculum = curriculum
        self.skills = [s for group in curriculum.by_category().values() for s in group]
        self.grid = ClassGrid([], {})

    def set_grid(self, grid: ClassGrid) -> None:
        self.beginResetModel()
        self.grid = grid
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.grid.students)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.skills)

    def student_at(self, row: int) -> str | None:
        return self.grid.students[row][0] if 0 <= row < len(self.grid.students) else None

    def first_of_category(self, column: int) -> bool:
        return column == 0 or self.skills[column].category != self.skills[column - 1].category

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            skill = self.skills[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return skill.name
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{skill.name} ({skill.category.replace('_', ' ')}): {skill.description}"
            return None
        if role == Qt.ItemDataRole.DisplayRole and section < len(self.grid.students):
            _sid, name, grade = self.grid.students[section]
            return f"{name}  (gr. {grade})"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        sid, name, _grade = self.grid.students[index.row()]
        skill = self.skills[index.column()].name
        cell = self.grid.levels.get((sid, skill))
        if role == LevelRole:
            return None if cell is None else cell[0]
        if role == ReviewedRole:
            return None if cell is None else cell[1]
        if role == Qt.ItemDataRole.DisplayRole:
            return "–" if cell is None else str(LEVEL_RANK[cell[0]])
        if role == Qt.ItemDataRole.ToolTipRole:
            if cell is None:
                return f"{name} · {skill}: no evidence yet"
            how = "reviewed by you" if cell[1] else UNREVIEWED
            return f"{name} · {skill}: {cell[0]} ({how})"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if not cell:
                return f"{name}, {skill}, no evidence"
            return f"{name}, {skill}, {cell[0]}" + ("" if cell[1] else f", {UNREVIEWED}")
        return None


class HeatMapDelegate(QStyledItemDelegate):
    """Level colour and rank; hatched "–" for no evidence; corner mark when unreviewed."""

    def __init__(self, model: HeatMapModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heat = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rect: QRect = option.rect.adjusted(1, 1, -1, -1)
        pal: QPalette = option.palette
        level = index.data(LevelRole)
        painter.save()
        if level is None:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.Base))
            hatch = QBrush(pal.color(QPalette.ColorRole.Mid), Qt.BrushStyle.BDiagPattern)
            painter.fillRect(rect, hatch)
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "–")
        else:
            bg, fg = level_colors(str(level))
            painter.fillRect(rect, bg)
            painter.setPen(fg)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(index.data()))
            if not index.data(ReviewedRole):
                size = max(5, rect.height() // 4)
                draw_unreviewed_corner(painter, QRectF(rect), fg, size)
        if self.heat.first_of_category(index.column()) and index.column() > 0:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.WindowText), 2))
            painter.drawLine(option.rect.topLeft(), option.rect.bottomLeft())
        selected = option.state & option.state.State_Selected
        if selected:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
        painter.restore()


class RotatedHeader(QHeaderView):
    """Column titles written bottom-to-top, so 17 skill names fit side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsClickable(False)
        self.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def sizeHint(self) -> QSize:
        base = super().sizeHint()
        fm = self.fontMetrics()
        longest = max(
            (
                fm.horizontalAdvance(str(self.model().headerData(i, self.orientation())))
                for i in range(self.count())
            ),
            default=80,
        )
        return QSize(base.width(), longest + 16)

    def paintSection(self, painter: QPainter, rect: QRect, logical_index: int) -> None:
        painter.save()
        painter.fillRect(rect, self.palette().color(QPalette.ColorRole.Button))
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        text = str(self.model().headerData(logical_index, self.orientation()))
        painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
        painter.translate(
            rect.left() + rect.width() / 2 + self.fontMetrics().ascent() / 2 - 2, rect.bottom() - 8
        )
        painter.rotate(-90)
        painter.drawText(0, 0, text)
        painter.restore()


class ClassPanel(QWidget):
    """The heat map with its legend; emits ``student_activated(student_id)``."""

    student_activated = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = HeatMapModel(ctx.curriculum)
        self.view = QTableView()
        self.view.setObjectName("heatMap")
        self.view.setAccessibleName("Class heat map: students by skills")
        self.view.setModel(self.model)
        self.view.setHorizontalHeader(RotatedHeader(self.view))
        self.view.setItemDelegate(HeatMapDelegate(self.model, self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setShowGrid(False)
        cell = self.fontMetrics().height() * 2
        self.view.horizontalHeader().setDefaultSectionSize(cell + 6)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(cell)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        self.view.verticalHeader().sectionClicked.connect(self._row_clicked)
        self.summary = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addLayout(self._legend())
        self._reads: LatestRead[ClassGrid] = LatestRead(
            ctx.tasks, "class-grid", again=self.refresh, loaded=self._loaded
        )
        self.loaded_once = False
        ctx.bus.changed.connect(self._changes)

    def _legend(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for rank, level in enumerate(LEVELS, start=1):
            bg, fg = level_colors(level)
            chip = QLabel(f" {rank} ")
            chip.setStyleSheet(f"background:{bg.name()}; color:{fg.name()}; font-weight:600")
            row.addWidget(chip)
            row.addWidget(QLabel(level))
        none = QLabel(" – ")
        none.setObjectName("noEvidenceChip")
        none.setStyleSheet("border: 1px dashed palette(mid);")
        row.addWidget(none)
        row.addWidget(QLabel("no evidence yet"))
        mark = QLabel(UNREVIEWED_LEGEND)
        mark.setWordWrap(True)  # wraps rather than widen the window on a small screen
        row.addWidget(mark)
        row.addStretch(1)
        return row

    def refresh(self) -> None:
        store = self.ctx.store

        def work() -> ClassGrid:
            with store.read() as conn:
                return load_grid(conn)

        self._reads.start(work)

    def _loaded(self, grid: ClassGrid) -> None:
        self.loaded_once = True
        self.model.set_grid(grid)
        n_students = len(grid.students)
        filled = len(grid.levels)
        total = n_students * len(self.model.skills)
        self.summary.setText(
            f"{n_students} students · evidence for {filled} of {total} student-skill pairs · "
            "click a student to open them"
        )

    def _changes(self, change: ChangeSet) -> None:
        if self.loaded_once and change.touches("assessments", "teacher_corrections", "students"):
            self.refresh()

    def _clicked(self, index: QModelIndex) -> None:
        self._row_clicked(index.row())

    def _row_clicked(self, row: int) -> None:
        student = self.model.student_at(row)
        if student is not None:
            self.student_activated.emit(student)
