"""File ▸ Export CSV…, Back up this laptop's data…, Restore from a backup…, Download a fresh
copy from the server….

The same functions as ``flourish export``, ``backup`` and ``restore``
(:mod:`sync.io.export`, :mod:`sync.store.localbackup`), each on a background job; the window's
status bar shows the job and a notice says what was written.

Restoring (:class:`RestoreDialog`): the chosen file is inspected first
(:func:`~sync.store.localbackup.inspect_store_file`) and shown — teacher, date, counts — before
anything changes. *Restore* stops sync and AI assessment and waits until no background work
holds the store (:meth:`Host.quiesce`), then :func:`~sync.store.localbackup.restore_local`
runs on the writer thread (a safety copy of the current data is taken first) and the
window reopens the store, so every view starts afresh. A refusal
(:class:`~sync.store.localbackup.RestoreRefused`) is shown with its reason and sync resumes;
when the reason is changes not sent yet, *Restore anyway* is offered after a warning. A
backup of another teacher is never forced here.

A fresh copy (:func:`redownload`) is asked for once, then the window closes, the copy is
downloaded on a worker thread with the changes not sent yet kept and sent
(:mod:`sync.replication.redownload`), and the window reopens on it saying what was kept.

GUI thread only; no file or database access happens here directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import Reopen
from desktop.core.errors import describe
from desktop.core.tasks import TaskContext
from desktop.core.widgets import error_label
from desktop.core.wording import format_time

if TYPE_CHECKING:
    from desktop.core.context import AppContext
    from desktop.core.errors import ErrorPresenter


class JobSlot(Protocol):
    def set_running(self, running: bool, what: str) -> None: ...


class Host(Protocol):
    """What these dialogs need from the window that opens them (the main window): its
    context, the status-bar job indicator, the one error presenter, a notice, the slot for
    an open dialog, and the store-file steps (stop background work, reopen, resume)."""

    dialog: Any

    @property
    def ctx(self) -> AppContext: ...

    @property
    def jobs(self) -> JobSlot: ...

    @property
    def errors(self) -> ErrorPresenter: ...

    def show_notice(self, text: str, title: str = ...) -> Any: ...

    def quiesce(self, then: Callable[[], None]) -> None: ...

    def reopen(self, request: Reopen) -> None: ...

    def resume_sync(self) -> None: ...


__all__ = [
    "RestoreDialog",
    "back_up",
    "default_backup_name",
    "export_csv",
    "redownload",
    "restore",
]


def _widget(window: Host) -> QWidget:
    """The host is the main window, a QWidget: the parent of these dialogs."""
    return cast(QWidget, window)


def _run(window: Host, what: str, work: Any, done: Any, name: str) -> None:
    """``work`` on a background job with the status-bar indicator; errors to the one place."""

    def finished(value: Any) -> None:
        window.jobs.set_running(False, "")
        done(value)

    def failed(exc: BaseException) -> None:
        window.jobs.set_running(False, "")
        window.errors.show(exc)

    window.jobs.set_running(True, what)
    window.ctx.tasks.job(lambda _tc: work(), finished, failed, name=name)


def export_csv(window: Host, folder: Path | None = None) -> None:
    """Ask for a folder (unless given); write one CSV per table there."""
    if folder is None:
        chosen = QFileDialog.getExistingDirectory(
            _widget(window), "Export CSV files into this folder"
        )
        if not chosen:
            return
        folder = Path(chosen)
    store, out = window.ctx.store, folder

    def work() -> Any:
        from sync.io.export import export_csv as export

        return export(store, out)

    def done(result: Any) -> None:
        lines = [f"{p.name} — {n} row{'s' if n != 1 else ''}" for p, n in result.files.values()]
        window.show_notice(
            f"Exported {len(result.files)} CSV files to {result.folder}:\n\n" + "\n".join(lines),
            "Export finished",
        )

    _run(window, "Exporting CSV files", work, done, "export")


def default_backup_name(today: dt.date | None = None) -> str:
    return f"flourish-backup-{(today or dt.date.today()).isoformat()}.sqlite3"


def back_up(window: Host, path: Path | None = None) -> None:
    """Ask where to save (unless given); copy the store there with SQLite's backup API."""
    if path is None:
        suggested = str(Path.home() / default_backup_name())
        chosen, _ = QFileDialog.getSaveFileName(
            _widget(window), "Back up this laptop's data", suggested, "Flourish backup (*.sqlite3)"
        )
        if not chosen:
            return
        path = Path(chosen)
    store, dest = window.ctx.store, path
    encrypted = store.driver.encrypted

    def work() -> Any:
        from sync.store.localbackup import backup_local

        return backup_local(store, dest)

    def done(info: Any) -> None:
        text = f"Backup saved to {dest}.\n\nIt holds {_counts(info)}."
        if encrypted:
            text += (
                "\n\nLike the data on this laptop, the backup is encrypted: it can be restored "
                "only into this laptop's Flourish (with its key)."
            )
        window.show_notice(text, "Backup saved")

    _run(window, "Backing up", work, done, "backup")


def _counts(info: Any) -> str:
    return (
        f"{info.students} students, {info.entries} evidence entries, {info.assessments} "
        f"assessments and {info.unsent} changes not yet synced"
    )


def restore(window: Host, path: Path | None = None) -> RestoreDialog | None:
    """Ask for a backup file (unless given) and open :class:`RestoreDialog` on it."""
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(
            _widget(window),
            "Restore from a backup",
            str(Path.home()),
            "Flourish backup (*.sqlite3);;All files (*)",
        )
        if not chosen:
            return None
        path = Path(chosen)
    dialog = RestoreDialog(window, path)
    window.dialog = dialog
    dialog.open()
    return dialog


def fresh_copy(db: Path, key: str | None = None) -> str:
    """Download a fresh copy in place of the closed store ``db`` (worker thread); the
    sentence for the teacher."""
    from sync.replication.redownload import redownload as download

    return download(db, key=key).summary()


def redownload(window: Host) -> QMessageBox:
    """Ask, then replace this laptop's data by a fresh copy from the server (module doc)."""
    profile = window.ctx.profile
    if not profile.server_url or profile.profile == "demo":
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Download a fresh copy",
            "This laptop is not signed in to a server, so there is no copy to download."
            if profile.profile != "demo"
            else "The demo has no server to download from: start the demo again instead.",
            parent=_widget(window),
        )
        box.setObjectName("redownloadConfirm")
        window.dialog = box
        box.open()
        return box
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Download a fresh copy",
        "Replace the data on this laptop by a fresh copy from the server?",
        parent=_widget(window),
    )
    box.setObjectName("redownloadConfirm")
    box.setInformativeText(
        "Changes not sent yet are kept and sent after the download; they are also saved "
        "to a file in the backups folder first. The data file as it is now is kept "
        "beside the new one."
    )
    go = box.addButton("Download", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    folder, key = window.ctx.store.path.parent, window.ctx.store.driver.key

    def answered(button: QAbstractButton) -> None:
        if button is go:
            window.reopen(Reopen(folder, key=key, prepare=lambda db: fresh_copy(db, key)))

    box.buttonClicked.connect(answered)
    window.dialog = box
    box.open()
    return box


class RestoreDialog(QDialog):
    """What the backup holds, then restore it (see the module doc)."""

    def __init__(self, window: Host, path: Path) -> None:
        super().__init__(_widget(window))
        self.setObjectName("restoreDialog")
        self.setWindowTitle("Restore from a backup")
        self.window_ = window
        self.ctx = window.ctx
        self.path = path
        self.info: Any = None
        self.forcing = False  # "Restore anyway" offered after a refusal
        self.heading = QLabel(f"Reading {path.name}…")
        self.heading.setWordWrap(True)
        self.form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("file", "File"),
            ("saved", "Saved"),
            ("teacher", "Teacher"),
            ("contents", "Holds"),
        ):
            value = QLabel("…")
            value.setWordWrap(True)
            self.fields[key] = value
            self.form.addRow(label, value)
        self.warning = QLabel(
            "<b>Restoring replaces all Flourish data on this laptop with this backup.</b> "
            "A copy of the data as it is now is kept in the data folder's “backups” folder. "
            "Sync stops while the backup is restored; the next sync fetches again what "
            "changed on the server since the backup was made."
        )
        self.warning.setWordWrap(True)
        self.error = error_label()
        self.force = QCheckBox("")
        self.force.setObjectName("restoreForce")
        self.force.hide()
        self.force.toggled.connect(self._update_button)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.restore_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.restore_button.setText("Restore")
        self.restore_button.setEnabled(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(self.form)
        layout.addWidget(self.warning)
        layout.addWidget(self.error)
        layout.addWidget(self.force)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 96, self.fontMetrics().height() * 22)
        self._inspect()

    def _inspect(self) -> None:
        store, path = self.ctx.store, self.path

        def work(_tc: TaskContext) -> tuple[Any, float]:
            from sync.store.localbackup import inspect_store_file

            info = inspect_store_file(path, driver=store.driver)
            return info, path.stat().st_mtime

        self.ctx.tasks.job(work, self._inspected, self._unusable, name="restore-inspect")

    def _inspected(self, result: tuple[Any, float]) -> None:
        info, mtime = result
        self.info = info
        saved = dt.datetime.fromtimestamp(mtime, dt.UTC)
        self.heading.setText("This backup will replace the data on this laptop:")
        self.fields["file"].setText(str(info.path))
        self.fields["saved"].setText(format_time(saved))
        mine = self.ctx.teacher_id
        who = info.teacher_id or "no teacher"
        if info.teacher_id and mine and info.teacher_id != mine:
            who += f" — not the teacher of this laptop ({mine})"
        elif info.teacher_id and info.teacher_id == mine and self.ctx.profile.teacher_name:
            who = f"{self.ctx.profile.teacher_name} ({info.teacher_id})"
        self.fields["teacher"].setText(who)
        self.fields["contents"].setText(_counts(info))
        self.restore_button.setEnabled(True)

    def _unusable(self, exc: BaseException) -> None:
        self.heading.setText("This file cannot be restored.")
        self._fail(describe(exc)[1])

    def _update_button(self) -> None:
        if self.forcing:
            self.restore_button.setEnabled(self.force.isChecked())

    # -- restoring -----------------------------------------------------------------------
    def submit(self) -> None:
        if self.info is None:
            return
        force = self.forcing and self.force.isChecked()
        self.restore_button.setEnabled(False)
        self.heading.setText("Stopping sync…")
        self.error.hide()
        self.window_.quiesce(lambda: self._restore(force))

    def _restore(self, force: bool) -> None:
        store, path = self.ctx.store, self.path
        self.heading.setText("Restoring…")

        def work() -> Any:
            from sync.store.localbackup import restore_local

            return restore_local(store, path, force=force)

        self.ctx.tasks.write(work, self._restored, self._refused, name="restore")

    def _restored(self, result: Any) -> None:
        lines = [
            f"Restored the backup {self.path.name}: {_counts(result.restored)}.",
            f"The data as it was before is kept at {result.safety_copy}.",
            *result.warnings,
        ]
        self.accept()
        folder, key = self.ctx.store.path.parent, self.ctx.store.driver.key
        self.window_.reopen(Reopen(folder, key=key, notice="\n\n".join(lines)))

    def _refused(self, exc: BaseException) -> None:
        from sync.store.localbackup import RestoreRefused

        self.window_.resume_sync()  # nothing changed: the store stays as it was
        self.heading.setText("Nothing was restored.")
        if not isinstance(exc, RestoreRefused):
            self._fail(describe(exc)[1])
            return
        info, mine = self.info, self.ctx.teacher_id
        if info.teacher_id and mine and info.teacher_id != mine:
            self._fail(
                f"This backup belongs to teacher {info.teacher_id}, and this laptop is signed "
                f"in as {mine}. Restore it on that teacher's laptop."
            )
            return
        reason = str(exc).split(":")[0]
        self._fail(
            f"{reason[:1].upper()}{reason[1:]}. Sync first (the status bar shows what is "
            "pending), or restore anyway."
        )
        self.force.setText(
            "Restore anyway: the changes not sent yet are lost (they stay only in the safety copy)"
        )
        self.forcing = True
        self.force.setChecked(False)
        self.force.show()
        self.restore_button.setText("Restore anyway")
        self._update_button()

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        if not self.forcing:
            self.restore_button.setEnabled(False)
