"""Small shared pieces: a choice list model for combo boxes, a generic row table model.

GUI thread only; both models are filled in one step from values read in the background.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

__all__ = [
    "ChoiceModel",
    "Column",
    "RowTableModel",
    "combo_value",
    "dialog_buttons",
    "draw_item_frame",
    "error_label",
    "set_combo_value",
]

_Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")


class ChoiceModel(QAbstractListModel):
    """(label, value) pairs for a combo box; ``UserRole`` is the value."""

    def __init__(self, choices: Sequence[tuple[str, Any]] = ()) -> None:
        super().__init__()
        self.choices: list[tuple[str, Any]] = list(choices)
        self.icons: dict[Any, QIcon] = {}

    def set_choices(self, choices: Sequence[tuple[str, Any]]) -> None:
        self.beginResetModel()
        self.choices = list(choices)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.choices)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        label, value = self.choices[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return label
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.DecorationRole:
            return self.icons.get(value)
        return None


def combo_value(combo: QComboBox) -> Any:
    return combo.currentData(Qt.ItemDataRole.UserRole)


def set_combo_value(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value, Qt.ItemDataRole.UserRole)
    if index >= 0:
        combo.setCurrentIndex(index)


class Column(Generic[T]):
    """One column of a :class:`RowTableModel`: a title and how to show a row."""

    def __init__(
        self,
        title: str,
        text: Callable[[T], Any],
        *,
        tooltip: Callable[[T], str] | None = None,
        align_right: bool = False,
    ) -> None:
        self.title = title
        self.text = text
        self.tooltip = tooltip
        self.align_right = align_right


class RowTableModel(QAbstractTableModel, Generic[T]):
    """A table of small, fully loaded row objects (targets, badges, conflicts...)."""

    def __init__(self, columns: Sequence[Column[T]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> T | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.text(row)
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None


def error_label() -> QLabel:
    """The red line under a dialog's fields that says what is wrong (hidden until then)."""
    label = QLabel()
    label.setObjectName("dialogError")
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(bright-text)")  # readable red in both palettes
    label.hide()
    return label


def dialog_buttons(
    dialog: QDialog, submit: Callable[[], None], *, ok: str | None = None
) -> QDialogButtonBox:
    """Save and Cancel at the foot of a dialog (OK named ``ok`` instead of Save when
    given), wired to ``submit`` and to the dialog's ``reject``."""
    button = QDialogButtonBox.StandardButton
    buttons = QDialogButtonBox((button.Ok if ok else button.Save) | button.Cancel)
    if ok:
        buttons.button(button.Ok).setText(ok)
    buttons.accepted.connect(submit)
    buttons.rejected.connect(dialog.reject)
    return buttons


def draw_item_frame(
    delegate: QStyledItemDelegate,
    painter: QPainter,
    option: QStyleOptionViewItem,
    index: QModelIndex | QPersistentModelIndex,
) -> QStyleOptionViewItem:
    """Paint an item's background, selection and focus as the style does, without its
    text, for a delegate that draws the content itself; the style option it used."""
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    opt.text = ""
    style = opt.widget.style() if opt.widget else None
    if style is not None:
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
    return opt
