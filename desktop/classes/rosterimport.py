"""File ▸ Import roster…: a class list in, previewed first, all or nothing.

The same functions as ``flourish import roster``: :func:`sync.io.roster.preview_roster` reads
and checks the chosen files on a background job and says what would change (every row:
added, updated with the fields that change, or unchanged; the encodings and any notes);
:func:`sync.io.roster.import_roster` re-checks and writes them in one transaction on the
writer thread, and the changes go out on the app's change bus. A file with problems
(:class:`sync.io.roster.RosterProblems`) lists **every** problem with its file and line, and
nothing can be imported until they are fixed.

Accepted: one simple CSV (``student_id,name,grade,teacher_id``), or a school's export —
OneRoster 1.1 or 1.2, or Clever — as a folder or its files chosen together. For an
export the dialog lists every class in the file with what happens to it ("→ T001", or
skipped and why) and the notes say what was left out ("skipped 4 student(s) in grades
outside 6–8"). *Import for* picks a teacher: then the classes are check boxes, and the
checked ones join that teacher's class (``flourish import roster --teacher T001
--classes …``). GUI thread only; no file or database access happens here directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
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
from sync.io.roster import ClassChoice, RosterChange, RosterProblem, RosterProblems, Selection
from sync.store.state import SERVER_URL, TEACHER_ID

__all__ = ["ClassListModel", "ImportRosterDialog", "describe_change", "describe_class"]

_KINDS = {"add": "Add", "update": "Update", "unchanged": "Unchanged"}
_FIELDS = {
    "name": "name",
    "grade": "grade",
    "teacher_id": "teacher",
    "external_source": "source",
    "external_id": "school id",
}
_Index = QModelIndex | QPersistentModelIndex


def describe_class(choice: ClassChoice) -> str:
    """ "Homeroom 7A — Maria Rodriguez (1001), 5 students → T001" or "…: skipped, why"."""
    head = f"{choice.title} — {choice.file_teacher}, {choice.students} students"
    if choice.teacher_id is not None:
        return f"{head} → {choice.teacher_id}"
    return f"{head}: skipped, {choice.reason}"


class ClassListModel(QAbstractListModel):
    """The classes of a school export; check boxes once a teacher is chosen."""

    def __init__(self) -> None:
        super().__init__()
        self.classes: list[ClassChoice] = []
        self.checked: set[str] = set()
        self.checkable = False

    def set_classes(self, classes: list[ClassChoice], checkable: bool) -> None:
        self.beginResetModel()
        self.classes = list(classes)
        self.checked = {c.key for c in classes if c.teacher_id is not None}
        self.checkable = checkable
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.classes)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        choice = self.classes[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return describe_class(choice)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return describe_class(choice)
        if role == Qt.ItemDataRole.CheckStateRole and self.checkable:
            on = choice.key in self.checked
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsUserCheckable if self.checkable else base

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or not self.checkable:
            return False
        key = self.classes[index.row()].key
        on = Qt.CheckState(value) == Qt.CheckState.Checked
        self.checked = self.checked | {key} if on else self.checked - {key}
        self.dataChanged.emit(index, index, [role])
        return True


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
        self.selection = Selection()
        self.teachers: list[tuple[str, str]] = []  # (id, name) known to the store
        self.class_model = ClassListModel()
        self.class_model.dataChanged.connect(self._classes_checked)
        self.class_view = QListView()
        self.class_view.setObjectName("rosterClasses")
        self.class_view.setModel(self.class_model)
        self.class_view.setAccessibleName("Classes in the file")
        self.class_view.setWordWrap(True)
        self.class_view.setSpacing(3)
        self.class_view.setAlternatingRowColors(True)
        self.teacher_combo = QComboBox()
        self.teacher_combo.setObjectName("rosterTeacher")
        self.teacher_combo.setAccessibleName("Import the classes for")
        self.teacher_combo.addItem("the teachers the file names", None)
        self.teacher_combo.activated.connect(self._teacher_chosen)
        classes_label = QLabel("&Classes in the file:")
        classes_label.setBuddy(self.class_view)
        teacher_label = QLabel("Import &for:")
        teacher_label.setBuddy(self.teacher_combo)
        self.class_help = QLabel(
            "Choose a teacher to pick the classes yourself: the checked classes join that "
            "teacher's class."
        )
        self.class_help.setWordWrap(True)
        self.class_panel = QWidget()
        self.class_panel.setObjectName("rosterClassPanel")
        panel = QVBoxLayout(self.class_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        who = QHBoxLayout()
        who.addWidget(teacher_label)
        who.addWidget(self.teacher_combo, 1)
        panel.addLayout(who)
        panel.addWidget(classes_label)
        panel.addWidget(self.class_view, 1)
        panel.addWidget(self.class_help)
        self.class_panel.hide()
        self.change_view = _table(self.changes, "rosterChanges")
        self.change_view.setAccessibleName("Students to add or update")
        self.problem_view = _table(self.problems, "rosterProblems")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.change_view)
        self.stack.addWidget(self.problem_view)
        choose = QPushButton("Choose a CSV file…")
        choose.setToolTip("One roster CSV, or the files of a OneRoster or Clever export")
        choose.clicked.connect(self.choose_files)
        folder = QPushButton("Choose an export folder…")
        folder.clicked.connect(self.choose_folder)
        self.files_label = QLabel("No file chosen.")
        self.files_label.setWordWrap(True)
        self.summary = QLabel(
            "A CSV with the columns student_id, name, grade and teacher_id, or a school's "
            "export: OneRoster 1.1 or 1.2 (users.csv, enrollments.csv, classes.csv) or Clever "
            "(students.csv, teachers.csv, sections.csv, enrollments.csv). Students missing "
            "from the file are left alone."
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
        middle = QHBoxLayout()
        middle.addWidget(self.class_panel, 2)
        middle.addWidget(self.stack, 3)
        layout.addLayout(middle, 1)
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
            self.selection = Selection()
            self.preview()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "OneRoster or Clever folder")
        if folder:
            self.paths = [Path(folder)]
            self.selection = Selection()
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
        store, paths, selection = self.ctx.store, list(self.paths), self.selection
        self.summary.setText("Reading the roster…")

        def work(_tc: TaskContext) -> Any:
            from sync.io.roster import preview_roster
            from sync.model.crud import TEACHERS

            with store.read() as conn:
                teachers = [(t.id, t.name) for t in TEACHERS.list(conn)]
            own = store.state(TEACHER_ID) if store.state(SERVER_URL) else None
            teachers = [t for t in teachers if own is None or t[0] == own]
            return preview_roster(store, paths, selection=selection), teachers

        self.preview_task = self.ctx.tasks.job(
            work, self._previewed, self._refused, name="roster-preview"
        )

    def _previewed(self, result: Any) -> None:
        plan, teachers = result
        self.plan = plan
        self._show_classes(plan, teachers)
        self.changes.set_rows(plan.changes)
        self.problems.set_rows([])
        self.stack.setCurrentWidget(self.change_view)
        self.summary.setText(f"{plan.summary()}.")
        self.notes.setText("\n".join(f"Note: {n}" for n in plan.notes))
        self.notes.setVisible(bool(plan.notes))
        self.import_button.setEnabled(bool(plan.added or plan.updated))
        if not plan.changes:
            self.import_button.setToolTip("No students to import: the notes say why")
        elif not (plan.added or plan.updated):
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

        selection = self.selection

        def work() -> Any:
            from sync.io.roster import import_roster

            return import_roster(store, paths, selection=selection)

        def done(result: Any) -> None:
            p = result.preview
            self.ctx.bus.publish(result.changes, source="roster")
            text = f"Roster imported: {p.added} added, {p.updated} updated"
            self.imported.emit(text + (f" ({p.unchanged} unchanged)" if p.unchanged else ""))
            self.accept()

        self.ctx.tasks.write(work, done, self._refused, name="roster-import")

    # -- classes ---------------------------------------------------------------------------
    def _show_classes(self, plan: Any, teachers: list[tuple[str, str]]) -> None:
        if teachers != self.teachers:
            self.teachers = teachers
            self.teacher_combo.clear()
            self.teacher_combo.addItem("the teachers the file names", None)
            for tid, name in teachers:
                self.teacher_combo.addItem(f"{name} ({tid})", tid)
        at = self.teacher_combo.findData(self.selection.teacher)
        self.teacher_combo.setCurrentIndex(max(at, 0))
        self.class_model.set_classes(list(plan.classes), self.selection.teacher is not None)
        chosen = self.teacher_combo.currentText() if self.selection.teacher else None
        self.class_help.setText(
            f"The checked classes join the class of {chosen}."
            if chosen
            else "Each class goes to the teacher the file names. Choose a teacher above to "
            "pick the classes yourself."
        )
        self.class_panel.setVisible(bool(plan.classes))

    def _teacher_chosen(self, _row: int) -> None:
        self.selection = Selection(teacher=self.teacher_combo.currentData())
        self.preview()

    def _classes_checked(self, *_args: object) -> None:
        if self.selection.teacher is None:
            return
        keys = tuple(c.key for c in self.class_model.classes if c.key in self.class_model.checked)
        self.selection = Selection(teacher=self.selection.teacher, classes=keys)
        self.preview()

    def cancel(self) -> None:
        if self.preview_task is not None:
            self.preview_task.cancel()
        self.reject()

    def _fail(self, text: str) -> None:
        self.summary.setText("")
        self.error.setText(text)
        self.error.show()
