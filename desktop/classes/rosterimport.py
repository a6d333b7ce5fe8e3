"""File ▸ Import roster…: a class list in, previewed first, all or nothing.

The same functions as ``flourish import roster``: :func:`sync.io.roster.preview_roster` reads
and checks the chosen files on a background job and says what would change (every row:
added, updated with the fields that change, or unchanged; the encodings and any notes);
:func:`sync.io.roster.import_roster` re-checks and writes them in one transaction on the
writer thread, and the changes go out on the app's change bus. A file with problems
(:class:`sync.io.roster.RosterProblems`) lists **every** problem with its file and line, and
nothing can be imported until they are fixed.

Accepted: one simple CSV (``student_id,name,grade,teacher_id``), or OneRoster 1.1 — a
folder holding ``users.csv``, ``enrollments.csv`` and ``classes.csv``, or the three files
chosen together. GUI thread only; no file or database access happens here directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.tasks import Task, TaskContext
from desktop.core.widgets import Column, RowTableModel, error_label
from sync.io.roster import RosterChange, RosterProblem, RosterProblems

__all__ = ["ImportRosterDialog", "describe_change"]

_KINDS = {"add": "Add", "update": "Update", "unchanged": "Unchanged"}
_FIELDS = {"name": "name", "grade": "grade", "teacher_id": "teacher"}


def describe_change(change: RosterChange) -> str:
    """ "name Eva → Eva Rossi; grade 7 → 8" for an update, "new student" for an add."""
    if change.kind == "add":
        return "new student"
    before = change.before
    if before is None or not change.changed_fields:
        return ""
    return "; ".join(
        f"{_FIELDS[f]} {getattr(before, f)} → {getattr(change.row, f)}"
        for f in change.changed_fields
    )


def _table(model: RowTableModel[Any], name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


class ImportRosterDialog(QDialog):
    """Choose a roster; see every change (or every problem); import. See the module doc."""

    imported = Signal(str)  # "Roster imported: 3 added, 1 updated (1 unchanged)"

    def __init__(
        self, ctx: AppContext, *, paths: list[Path] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importRosterDialog")
        self.setWindowTitle("Import roster")
        self.ctx = ctx
        self.paths: list[Path] = list(paths or [])
        self.changes: RowTableModel[RosterChange] = RowTableModel(
            [
                Column("Change", lambda c: _KINDS[c.kind]),
                Column("Student", lambda c: c.row.student_id),
                Column("Name", lambda c: c.row.name),
                Column("Grade", lambda c: c.row.grade, align_right=True),
                Column("Teacher", lambda c: c.row.teacher_id),
                Column("What changes", describe_change, tooltip=describe_change),
            ]
        )
        self.problems: RowTableModel[RosterProblem] = RowTableModel(
            [
                Column("File", lambda p: p.file),
                Column("Line", lambda p: "" if p.line is None else p.line, align_right=True),
                Column("Problem", lambda p: p.message, tooltip=lambda p: p.message),
            ]
        )
        self.change_view = _table(self.changes, "rosterChanges")
        self.problem_view = _table(self.problems, "rosterProblems")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.change_view)
        self.stack.addWidget(self.problem_view)
        choose = QPushButton("Choose a CSV file…")
        choose.setToolTip("One roster CSV, or the three OneRoster files together")
        choose.clicked.connect(self.choose_files)
        folder = QPushButton("Choose a OneRoster folder…")
        folder.clicked.connect(self.choose_folder)
        self.files_label = QLabel("No file chosen.")
        self.files_label.setWordWrap(True)
        self.summary = QLabel(
            "A CSV with the columns student_id, name, grade and teacher_id, or a OneRoster "
            "1.1 export (users.csv, enrollments.csv, classes.csv). Students missing from the "
            "file are left alone."
        )
        self.summary.setObjectName("rosterSummary")
        self.summary.setWordWrap(True)
        self.notes = QLabel("")
        self.notes.setObjectName("rosterNotes")
        self.notes.setWordWrap(True)
        self.notes.hide()
        self.error = error_label()
        pick = QHBoxLayout()
        pick.addWidget(choose)
        pick.addWidget(folder)
        pick.addWidget(self.files_label, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 124, self.fontMetrics().height() * 32)
        self.preview_task: Task[Any] | None = None
        self.plan: Any = None
        self.import_button.setEnabled(False)
        if self.paths:
            self.preview()

    # -- choosing ------------------------------------------------------------------------
    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Roster file", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if names:
            self.paths = [Path(n) for n in names]
            self.preview()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "OneRoster folder")
        if folder:
            self.paths = [Path(folder)]
            self.preview()

    # -- preview -------------------------------------------------------------------------
    def preview(self) -> None:
        """Read and check the chosen files in the background; show what would change."""
        if self.preview_task is not None:
            self.preview_task.cancel()
        self.plan = None
        self.import_button.setEnabled(False)
        self.error.hide()
        self.files_label.setText(", ".join(p.name for p in self.paths) or "No file chosen.")
        if not self.paths:
            return
        store, paths = self.ctx.store, list(self.paths)
        self.summary.setText("Reading the roster…")

        def work(_tc: TaskContext) -> Any:
            from sync.io.roster import preview_roster

            return preview_roster(store, paths)

        self.preview_task = self.ctx.tasks.job(
            work, self._previewed, self._refused, name="roster-preview"
        )

    def _previewed(self, plan: Any) -> None:
        self.plan = plan
        self.changes.set_rows(plan.changes)
        self.problems.set_rows([])
        self.stack.setCurrentWidget(self.change_view)
        kind = "OneRoster 1.1" if plan.format == "oneroster" else "Roster CSV"
        self.summary.setText(f"{kind} — {plan.summary()}.")
        self.notes.setText("\n".join(f"Note: {n}" for n in plan.notes))
        self.notes.setVisible(bool(plan.notes))
        self.import_button.setEnabled(bool(plan.added or plan.updated))
        if not (plan.added or plan.updated):
            self.import_button.setToolTip("Every student in the file is already up to date")

    def _refused(self, exc: BaseException) -> None:
        self.plan = None
        self.import_button.setEnabled(False)
        if not isinstance(exc, RosterProblems):
            self._fail(describe(exc)[1])
            return
        self.changes.set_rows([])
        self.problems.set_rows(exc.problems)
        self.stack.setCurrentWidget(self.problem_view)
        n = len(exc.problems)
        self.summary.setText(
            f"{n} problem{'s' if n != 1 else ''} in the roster: nothing can be imported until "
            "the file is fixed. Every problem is listed with its file and line."
        )
        self.notes.hide()

    # -- import --------------------------------------------------------------------------
    def submit(self) -> None:
        if self.plan is None:
            return
        store, paths = self.ctx.store, list(self.paths)
        self.import_button.setEnabled(False)
        self.summary.setText("Importing…")

        def work() -> Any:
            from sync.io.roster import import_roster

            return import_roster(store, paths)

        def done(result: Any) -> None:
            p = result.preview
            self.ctx.bus.publish(result.changes, source="roster")
            text = f"Roster imported: {p.added} added, {p.updated} updated"
            self.imported.emit(text + (f" ({p.unchanged} unchanged)" if p.unchanged else ""))
            self.accept()

        self.ctx.tasks.write(work, done, self._refused, name="roster-import")

    def cancel(self) -> None:
        if self.preview_task is not None:
            self.preview_task.cancel()
        self.reject()

    def _fail(self, text: str) -> None:
        self.summary.setText("")
        self.error.setText(text)
        self.error.show()
