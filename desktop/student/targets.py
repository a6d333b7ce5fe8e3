"""Targets of one student: the list with progress bars, and the assign dialog.

Assigning uses the student's current effective level as the starting level (the data
layer decides it inside the write); the schema's rules (one active target per skill, the
target above the start) come back as :class:`sync.errors.ConflictError` or
``ValidationError`` and are shown in the dialog, which stays open. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core import ops
from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.widgets import (
    ChoiceModel,
    Column,
    RowTableModel,
    combo_value,
    dialog_buttons,
    error_label,
    set_combo_value,
)
from desktop.core.wording import format_date
from desktop.student.data import StudentData, TargetRow
from sync.model.vocab import LEVEL_RANK, LEVELS

__all__ = ["AssignTargetDialog", "TargetsWidget"]

_Index = QModelIndex | QPersistentModelIndex


def _columns() -> list[Column[TargetRow]]:
    return [
        Column("Skill", lambda t: t.skill_name),
        Column("From", lambda t: t.starting_level or "no evidence"),
        Column("Target", lambda t: t.target_level),
        Column("Now", lambda t: t.current_level or "no evidence"),
        Column("Progress", lambda t: f"{round(t.progress * 100)} %"),
        Column(
            "Status",
            lambda t: (
                f"completed {format_date(t.completed_at)}"
                if t.completed
                else f"since {format_date(t.assigned_at)}"
            ),
        ),
    ]


class ProgressDelegate(QStyledItemDelegate):
    """A small bar for the progress column."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(row, TargetRow):
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect.adjusted(4, 5, -4, -5)
        pal: QPalette = option.palette
        painter.save()
        painter.setPen(pal.color(QPalette.ColorRole.Mid))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 3, 3)
        filled = QRect(rect)
        filled.setWidth(int(rect.width() * row.progress))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
        if filled.width() > 0:
            painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(index.data()))
        painter.restore()


class AssignTargetDialog(QDialog):
    """Skill and target level; shows the starting level and any rule that blocks it."""

    def __init__(
        self,
        ctx: AppContext,
        data: StudentData,
        *,
        skill: str | None = None,
        parent: QWidget | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("assignTargetDialog")
        self.setWindowTitle(f"Assign a target to {data.name}")
        self.ctx = ctx
        self.data = data
        self.on_done = on_done
        self.skill_box = QComboBox()
        self.skill_box.setModel(ChoiceModel([(n, n) for n in ctx.curriculum.skill_names]))
        if skill:
            set_combo_value(self.skill_box, skill)
        self.start_label = QLabel()
        self.level_box = QComboBox()
        self.level_model = ChoiceModel()
        self.level_box.setModel(self.level_model)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("Skill", self.skill_box)
        form.addRow("Starts at", self.start_label)
        form.addRow("Target level", self.level_box)
        self.buttons = dialog_buttons(self, self.submit, ok="Assign")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.skill_box.currentIndexChanged.connect(self._skill_changed)
        self._skill_changed()

    def _skill_changed(self) -> None:
        skill = combo_value(self.skill_box)
        state = self.data.skill(skill) if skill else None
        start = state.effective_level if state else None
        self.start_label.setText(start or "no evidence yet")
        rank = LEVEL_RANK.get(start or "", 0)
        self.level_model.set_choices([(lv, lv) for lv in LEVELS if LEVEL_RANK[lv] > rank])
        self.level_box.setCurrentIndex(0)
        self.error.hide()

    def submit(self) -> None:
        skill, level = combo_value(self.skill_box), combo_value(self.level_box)
        if not level:
            self._show_error("This skill is already at the top level; no target can be set.")
            return
        self.buttons.setEnabled(False)
        ops.assign_target(
            self.ctx,
            student_id=self.data.id,
            skill_name=str(skill),
            target_level=str(level),
            on_done=lambda _t: self._assigned(),
            on_error=self._failed,
        )

    def _assigned(self) -> None:
        self.accept()
        if self.on_done is not None:
            self.on_done()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self._show_error(describe(exc)[1])

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class TargetsWidget(QWidget):
    """The target list with Assign / Mark complete / Remove."""

    assign_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model: RowTableModel[TargetRow] = RowTableModel(_columns())
        self.view = QTableView()
        self.view.setObjectName("targetsTable")
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(4, ProgressDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.assign = QPushButton("Assign target…")
        self.complete = QPushButton("Mark complete")
        self.remove = QPushButton("Remove")
        self.assign.clicked.connect(self.assign_requested)
        self.complete.clicked.connect(self._complete)
        self.remove.clicked.connect(self._remove)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        buttons.addWidget(self.assign)
        buttons.addStretch(1)
        buttons.addWidget(self.complete)
        buttons.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_targets(self, targets: list[TargetRow]) -> None:
        self.model.set_rows(targets)
        self._update_buttons()

    def selected(self) -> TargetRow | None:
        index = self.view.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _update_buttons(self) -> None:
        target = self.selected()
        self.complete.setEnabled(target is not None and not target.completed)
        self.remove.setEnabled(target is not None)

    def _complete(self) -> None:
        target = self.selected()
        if target is not None:
            ops.complete_target(self.ctx, target_id=target.id)

    def _remove(self) -> None:
        target = self.selected()
        if target is not None:
            ops.delete_target(self.ctx, target_id=target.id)
