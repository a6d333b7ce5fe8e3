"""Review by mouse: the decision buttons under the queue, the queue rows' context menu, and
the "All done for these filters" banner with the next useful step.

Every button and menu entry names its key ("Accept (A)", "Emerging (1)"), as Anki and
Prodigy do, so a teacher who clicks learns the keys on the way. Buttons take focus only
by Tab (a click leaves the focus in the queue, so the keys keep working); a focused
button clicks on Space or Enter. The Undo button and menu entry say what they undo.

GUI thread only; these widgets only emit what was chosen, the panel acts on it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from sync.model.vocab import LEVELS

__all__ = ["CHOICES", "DecisionBar", "DoneBanner", "build_row_menu"]

# (choice, label, key, what it does) — choice is what the panel receives
CHOICES: tuple[tuple[str, str, str, str], ...] = (
    ("accept", "Accept", "A", "Accept the AI's proposed level"),
    *(
        (level, level, str(rank), f"Correct the level to {level}; notes are optional")
        for rank, level in enumerate(LEVELS, start=1)
    ),
    ("notes", "Notes", "N", "Add notes and keep the proposed level"),
    ("skip", "Skip", "S", "Skip this proposal for now"),
    ("undo", "Undo", "U", "Undo the last decision"),
)


class DecisionBar(QWidget):
    """Accept · Emerging · Developing · Proficient · Advanced · Notes · Skip · Undo."""

    chosen = Signal(str)  # one of the CHOICES' first field

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decisionBar")
        self.buttons: dict[str, QPushButton] = {}
        self._labels: dict[str, tuple[str, str]] = {}  # choice -> (full, compact)
        self._compact = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for choice, label, key, what in CHOICES:
            button = QPushButton(f"{label} ({key})")
            button.setObjectName(f"decide_{choice}")
            button.setAccessibleName(label)
            button.setAccessibleDescription(f"{what}. Key: {key}")
            button.setToolTip(f"{what} — key {key}")
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setAutoDefault(True)  # Enter on a focused button clicks it
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, c=choice: self.chosen.emit(c))
            self._labels[choice] = (f"{label} ({key})", key)
            if choice == "notes":
                layout.addSpacing(8)
            if choice == "undo":
                layout.addStretch(1)
            layout.addWidget(button)
            self.buttons[choice] = button
        self.set_undo(None)
        fm = self.fontMetrics()
        for button in self.buttons.values():  # narrow windows show the keys only
            button.setMinimumWidth(fm.horizontalAdvance("Undo") + fm.averageCharWidth() * 3)

    def _full_width(self) -> int:
        fm = self.fontMetrics()
        pad = fm.averageCharWidth() * 4
        spacing = 4 * (len(self.buttons) + 1) + 8  # the layout spacing, two spacers
        return spacing + sum(fm.horizontalAdvance(full) + pad for full, _c in self._labels.values())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        compact = self.width() < self._full_width()
        if compact != self._compact:
            self._compact = compact
            for choice, (full, short) in self._labels.items():
                self.buttons[choice].setText(short if compact else full)

    def set_decidable(self, on: bool) -> None:
        """Enable the decision buttons when there is a current item."""
        for choice, button in self.buttons.items():
            if choice != "undo":
                button.setEnabled(on)

    def set_undo(self, what: str | None) -> None:
        """``what`` the Undo button would undo ("accepted Collaboration for Pat") or None."""
        button = self.buttons["undo"]
        button.setEnabled(what is not None)
        tip = f"Undo: {what} — key U" if what else "Nothing to undo"
        button.setToolTip(tip)
        button.setAccessibleDescription(tip)


def build_row_menu(parent: QWidget, *, undo_text: str | None, decidable: bool) -> QMenu:
    """The context menu of a queue row: the same choices as the buttons, keys shown."""
    menu = QMenu(parent)
    menu.setObjectName("queueRowMenu")
    menu.setAccessibleName("Decision for this proposal")
    for choice, label, key, _what in CHOICES:
        if choice == "undo":
            menu.addSeparator()
            text = f"Undo: {undo_text}" if undo_text else "Undo"
        elif choice in LEVELS:
            text = f"Correct to {label}"
        elif choice == "notes":
            text = "Notes…"
        else:
            text = label
        action = QAction(text, menu)
        action.setShortcut(key)  # shown in the menu; the keys themselves are the panel's
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.setData(choice)
        action.setEnabled(undo_text is not None if choice == "undo" else decidable)
        if choice == "notes":
            menu.addSeparator()
        menu.addAction(action)
    return menu


class DoneBanner(QFrame):
    """ "All done for these filters" with the next useful step."""

    clear_filters = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("doneBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.button = QPushButton("Show all proposals")
        self.button.setAccessibleName("Clear the filters and show all proposals")
        self.button.clicked.connect(self.clear_filters)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_done(self, *, filtered: bool, pending: int | None) -> None:
        if filtered:
            rest = (
                ""
                if not pending
                else f" {pending} proposal{'s' if pending != 1 else ''} still wait in the "
                "whole queue."
            )
            self.label.setText(f"<b>All done for these filters.</b>{rest}")
        else:
            self.label.setText(
                "<b>All done — every proposal has a decision.</b> New evidence shows up here "
                "once it has been assessed (Sync ▸ Assess new evidence, or assess it yourself "
                "on the Student tab)."
            )
        self.button.setVisible(filtered)
        self.show()
