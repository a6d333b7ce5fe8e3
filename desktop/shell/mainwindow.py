"""The main window: roster on the left; review, class, student and conflicts on the right;
sync state in the status bar; menus with native shortcuts; remembered geometry.

Every panel reads and writes through the window's :class:`~desktop.core.context.AppContext`
(background tasks, one change bus). Quitting first lets queued writes finish (a write task
queued behind them reads the sync queue), then warns when changes have not reached the
server and offers to sync. Work on the store file itself (restore, encryption, sign-out)
first stops sync and AI assessment and waits until no background work is left
(:meth:`MainWindow.quiesce`); :meth:`MainWindow.reopen` then hands the app a
:class:`~desktop.core.context.Reopen`. The File-menu handlers live in
:mod:`desktop.shell.fileactions`, the first-day actions in :mod:`desktop.shell.firstday` and
the menus in :mod:`desktop.shell.mainparts`. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QTabWidget

from desktop.classes.classview import ClassPanel
from desktop.classes.roster import RosterPanel
from desktop.core.context import AppContext, ChangeSet, Reopen
from desktop.core.errors import ErrorPresenter
from desktop.core.prefs import Prefs
from desktop.core.tasks import TaskContext
from desktop.core.theme import Appearance, apply_appearance
from desktop.core.version import version
from desktop.evidence.assessing import AssessController, CalibrationDialog
from desktop.evidence.skillchoice import SkillChoiceDialog
from desktop.review.panel import ReviewPanel
from desktop.shell.fileactions import FileActions
from desktop.shell.firstday import FirstDayActions
from desktop.shell.mainparts import JobIndicator, build_menus, shortcuts_html
from desktop.shell.statusbar import SyncStatusWidget
from desktop.student.panel import StudentPanel
from desktop.syncui.conflicts import ConflictsPanel
from desktop.syncui.worker import SyncWorker

__all__ = ["MainWindow"]

REVIEW, CLASS, STUDENT, CONFLICTS = range(4)


class MainWindow(QMainWindow, FirstDayActions, FileActions):
    first_paint = Signal()
    switch_profile = Signal(object)  # Path or Reopen: the app reopens on that data folder

    def __init__(
        self, ctx: AppContext, *, prefs: Prefs | None = None, start_sync: bool = True
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.ctx = ctx
        self.prefs = prefs or Prefs()
        self._painted = False
        self._may_close = False
        self._quit_after_sync = False
        self.quit_box: QMessageBox | None = None
        self.dialog: Any = None
        self.errors = ErrorPresenter(self)
        self.errors.status_message = lambda text: self.statusBar().showMessage(text, 10_000)
        ctx.tasks.error.connect(self.errors.show)
        self._set_title()

        self.roster = RosterPanel(ctx)
        self.review = ReviewPanel(ctx)
        self.class_panel = ClassPanel(ctx)
        self.student = StudentPanel(ctx)
        self.conflicts = ConflictsPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.review, "Review queue")
        self.tabs.addTab(self.class_panel, "Class")
        self.tabs.addTab(self.student, "Student")
        self.tabs.addTab(self.conflicts, "Conflicts")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.roster)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([self.fontMetrics().averageCharWidth() * 30, 1000])
        self.setCentralWidget(self.splitter)

        self.sync_status = SyncStatusWidget()
        self.jobs = JobIndicator()
        self.awaiting_label = QLabel("")
        self.statusBar().addPermanentWidget(self.awaiting_label)
        self.statusBar().addPermanentWidget(self.jobs)
        self.statusBar().addPermanentWidget(self.sync_status)
        self._sync_on = start_sync
        self._quiesce_timer: QTimer | None = None
        self.notice_box: QMessageBox | None = None
        self.sync = self._new_sync()
        self.sync_status.conflicts_clicked.connect(lambda: self.show_tab(CONFLICTS))
        self.assess = AssessController(ctx, self)
        self.assess.progress.connect(self.jobs.set_progress)
        self.assess.running_changed.connect(self._assess_running)
        self.assess.finished.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.assess.status.connect(self.statusBar().showMessage)  # "waiting for the model (…)"
        self.assess.awaiting_changed.connect(self._awaiting)
        self.assess.setup_needed.connect(self.show_ai_setup)
        self.jobs.cancel_clicked.connect(self.assess.cancel)

        ctx.bus.changed.connect(self._changes)
        self.roster.student_selected.connect(self.open_student)
        self.roster.students_loaded.connect(self._students_loaded)
        self.roster.add_requested.connect(self.add_student)
        self.roster.edit_requested.connect(self.edit_student)
        self.roster.remove_requested.connect(self.remove_student)
        self.class_panel.student_activated.connect(self.open_student)
        self.student.review_requested.connect(self.review_student)
        self.student.add_evidence_requested.connect(self.new_evidence)
        self.student.reassess_requested.connect(self.reassess_entry)
        self.student.import_evidence_requested.connect(self.import_evidence)
        self.student.report_requested.connect(self.export_report)
        self.student.assess_requested.connect(self.assess_yourself)
        self.menu_actions = build_menus(self)
        self._students: list[tuple[str, str]] = []
        self._restore_geometry()
        self.roster.refresh()
        self.review.by_document.setChecked(self.prefs.by_document)
        self.review.by_document.toggled.connect(self._remember_by_document)
        self.review.start()
        self.assess.refresh_awaiting()
        # sync starts once the window is on screen: its machinery loads then, not before
        self.first_paint.connect(self._start_sync)

    def _start_sync(self) -> None:
        """After the first paint: import the sync machinery (HTTP client, engine) on a
        worker thread, then count the queue and, unless told not to, start the loop."""

        def load(_tc: TaskContext) -> None:
            import sync.replication.worker  # noqa: F401

        def go(_: None) -> None:
            if self._sync_on:
                self.sync.start()
            else:
                self.sync.refresh_counts()

        self.ctx.tasks.job(load, go, self.ctx.tasks.error.emit, name="load-sync")

    # -- navigation ----------------------------------------------------------------------
    def show_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def _tab_changed(self, index: int) -> None:
        if index == CLASS and not self.class_panel.loaded_once:
            self.class_panel.refresh()
        elif index == CONFLICTS and not self.conflicts.loaded_once:
            self.conflicts.refresh()
        elif index == REVIEW:
            self.review.table.setFocus()

    def open_student(self, student_id: str) -> None:
        self.roster.select(student_id, notify=False)
        self.student.show_student(student_id)
        self.show_tab(STUDENT)

    def review_student(self, student_id: str) -> None:
        from desktop.core.widgets import set_combo_value

        set_combo_value(self.review.student_box, student_id)
        self.show_tab(REVIEW)

    def _students_loaded(self, students: list[Any]) -> None:
        self._students = [(f"{s.name} ({s.id})", s.id) for s in students]
        self.review.set_students([(s.name, s.id) for s in students])
        if self.student.student_id is None and students:
            self.student.show_student(students[0].id)
            self.roster.select(students[0].id, notify=False)

    # -- actions -------------------------------------------------------------------------
    def undo(self) -> None:
        if not self.review.undo():
            self.statusBar().showMessage("Nothing to undo", 3000)
        self.show_tab(REVIEW)

    def toggle_by_document(self, on: bool) -> None:
        self.review.by_document.setChecked(on)

    def _remember_by_document(self, on: bool) -> None:
        self.prefs.by_document = on

    def open_settings(self, tab: str = "server") -> Any:
        from desktop.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self.prefs, tab=tab, parent=self)
        dialog.signed_in.connect(self.signed_in)
        dialog.appearance_changed.connect(self.set_appearance)
        dialog.switch_profile.connect(self._switch_profile)
        dialog.reopen_requested.connect(self.reopen)
        dialog.sync_requested.connect(lambda: self.sync.sync_now())
        self.dialog = dialog
        dialog.open()
        return dialog

    # -- work on the store file itself ---------------------------------------------------
    def _new_sync(self) -> SyncWorker:
        sync = SyncWorker(self.ctx, self)
        sync.status_changed.connect(self.sync_status.show_status)
        sync.round_finished.connect(self._round_finished)
        return sync

    def quiesce(self, then: Callable[[], None]) -> None:
        """Stop sync and AI assessment, then call ``then`` once every background read,
        write and job has called back (nothing holds the store any more)."""
        self.sync.stop()
        self.assess.cancel()
        if self._quiesce_timer is not None:
            self._quiesce_timer.stop()
        timer = QTimer(self)
        timer.setInterval(20)

        def check() -> None:
            if self.ctx.tasks.idle and self.sync.idle:
                timer.stop()
                self._quiesce_timer = None
                then()

        timer.timeout.connect(check)
        self._quiesce_timer = timer
        timer.start()

    def resume_sync(self) -> None:
        """After :meth:`quiesce`, when the store stays open after all: sync again."""
        old, self.sync = self.sync, self._new_sync()
        old.detach()
        old.deleteLater()
        if self._sync_on:
            self.sync.start()
        else:
            self.sync.refresh_counts()

    def reopen(self, request: Reopen) -> None:
        """Close this window and the store, let the app run ``request`` and reopen."""
        self.statusBar().showMessage("Closing the data file…")
        self.quiesce(lambda: self.switch_profile.emit(request))

    def signed_in(self) -> None:
        """After a sign-in: re-read who this laptop belongs to, then sync at once."""
        self.reload_profile(then=self.sync.reconfigured)

    def reload_profile(self, then: Any = None) -> None:
        from desktop.core.context import load_profile

        store = self.ctx.store

        def loaded(profile: Any) -> None:
            self.ctx.profile = profile
            self._set_title()
            if then is not None:
                then()

        self.ctx.tasks.read(lambda: load_profile(store), loaded, name="profile")

    def _changes(self, change: ChangeSet) -> None:
        if change.everything or change.touches("teachers"):
            self.reload_profile()  # a pull may bring the teacher's name

    def _set_title(self) -> None:
        ctx = self.ctx
        who = ctx.profile.teacher_name or ctx.teacher_id or "not signed in"
        # Qt adds the application's display name ("— Flourish") on Linux and Windows.
        self.setWindowTitle(who + (" — demo class" if ctx.is_demo else ""))

    def _switch_profile(self, folder: Path) -> None:
        self.switch_profile.emit(folder)

    def set_appearance(self, appearance: Appearance) -> None:
        self.prefs.appearance = appearance
        apply_appearance(appearance)

    def assess_now(self) -> None:
        self.assess.start()

    def assess_chosen(self) -> None:
        """Ask the teacher which skills, then assess the awaiting entries for those only."""
        dialog = SkillChoiceDialog(self)
        dialog.accepted.connect(lambda: self.assess.start(skills=dialog.chosen()))
        self.dialog = dialog
        dialog.open()

    def reassess_entry(self, entry_id: str) -> None:
        if self.assess.running:
            self.statusBar().showMessage("An AI assessment is already running", 5000)
            return
        self.assess.start(entry_ids=[entry_id])

    def show_calibration(self) -> None:
        self.dialog = CalibrationDialog(self.ctx, self)
        self.dialog.open()

    def show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(shortcuts_html(self.menu_actions))
        self.dialog = box
        box.open()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Flourish",
            f"<h3>Flourish Desktop {version()}</h3><p>Review AI skill assessments, set "
            "targets and grant badges — offline first, synced when online.</p>"
            f"<p>Data folder: {self.ctx.profile.data_dir}</p>",
        )

    def _assess_running(self, running: bool) -> None:
        self.jobs.set_running(running, "Assessing evidence")
        self.menu_actions["assess"].setEnabled(not running)
        self.menu_actions["assess_skills"].setEnabled(not running)

    def _awaiting(self, n: int) -> None:
        noun = "entry awaits" if n == 1 else "entries await"
        self.awaiting_label.setText(f"{n} {noun} AI assessment" if n else "")

    # -- geometry ------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.prefs.geometry("main")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        for key, splitter in (
            ("main-splitter", self.splitter),
            ("review-splitter", self.review.splitter),
            ("student-splitter", self.student.splitter),
        ):
            state = self.prefs.geometry(key)
            if state is not None:
                splitter.restoreState(state)

    def _save_geometry(self) -> None:
        self.prefs.set_geometry("main", self.saveGeometry())
        self.prefs.set_geometry("main-splitter", self.splitter.saveState())
        self.prefs.set_geometry("review-splitter", self.review.splitter.saveState())
        self.prefs.set_geometry("student-splitter", self.student.splitter.saveState())
        self.prefs.sync()

    # -- painting, closing ---------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._painted:
            self.review.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, lambda: self.first_paint.emit())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            self._save_geometry()
            self.shutdown()
            event.accept()
            return
        event.ignore()
        if self.quit_box is not None and self.quit_box.isVisible():
            return
        from sync.replication.status import queue_status

        store = self.ctx.store
        # Queued behind every pending write, so the count includes them.
        self.ctx.tasks.write(lambda: queue_status(store), self._confirm_quit, name="quit-check")

    def _confirm_quit(self, counts: dict[str, Any]) -> None:
        from desktop.shell.setupsteps import quit_wording

        pending = int(counts.get("pending", 0))
        can_sync = self.sync.configured is not False
        wording = quit_wording(
            pending,
            demo=self.ctx.is_demo,
            local_only=not self.ctx.profile.server_url,
            can_sync=can_sync,
        )
        if wording is None:
            self.really_close()
            return
        can_sync = wording.offer_sync
        box = QMessageBox(self)
        box.setObjectName("quitBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(wording.title)
        box.setText(wording.text)
        box.setInformativeText(wording.detail)
        if can_sync:
            self.sync_button = box.addButton(
                "Sync now, then quit", QMessageBox.ButtonRole.AcceptRole
            )
        else:
            self.sync_button = box.addButton("Sign in…", QMessageBox.ButtonRole.ActionRole)
        self.quit_anyway_button = box.addButton(
            "Quit anyway", QMessageBox.ButtonRole.DestructiveRole
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda b: self._quit_choice(b, can_sync))
        self.quit_box = box
        box.open()

    def _quit_choice(self, button: Any, can_sync: bool) -> None:
        if button is self.quit_anyway_button:
            self.really_close()
        elif button is self.sync_button:
            if can_sync:
                self._quit_after_sync = True
                self.statusBar().showMessage("Syncing before quitting…")
                self.sync.sync_now()
            else:
                self.open_settings("server")

    def _round_finished(self, ok: bool, message: str) -> None:
        if not self._quit_after_sync:
            return
        self._quit_after_sync = False
        if ok:
            self.close()  # checks the queue again, behind any write still queued
            return
        # Offline at the end of the day is normal: nothing is lost, so say so and quit.
        self.statusBar().showMessage("Not sent this time: the changes are safe on this laptop")
        box = QMessageBox(
            QMessageBox.Icon.Information, "Changes kept on this laptop", "", parent=self
        )
        box.setObjectName("offlineQuitBox")
        box.setText("The server could not be reached, so nothing was sent this time.")
        box.setInformativeText(
            "Your changes are safe on this laptop and will be sent the next time Flourish "
            "syncs. Flourish closes now."
        )
        box.setDetailedText(message)
        box.finished.connect(lambda _r: self.really_close())
        self.quit_box = box
        box.open()
        QTimer.singleShot(20_000, box.accept)  # the teacher may have walked away already

    def really_close(self) -> None:
        self._may_close = True
        self.close()

    def shutdown(self) -> None:
        """Stop sync and background work; queued writes finish first, and a sync round
        that is running finishes its current batch."""
        self.sync.stop_and_wait(timeout=30.0)
        self.assess.cancel()
        self.ctx.tasks.shutdown(wait=True)
