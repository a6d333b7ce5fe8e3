"""The badge shelf (bronze, silver, gold art from ``resources/badges``) and the grant dialog.

A badge marks the first time a skill reaches a level: bronze = Developing, silver =
Proficient, gold = Advanced. Suggestions (:func:`sync.actions.badge_suggestions`) are the
badges the effective levels have earned and nobody has granted yet; the dialog lists them
first. The schema's rule (one badge per student, skill and level) comes back as a
:class:`sync.errors.ConflictError` and is shown in the dialog. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from desktop.core import ops
from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.widgets import (
    ChoiceModel,
    combo_value,
    dialog_buttons,
    error_label,
    set_combo_value,
)
from desktop.core.wording import format_date
from desktop.student.data import StudentData
from sync.actions import BadgeSuggestion
from sync.model.records import Badge
from sync.model.vocab import BADGE_LEVEL, BADGE_TYPES
from sync.paths import resource_path

__all__ = ["BadgeModel", "GrantBadgeDialog", "badge_icon"]

_Index = QModelIndex | QPersistentModelIndex


@cache
def badge_icon(kind: str) -> QIcon:
    return QIcon(str(resource_path("badges", f"{kind}.svg")))


class BadgeModel(QAbstractListModel):
    """Granted badges (or suggestions) for an icon-mode list view."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Badge | BadgeSuggestion] = []

    def set_items(self, items: list[Badge] | list[BadgeSuggestion]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.skill_name
        if role == Qt.ItemDataRole.DecorationRole:
            return badge_icon(item.badge_type)
        if role == Qt.ItemDataRole.ToolTipRole:
            level = BADGE_LEVEL[item.badge_type]
            if isinstance(item, Badge):
                return (
                    f"{item.badge_type.capitalize()} badge: {item.skill_name} reached {level} "
                    f"(earned {format_date(item.earned_date)}, "
                    f"granted by {item.granted_by or 'unknown'})"
                )
            return f"Suggested: {item.badge_type} for reaching {level} in {item.skill_name}"
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None


class ShelfView(QListView):
    """An icon list that says so when it is empty."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = placeholder

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.placeholder:
            painter = QPainter(self.viewport())
            painter.setPen(
                self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            )
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            painter.end()


def shelf_view(
    model: BadgeModel, *, icon: int, placeholder: str = "", parent: QWidget | None = None
) -> QListView:
    view = ShelfView(placeholder, parent)
    view.setModel(model)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(False)
    view.setIconSize(QSize(icon, icon))
    fm = view.fontMetrics()
    # wide enough for the longest word of a skill name ("Prioritization", "Flexibility"):
    # names wrap between words, never inside one
    word = max(
        fm.horizontalAdvance(w) for w in ("Prioritization", "Decision-Making", "Flexibility")
    )
    view.setGridSize(QSize(max(icon + 16, word + 16), icon + fm.height() * 2 + 8))
    view.setWordWrap(True)
    view.setMovement(QListView.Movement.Static)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setUniformItemSizes(True)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setFixedHeight(icon + fm.height() * 2 + 24)
    return view


class GrantBadgeDialog(QDialog):
    """Pick a suggestion or any skill and badge type; shows the rule if one blocks it."""

    def __init__(
        self,
        ctx: AppContext,
        data: StudentData,
        *,
        parent: QWidget | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("grantBadgeDialog")
        self.setWindowTitle(f"Grant a badge to {data.name}")
        self.ctx = ctx
        self.data = data
        self.on_done = on_done
        self.suggestions = BadgeModel()
        self.suggestions.set_items(data.suggestions)
        self.suggestion_view = shelf_view(self.suggestions, icon=40)
        self.suggestion_view.clicked.connect(self._suggestion_clicked)
        self.skill_box = QComboBox()
        self.skill_box.setModel(ChoiceModel([(n, n) for n in ctx.curriculum.skill_names]))
        self.type_box = QComboBox()
        types = ChoiceModel(
            [(f"{t.capitalize()} — reached {BADGE_LEVEL[t]}", t) for t in BADGE_TYPES]
        )
        types.icons = {kind: badge_icon(kind) for kind in BADGE_TYPES}
        self.type_box.setModel(types)
        self.error = error_label()
        intro = QLabel(
            "Earned by levels you confirmed, not granted yet (click one):"
            if data.suggestions
            else "No badge is waiting. Badges are suggested from levels you have confirmed; "
            "AI proposals you have not reviewed earn none."
        )
        form = QFormLayout()
        form.addRow("Skill", self.skill_box)
        form.addRow("Badge", self.type_box)
        self.buttons = dialog_buttons(self, self.submit, ok="Grant")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if data.suggestions:
            layout.addWidget(self.suggestion_view)
        else:
            self.suggestion_view.hide()
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if data.suggestions:
            self.choose(data.suggestions[0])

    def choose(self, suggestion: BadgeSuggestion) -> None:
        set_combo_value(self.skill_box, suggestion.skill_name)
        set_combo_value(self.type_box, suggestion.badge_type)

    def _suggestion_clicked(self, index: QModelIndex) -> None:
        item = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(item, BadgeSuggestion):
            self.choose(item)

    def submit(self) -> None:
        self.buttons.setEnabled(False)
        self.error.hide()
        ops.grant_badge(
            self.ctx,
            student_id=self.data.id,
            skill_name=str(combo_value(self.skill_box)),
            badge_type=str(combo_value(self.type_box)),
            on_done=lambda _b: self._granted(),
            on_error=self._failed,
        )

    def _granted(self) -> None:
        self.accept()
        if self.on_done is not None:
            self.on_done()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(describe(exc)[1])
        self.error.show()
