"""The student's 17-skill grid, grouped by SEL / Executive function / 21st century.

:class:`SkillTreeModel` is a two-level tree (category → skill) with the effective level,
the AI's latest proposal when it differs, the amount of evidence and the active target.
:class:`LevelDelegate` draws levels as coloured chips and "no evidence" as a plain dash.
GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.core.marks import UNREVIEWED, draw_unreviewed_corner
from desktop.core.theme import level_colors
from desktop.core.widgets import draw_item_frame
from desktop.student.data import SkillState, StudentData
from sync.model.curriculum import Curriculum

__all__ = ["LevelDelegate", "ReviewedRole", "SkillTreeModel"]

_Index = QModelIndex | QPersistentModelIndex
LevelRole = Qt.ItemDataRole.UserRole + 1
SkillRole = Qt.ItemDataRole.UserRole + 2
ReviewedRole = Qt.ItemDataRole.UserRole + 3
_CATEGORY_NAMES = {
    "SEL": "Social-emotional (SEL)",
    "EF": "Executive function",
    "21st_Century": "21st-century skills",
}
_TOP = 0xFFFFFFFF  # internal id of category rows


class SkillTreeModel(QAbstractItemModel):
    COLUMNS = ("Skill", "Level", "Evidence", "Target")

    def __init__(self, curriculum: Curriculum) -> None:
        super().__init__()
        self.curriculum = curriculum
        self.categories = [c.id for c in curriculum.categories]
        self.by_cat = curriculum.by_category()
        self.data_: StudentData | None = None
        self.targets: dict[str, str] = {}

    def set_student(self, data: StudentData | None) -> None:
        self.beginResetModel()
        self.data_ = data
        self.targets = (
            {t.skill_name: t.target_level for t in data.targets if not t.completed} if data else {}
        )
        self.endResetModel()

    def _state(self, skill: str) -> SkillState | None:
        return None if self.data_ is None else self.data_.skill(skill)

    # -- tree structure ----------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _TOP)
        return self.createIndex(row, column, parent.row())

    def parent(self, child: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or child.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(int(child.internalId()), 0, _TOP)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.categories)
        if parent.internalId() == _TOP and parent.column() == 0:
            return len(self.by_cat[self.categories[parent.row()]])
        return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def skill_at(self, index: _Index) -> str | None:
        if not index.isValid() or index.internalId() == _TOP:
            return None
        return self.by_cat[self.categories[int(index.internalId())]][index.row()].name

    def index_of(self, skill_name: str) -> QModelIndex:
        for c, cat in enumerate(self.categories):
            for r, skill in enumerate(self.by_cat[cat]):
                if skill.name == skill_name:
                    return self.index(r, 0, self.index(c, 0))
        return QModelIndex()

    # -- data --------------------------------------------------------------------------
    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == _TOP:
            cat = self.categories[index.row()]
            if role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
                return _CATEGORY_NAMES.get(cat, cat)
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            return None
        skill = self.skill_at(index)
        assert skill is not None
        state = self._state(skill)
        column = self.COLUMNS[index.column()]
        if role == SkillRole:
            return skill
        if role == LevelRole and column == "Level":
            return None if state is None else state.effective_level
        if role == ReviewedRole and column == "Level":
            return state is None or state.reviewed
        if role == Qt.ItemDataRole.AccessibleTextRole and column == "Level":
            if state is None or state.effective_level is None:
                return "no evidence"
            return state.effective_level + ("" if state.reviewed else f", {UNREVIEWED}")
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "Skill":
                return skill
            if column == "Level":
                if state is None or state.effective_level is None:
                    return "no evidence"
                return state.effective_level
            if column == "Evidence":
                return "" if state is None or not state.evidence else str(state.evidence)
            if column == "Target":
                return self.targets.get(skill, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            desc = self.curriculum.skill(skill).description
            if state is None or state.effective_level is None:
                return f"{skill}: {desc}\nNo evidence yet."
            how = "reviewed by you" if state.reviewed else UNREVIEWED
            return f"{skill}: {desc}\nNow {state.effective_level} ({how})."
        return None


class LevelDelegate(QStyledItemDelegate):
    """Level chips in the "Level" column; other columns as usual."""

    def __init__(self, column: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = column

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        size = super().sizeHint(option, index)
        fm = option.fontMetrics
        size.setHeight(max(size.height(), fm.height() + 8))
        if index.column() == self.column:
            size.setWidth(fm.horizontalAdvance("Developing") + 32)
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        level = index.data(LevelRole) if index.column() == self.column else None
        if level is None:
            super().paint(painter, option, index)
            return
        opt = draw_item_frame(self, painter, option, index)
        rect: QRect = opt.rect
        fm = opt.fontMetrics
        bg, fg = level_colors(str(level))
        text = str(level)
        chip = QRect(
            rect.left() + 4, rect.top() + 3, fm.horizontalAdvance(text) + 16, rect.height() - 6
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(chip, 4, 4)
        painter.setPen(fg)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        if not index.data(ReviewedRole):  # the same corner mark as the heat map and the PDF
            draw_unreviewed_corner(painter, QRectF(chip), fg, max(5.0, chip.height() / 3))
        painter.restore()
