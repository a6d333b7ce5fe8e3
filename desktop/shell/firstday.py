"""The main window's first-day actions, kept out of its module: students added, edited and
removed by hand, evidence assessed by the teacher, and the AI setup step.

A mixin of :class:`desktop.shell.mainwindow.MainWindow` (it uses the window's ``ctx``,
``roster``, ``dialog`` and status bar). GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtWidgets import QMainWindow, QStatusBar

__all__ = ["FirstDayActions"]

if TYPE_CHECKING:
    from desktop.classes.roster import RosterPanel
    from desktop.core.context import AppContext


class FirstDayActions:
    """Mixed into the main window after ``QMainWindow`` (see the module docstring)."""

    ctx: AppContext
    roster: RosterPanel
    dialog: Any
    _students: list[tuple[str, str]]
    open_student: Callable[[str], None]
    open_settings: Callable[..., Any]

    def _bar(self) -> QStatusBar:
        return cast(QMainWindow, self).statusBar()

    def _parent(self) -> QMainWindow:
        return cast(QMainWindow, self)

    def add_student(self) -> Any:
        from desktop.classes.studentdialog import StudentDialog

        self.dialog = StudentDialog(self.ctx, parent=self._parent())
        self.dialog.saved.connect(self.open_student_when_listed)
        self.dialog.open()
        return self.dialog

    def edit_student(self, student_id: str) -> Any:
        from desktop.classes.studentdialog import StudentDialog

        summary = self.roster.summary(student_id)
        if summary is None:
            return None
        self.dialog = StudentDialog(self.ctx, student=summary, parent=self._parent())
        self.dialog.open()
        return self.dialog

    def remove_student(self, student_id: str) -> Any:
        from desktop.classes.studentdialog import confirm_remove_student

        summary = self.roster.summary(student_id)
        if summary is None:
            return None
        self.dialog = confirm_remove_student(self.ctx, summary, self._parent())
        return self.dialog

    def assess_yourself(self, entry_id: str, student_id: str) -> Any:
        """The teacher records a level from a piece of evidence (no AI needed)."""
        from desktop.evidence.manual import ManualAssessDialog

        students = [(name, sid) for name, sid in self._students]
        self.dialog = ManualAssessDialog(
            self.ctx,
            entry_id=entry_id,
            student_id=student_id,
            students=students,
            parent=self._parent(),
        )
        self.dialog.saved.connect(
            lambda _a: self._bar().showMessage("Your assessment is saved", 8000)
        )
        self.dialog.open()
        return self.dialog

    def open_student_when_listed(self, student_id: str) -> None:
        """After adding a student: show them once the roster has re-read the store."""

        def listed(_students: list[Any]) -> None:
            if self.roster.summary(student_id) is not None:
                self.roster.students_loaded.disconnect(listed)
                self.open_student(student_id)

        self.roster.students_loaded.connect(listed)

    def show_ai_setup(self, reason: str) -> Any:
        """AI assessment is not set up: a setup step with a button to Settings ▸ AI."""
        from desktop.shell.setupsteps import ai_setup_box

        box, settings = ai_setup_box(self._parent(), reason)
        box.buttonClicked.connect(lambda b: self.open_settings("ai") if b is settings else None)
        self.dialog = box
        box.open()
        return box
