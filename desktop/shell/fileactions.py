"""The main window's File-menu handlers, kept out of its module: new and imported evidence,
the student report (written on a background job), roster import, CSV export, backup and
restore, and the notice that says what a finished operation did.

A mixin of :class:`desktop.shell.mainwindow.MainWindow` (it uses the window's ``ctx``,
``student`` panel, ``jobs`` indicator, ``errors``, ``dialog`` and status bar). GUI thread
only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtWidgets import QMainWindow, QMessageBox, QStatusBar

from desktop.core.tasks import TaskContext

__all__ = ["FileActions"]

if TYPE_CHECKING:
    from desktop.core.context import AppContext
    from desktop.core.errors import ErrorPresenter
    from desktop.dataio.dialogs import Host
    from desktop.shell.mainparts import JobIndicator
    from desktop.student.panel import StudentPanel


class FileActions:
    """Mixed into the main window after ``QMainWindow`` (see the module docstring)."""

    ctx: AppContext
    student: StudentPanel
    jobs: JobIndicator
    errors: ErrorPresenter
    dialog: Any
    notice_box: QMessageBox | None
    _students: list[tuple[str, str]]
    add_student: Callable[[], Any]
    review_student: Callable[[str], None]

    def _window(self) -> QMainWindow:
        return cast(QMainWindow, self)

    def _bar(self) -> QStatusBar:
        return self._window().statusBar()

    def _host(self) -> Host:
        return cast("Host", self)

    def new_evidence(self, student_id: str | None = None) -> None:
        from desktop.evidence.panel import NewEvidenceDialog  # dialogs load when first opened

        if not self._students:
            self._bar().showMessage("Add a student first: evidence is about a student", 8000)
            self.add_student()
            return

        self.dialog = NewEvidenceDialog(
            self.ctx,
            self._students,
            student_id=student_id or self.student.student_id,
            parent=self._window(),
        )
        self.dialog.open()

    def import_evidence(self, student_id: str | None = None) -> None:
        """Import files; the student comes from the file names unless ``student_id``."""
        from desktop.evidence.panel import ImportEvidenceDialog

        self.dialog = ImportEvidenceDialog(
            self.ctx, self._students, student_id=student_id, parent=self._window()
        )
        self.dialog.open()

    def export_report(self, student_id: str) -> Any:
        """Ask for the period, the name and the file, then write the report in the background."""
        from desktop.student.reportdialog import ReportDialog

        dialog = ReportDialog(self.ctx, student_id, parent=self._window())
        dialog.requested.connect(
            lambda r: self.write_report(
                r.student_id,
                r.path,
                include_name=r.include_name,
                date_from=r.date_from,
                date_to=r.date_to,
            )
        )
        dialog.review_requested.connect(self.review_student)
        self.dialog = dialog
        dialog.open()
        return dialog

    def write_report(self, student_id: str, path: Path, **options: Any) -> None:
        """Render the PDF (desktop.report) on a background job; the status bar says when.
        ``options``: ``include_name``, ``date_from``, ``date_to`` of :func:`render_report`."""
        store = self.ctx.store

        def work(_tc: TaskContext) -> int:
            from desktop.report import render_report

            return int(render_report(store, student_id, path, **options))

        def done(pages: int) -> None:
            self.jobs.set_running(False, "")
            self._bar().showMessage(f"Report saved: {path} ({pages} pages)", 15_000)

        def failed(exc: BaseException) -> None:
            self.jobs.set_running(False, "")
            self.errors.show(exc)

        self.jobs.set_running(True, "Writing the report")
        self.ctx.tasks.job(work, done, failed, name="report")

    def import_roster(self, paths: list[Path] | None = None) -> Any:
        from desktop.classes.rosterimport import ImportRosterDialog

        self.dialog = ImportRosterDialog(self.ctx, paths=paths, parent=self._window())
        self.dialog.imported.connect(lambda text: self._bar().showMessage(text, 15_000))
        self.dialog.open()
        return self.dialog

    def export_csv(self, folder: Path | None = None) -> None:
        from desktop.dataio import dialogs as datadialogs

        datadialogs.export_csv(self._host(), folder)

    def back_up(self, path: Path | None = None) -> None:
        from desktop.dataio import dialogs as datadialogs

        datadialogs.back_up(self._host(), path)

    def restore_backup(self, path: Path | None = None) -> Any:
        from desktop.dataio import dialogs as datadialogs

        return datadialogs.restore(self._host(), path)

    def show_notice(self, text: str, title: str = "Flourish") -> QMessageBox:
        """Tell the teacher what a finished operation did (window-modal, not blocking)."""
        self._bar().showMessage((text.splitlines() or [""])[0], 15_000)
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self._window())
        box.setObjectName("noticeBox")
        self.notice_box = box
        box.open()
        return box
