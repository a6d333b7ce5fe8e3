"""Writing and importing evidence.

* :class:`NewEvidenceDialog` — an observation, a parent note or any other entry type,
  typed in the app; saved with :func:`sync.actions.add_entry` on the writer thread.
* :class:`ImportEvidenceDialog` — text and Word files (or folders of them) through
  :mod:`sync.io.evidence_import`, like ``flourish import evidence``: previewed on a background
  job, imported in one transaction on the writer thread.

New entries show "awaiting AI assessment" in the student's timeline until the AI pipeline
has assessed them. GUI thread only; no file or database access happens here directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QStringListModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core import ops
from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.tasks import Task, TaskContext
from desktop.core.widgets import (
    ChoiceModel,
    combo_value,
    dialog_buttons,
    error_label,
    set_combo_value,
)
from desktop.core.wording import date_format, format_date
from desktop.review.panes import entry_label
from sync.io.evidencetext import EVIDENCE_SUFFIXES
from sync.model.vocab import ENTRY_TYPES

__all__ = ["ImportEvidenceDialog", "NewEvidenceDialog"]

EVIDENCE_FILTER = f"Evidence ({' '.join('*' + s for s in EVIDENCE_SUFFIXES)});;All files (*)"


def _form_parts(
    students: Sequence[tuple[str, str | None]], student_id: str | None, entry_type: str
) -> tuple[QComboBox, QComboBox]:
    student_box = QComboBox()
    student_box.setModel(ChoiceModel(students))
    if student_id:
        set_combo_value(student_box, student_id)
    type_box = QComboBox()
    type_box.setModel(ChoiceModel([(entry_label(t), t) for t in ENTRY_TYPES]))
    set_combo_value(type_box, entry_type)
    return student_box, type_box


class NewEvidenceDialog(QDialog):
    """Type a new piece of evidence for a student."""

    def __init__(
        self,
        ctx: AppContext,
        students: list[tuple[str, str]],
        *,
        student_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newEvidenceDialog")
        self.setWindowTitle("New evidence")
        self.ctx = ctx
        self.student_box, self.type_box = _form_parts(
            students, student_id, "teacher_observation_note"
        )
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat(date_format())
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("A short title (optional)")
        self.text = QPlainTextEdit()
        self.text.setObjectName("evidenceTextEdit")
        self.text.setAccessibleName("Evidence text")
        self.text.setPlaceholderText("What did you observe? Quote the student where you can.")
        self.error = error_label()
        form = QFormLayout()
        form.addRow("Student", self.student_box)
        form.addRow("Type", self.type_box)
        form.addRow("Date", self.date)
        form.addRow("Title", self.title_edit)
        self.buttons = dialog_buttons(self, self.submit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.text, 1)
        layout.addWidget(QLabel("It will show as “awaiting AI assessment” until assessed."))
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 80, self.fontMetrics().height() * 30)

    def submit(self) -> None:
        student = combo_value(self.student_box)
        if not student:
            self._fail("Choose a student.")
            return
        title = self.title_edit.text().strip()
        self.buttons.setEnabled(False)
        ops.add_entry(
            self.ctx,
            student_id=str(student),
            entry_type=str(combo_value(self.type_box)),
            content=self.text.toPlainText(),
            date=self.date.date().toPython(),  # type: ignore[arg-type]
            metadata={"title": title, "source": "desktop"} if title else {"source": "desktop"},
            on_done=lambda _e: self.accept(),
            on_error=lambda exc: self._fail(describe(exc)[1]),
        )

    def _fail(self, text: str) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(text)
        self.error.show()


class ImportEvidenceDialog(QDialog):
    """Choose files or a folder; see what each becomes (or why it is refused); import.

    The files are read and checked by :func:`sync.io.evidence_import.preview_evidence` on a
    background job (cancelled when the choice changes) and imported by
    :func:`sync.io.evidence_import.import_evidence` on the writer thread — the same
    functions as ``flourish import evidence``. Student and type come from the file names
    (``S001_journal_2026-10-12.txt``) unless chosen here.
    """

    def __init__(
        self,
        ctx: AppContext,
        students: list[tuple[str, str]],
        *,
        student_id: str | None = None,
        paths: list[Path] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importEvidenceDialog")
        self.setWindowTitle("Import evidence files")
        self.ctx = ctx
        self.paths: list[Path] = list(paths or [])
        self.student_box, self.type_box = _form_parts(
            [("From the file names", None), *students], student_id, ""
        )
        types = self.type_box.model()
        assert isinstance(types, ChoiceModel)
        types.set_choices([("From the file names", None), *types.choices])
        self.type_box.setCurrentIndex(0)
        self.skip_bad = QCheckBox("Import the good files, skip refused ones")
        self.file_lines = QStringListModel()
        self.files = QListView()
        self.files.setAccessibleName("Files to import")
        self.files.setModel(self.file_lines)
        choose = QPushButton("Choose files…")
        choose.clicked.connect(self.choose_files)
        folder = QPushButton("Choose a folder…")
        folder.clicked.connect(self.choose_folder)
        self.summary = QLabel(
            "Text (.txt, .md), Word (.docx) and PDF files; recordings' transcripts "
            "(.vtt, .srt) and transcript tables (.csv, .xlsx)."
        )
        self.summary.setWordWrap(True)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("Student", self.student_box)
        form.addRow("Type", self.type_box)
        pick = QHBoxLayout()
        pick.addWidget(choose)
        pick.addWidget(folder)
        pick.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(pick)
        layout.addWidget(self.files, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.skip_bad)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 90, self.fontMetrics().height() * 26)
        self.preview_task: Task[Any] | None = None
        self.plan: Any = None
        self.imported = 0
        self.student_box.currentIndexChanged.connect(self.preview)
        self.type_box.currentIndexChanged.connect(self.preview)
        self.skip_bad.toggled.connect(self._update_ok)
        self.preview()

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Evidence files", "", EVIDENCE_FILTER)
        if names:
            self.paths = [Path(n) for n in names]
            self.preview()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of evidence files")
        if folder:
            self.paths = [Path(folder)]
            self.preview()

    def _choices(self) -> tuple[str | None, str | None]:
        return combo_value(self.student_box), combo_value(self.type_box)

    def preview(self) -> None:
        """Read and check the chosen files in the background; list the outcome."""
        if self.preview_task is not None:
            self.preview_task.cancel()
        self.plan = None
        self._update_ok()
        if not self.paths:
            self.file_lines.setStringList([])
            return
        student, kind = self._choices()
        store, paths = self.ctx.store, list(self.paths)
        self.summary.setText("Reading the files…")

        def work(_tc: TaskContext) -> Any:
            from sync.io.evidence_import import preview_evidence

            return preview_evidence(store, paths, student_id=student, entry_type=kind)

        self.preview_task = self.ctx.tasks.job(
            work, self._previewed, lambda exc: self._fail(describe(exc)[1]), name="import-preview"
        )

    def _previewed(self, plan: Any) -> None:
        self.plan = plan
        lines = [
            f"✓ {f.path.name} → {f.student_id}, {entry_label(f.entry_type)}, "
            f"{format_date(f.date)} “{f.title}”"
            for f in plan.files
        ]
        lines += [f"✗ {r.path.name}: {r.reason}" for r in plan.refused]
        lines += [f"– {p.name}: not an evidence file type" for p in plan.ignored]
        self.file_lines.setStringList(lines)
        self.summary.setText(plan.summary())
        self._update_ok()

    def _update_ok(self) -> None:
        plan = self.plan
        ok = (
            plan is not None
            and bool(plan.files)
            and (not plan.refused or self.skip_bad.isChecked())
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def submit(self) -> None:
        if self.plan is None or not self.plan.files:
            self._fail("Choose files with a student and a type first.")
            return
        student, kind = self._choices()
        store, paths, skip = self.ctx.store, list(self.paths), self.skip_bad.isChecked()
        teacher = self.ctx.teacher_id
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

        def work() -> Any:
            from sync.io.evidence_import import import_evidence

            return import_evidence(
                store,
                paths,
                student_id=student,
                entry_type=kind,
                teacher_id=teacher,
                skip_bad=skip,
            )

        def done(result: Any) -> None:
            self.imported = len(result.entries)
            self.ctx.bus.publish(result.changes, source="evidence")
            self.accept()

        self.ctx.tasks.write(work, done, lambda exc: self._fail(describe(exc)[1]), name="import")

    def cancel(self) -> None:
        if self.preview_task is not None:
            self.preview_task.cancel()
        self.reject()

    def _fail(self, text: str) -> None:
        self._update_ok()
        self.error.setText(text)
        self.error.show()
