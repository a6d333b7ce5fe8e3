"""The teacher assesses a piece of evidence without the AI: pick the skill and the level,
select the words in the evidence that show it, add a justification if wanted.

This is how a school without an AI endpoint uses Flourish, and how any teacher records
what they saw. The write is :func:`sync.actions.manual.assess_evidence` on the writer
thread (a level the teacher confirmed; see that module for how it is stored). The
evidence text is read in the background when the dialog opens. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.ops import run_action
from desktop.core.widgets import (
    ChoiceModel,
    combo_value,
    dialog_buttons,
    error_label,
    set_combo_value,
)
from sync.errors import NotFoundError
from sync.model.vocab import LEVELS

__all__ = ["ManualAssessDialog"]


class ManualAssessDialog(QDialog):
    """Assess one evidence entry yourself; emits ``saved(assessment_id)``."""

    saved = Signal(int)

    def __init__(
        self,
        ctx: AppContext,
        *,
        entry_id: str,
        student_id: str,
        students: list[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("manualAssessDialog")
        self.setWindowTitle("Assess evidence yourself")
        self.ctx = ctx
        self.entry_id = entry_id
        self.text = QPlainTextEdit()
        self.text.setObjectName("manualEvidenceText")
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Evidence text: select the words that show the level")
        self.text.setPlaceholderText("Loading the evidence…")
        self.text.selectionChanged.connect(self._selection_changed)
        self.student_box = QComboBox()
        self.student_box.setAccessibleName("Student")
        self.student_box.setModel(ChoiceModel(students or [(student_id, student_id)]))
        set_combo_value(self.student_box, student_id)
        self.skill_box = QComboBox()
        self.skill_box.setAccessibleName("Skill")
        self.skill_box.setModel(
            ChoiceModel([("Choose a skill", None)] + [(n, n) for n in ctx.curriculum.skill_names])
        )
        self.levels = QButtonGroup(self)
        level_row = QHBoxLayout()
        for rank, level in enumerate(LEVELS, start=1):
            button = QRadioButton(f"&{rank} {level}")
            button.setAccessibleName(level)
            self.levels.addButton(button, rank)
            level_row.addWidget(button)
        level_row.addStretch(1)
        self.quote = QLineEdit()
        self.quote.setObjectName("manualQuote")
        self.quote.setAccessibleName("Quote from the evidence")
        self.quote.setReadOnly(True)
        self.quote.setPlaceholderText("Select the words in the evidence above")
        self.justification = QLineEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setPlaceholderText("Why this level (optional)")
        self.notes = QLineEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setPlaceholderText("Notes for yourself (optional)")
        self.error = error_label()
        form = QFormLayout()
        form.addRow("S&tudent", self.student_box)
        form.addRow("&Skill", self.skill_box)
        form.addRow("Level", level_row)
        form.addRow("&Quote", self.quote)
        form.addRow("&Justification", self.justification)
        form.addRow("&Notes", self.notes)
        self.buttons = dialog_buttons(self, self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Select the words that show the skill, then choose its level."))
        layout.addWidget(self.text, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        fm = self.fontMetrics()
        self.resize(fm.averageCharWidth() * 90, fm.height() * 34)
        self._load()

    def _load(self) -> None:
        store, entry = self.ctx.store, self.entry_id

        def work() -> str:
            with store.read() as conn:
                row = conn.exec_driver_sql(
                    "SELECT content FROM data_entries WHERE id = ?", (entry,)
                ).first()
            if row is None:
                raise NotFoundError(f"evidence {entry}: not in this store")
            return str(row[0])

        self.ctx.tasks.read(work, self.text.setPlainText, self._fail)

    def _selection_changed(self) -> None:
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n").strip()
        if selected:
            self.quote.setText(" ".join(selected.split()))

    def submit(self) -> None:
        from sync.actions.manual import assess_evidence

        skill = combo_value(self.skill_box)
        rank = self.levels.checkedId()
        student = combo_value(self.student_box)
        if not skill:
            self._fail("Choose the skill the evidence shows.")
            return
        if not 1 <= rank <= 4:
            self._fail("Choose a level.")
            return
        if not self.quote.text().strip():
            self._fail("Select the words in the evidence that show the level.")
            return
        store, teacher = self.ctx.store, self.ctx.teacher_id or ""
        values = {
            "data_entry_id": self.entry_id,
            "student_id": str(student),
            "skill_name": str(skill),
            "level": LEVELS[rank - 1],
            "quote": self.quote.text(),
            "teacher_id": teacher,
            "justification": self.justification.text(),
            "notes": self.notes.text(),
        }
        self.buttons.setEnabled(False)
        run_action(
            self.ctx,
            lambda: assess_evidence(store, **values),
            source="evidence",
            on_done=self._saved,
            on_error=self._fail,
            name="manual-assessment",
        )

    def _saved(self, value: Any) -> None:
        self.saved.emit(int(value[0].id))
        self.accept()

    def _fail(self, problem: BaseException | str) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(problem if isinstance(problem, str) else describe(problem)[1])
        self.error.show()
