"""Add, edit and remove a student by hand — how a first day starts without a roster file.

The writes are :mod:`sync.actions.students` on the writer thread (through
:func:`desktop.core.ops.run_action`); a refusal (bad grade, id taken, a student with
evidence) is shown in the dialog and nothing is written. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.ops import run_action
from desktop.core.widgets import dialog_buttons, error_label

__all__ = ["StudentDialog", "confirm_remove_student"]


class StudentDialog(QDialog):
    """Name, grade and (when adding) an optional id; emits ``saved(student_id)``."""

    saved = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        *,
        student: Any = None,  # a StudentSummary (or Student) to edit; None adds one
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("studentDialog")
        self.ctx = ctx
        self.student = student
        editing = student is not None
        self.setWindowTitle("Edit student" if editing else "Add student")
        self.name = QLineEdit(student.name if editing else "")
        self.name.setObjectName("studentName")
        self.name.setAccessibleName("Student name")
        self.name.setMaxLength(100)
        self.grade = QComboBox()
        self.grade.setAccessibleName("Grade")
        for g in (6, 7, 8):
            self.grade.addItem(f"Grade {g}", g)
        if editing:
            self.grade.setCurrentIndex(max(0, self.grade.findData(int(student.grade))))
        self.student_id = QLineEdit(student.id if editing else "")
        self.student_id.setObjectName("studentId")
        self.student_id.setAccessibleName("Student id")
        self.student_id.setPlaceholderText("assigned when left empty (S001, S002 …)")
        self.student_id.setReadOnly(editing)
        self.student_id.setMaxLength(10)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Grade", self.grade)
        form.addRow("Student &id", self.student_id)
        self.buttons = dialog_buttons(self, self.submit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if not editing:
            hint = QLabel(
                "Use the school's id when you know it; with a class list file, "
                "File ▸ Import roster… adds everyone at once."
            )
            hint.setWordWrap(True)
            layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def submit(self) -> None:
        from sync.actions import students

        store = self.ctx.store
        name, grade = self.name.text(), int(self.grade.currentData())
        if self.student is not None:
            sid = str(self.student.id)

            def work() -> Any:
                return students.update_student(store, student_id=sid, name=name, grade=grade)
        else:
            wanted = self.student_id.text().strip() or None

            def work() -> Any:
                return students.add_student(store, name=name, grade=grade, student_id=wanted)

        self.buttons.setEnabled(False)
        run_action(
            self.ctx,
            work,
            source="students",
            on_done=self._saved,
            on_error=self._fail,
            name="student",
        )

    def _saved(self, student: Any) -> None:
        self.saved.emit(str(student.id))
        self.accept()

    def _fail(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(describe(exc)[1])
        self.error.show()


def confirm_remove_student(
    ctx: AppContext, student: Any, parent: QWidget, *, then: Any = None
) -> QMessageBox:
    """Ask, then remove a student (refused with the reason when they have evidence)."""
    from sync.actions import students

    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Remove student",
        f"Remove {student.name} ({student.id}) from this laptop and, after the next sync, "
        "from the server?",
        QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName("removeStudentBox")
    remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    store, sid = ctx.store, str(student.id)

    def clicked(button: Any) -> None:
        if button is not remove:
            return
        run_action(
            ctx,
            lambda: students.remove_student(store, student_id=sid),
            source="students",
            on_done=lambda _v: then() if then is not None else None,
            name="student",
        )

    box.buttonClicked.connect(clicked)
    box.open()
    return box
