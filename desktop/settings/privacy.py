"""Settings ▸ Privacy: encryption at rest and signing out (wiping this laptop's data).

* **Encrypt the data on this laptop** turns SQLCipher encryption of the store on or off
  (:func:`sync.store.storefile.encrypt` / :func:`~sync.store.storefile.decrypt`). Both work on a
  *closed* file, so the page asks the window to reopen the store
  (:class:`~desktop.core.context.Reopen`): the app closes it, converts it on a worker thread,
  and opens it again. The key goes to the keyring; without one the teacher chooses a
  passphrase (:class:`~desktop.settings.passphrase.PassphraseDialog`) that Flourish asks for at each
  start. Greyed out, with the reason, when ``sqlcipher3`` is missing, or when there is no
  keyring and the teacher declined to choose a passphrase.
* **Sign out and remove this laptop's data…** (:func:`sync.replication.login.sign_out`): after a
  confirmation, and — when changes have not reached the server — a second choice between
  *Sync now* and *Sign out anyway*, the app closes the store, wipes it with its automatic
  backups and saved secrets, and shows the first-run dialog.

GUI thread only; the keyring, the file and the queue are read on the task runner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext, Reopen
from desktop.core.tasks import TaskContext
from desktop.settings.fileops import decrypt_store, encrypt_store, sign_out_store
from desktop.settings.passphrase import PassphraseDialog, encryption_available

__all__ = ["PrivacyPage"]


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class PrivacyPage(QWidget):
    reopen_requested = Signal(object)  # Reopen
    sync_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.keyring = False
        self.box: QMessageBox | None = None
        self.passphrase_dialog: PassphraseDialog | None = None
        self.encrypt = QCheckBox("Encrypt the data on this laptop")
        self.encrypt.setObjectName("encryptCheck")
        self.encrypt.setChecked(ctx.store.driver.encrypted)
        self.encrypt.setEnabled(False)  # until the keyring has been looked at
        self.encrypt.clicked.connect(self._encrypt_clicked)
        self.reason = QLabel("")
        self.reason.setObjectName("encryptReason")
        self.reason.setWordWrap(True)
        self.sign_out = QPushButton("Sign out and remove this laptop's data…")
        self.sign_out.setObjectName("signOutButton")
        self.sign_out.clicked.connect(self.confirm_sign_out)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        about = _note(
            "Encrypted, the data file is unreadable to anyone who gets hold of the laptop's "
            "disk without the key. Flourish closes the file for a moment to convert it."
        )
        note = _note(
            "Use this before handing the laptop on: every student, evidence entry and "
            "decision is removed from it, with Flourish's automatic backups and saved "
            "passwords. What has reached the school's server stays there."
        )
        row = QHBoxLayout()
        row.addWidget(self.sign_out)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.encrypt)
        layout.addWidget(self.reason)
        layout.addWidget(about)
        layout.addSpacing(self.fontMetrics().height())
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._load()

    # -- encryption ----------------------------------------------------------------------
    def _load(self) -> None:
        path = self.ctx.store.path

        def work(_tc: TaskContext) -> tuple[bool, bool]:
            from sync.credentials import get_secret, keyring_available
            from sync.store.storefile import store_key_name

            available = keyring_available()
            return available, available and get_secret(store_key_name(path)) is not None

        self.ctx.tasks.job(
            work, self._loaded, lambda _e: self._loaded((False, False)), name="keyring"
        )

    def _loaded(self, found: tuple[bool, bool]) -> None:
        self.keyring, key_in_keyring = found
        if not encryption_available():
            self.reason.setText(
                "Not available in this version of Flourish: it needs the sqlcipher3 "
                "package (pip install 'flourish-desktop[encryption]')."
            )
            return
        self.encrypt.setEnabled(True)
        if self.ctx.store.driver.encrypted:
            where = "kept in this computer's keyring" if key_in_keyring else "your passphrase"
            self.reason.setText(f"Encrypted with SQLCipher; the key is {where}.")
        elif self.keyring:
            self.reason.setText("The key will be kept in this computer's keyring.")
        else:
            self.reason.setText(
                "This computer has no keyring: you will choose a passphrase, and Flourish "
                "asks for it each time it starts."
            )

    def _encrypt_clicked(self, on: bool) -> None:
        self.encrypt.setChecked(not on)  # it changes only once the file has
        if on and not self.keyring:
            dialog = PassphraseDialog(self.ctx.store.path, new=True, parent=self)
            dialog.finished.connect(lambda result: self._passphrase_chosen(dialog, result))
            self.passphrase_dialog = dialog
            dialog.open()
            return
        if on:
            text = "Encrypt the Flourish data on this laptop?"
            info = "The key is kept in this computer's keyring."
            prepare = encrypt_store(None)
        else:
            text = "Store the Flourish data on this laptop unencrypted?"
            info = (
                "Anyone with the laptop's disk could then read it. Backups made while it was "
                "encrypted stay encrypted and can no longer be restored once the key is gone."
            )
            prepare = decrypt_store(self.ctx.store.driver.key)
        self._confirm(
            text,
            info + " Flourish closes the data file, converts it and opens it again.",
            "Encrypt" if on else "Decrypt",
            lambda: self._reopen(prepare, key=None),
        )

    def _passphrase_chosen(self, dialog: PassphraseDialog, result: int) -> None:
        self.passphrase_dialog = None
        if not result:
            self.encrypt.setEnabled(False)
            self.reason.setText(
                "Encryption stays off: this computer has no keyring to keep the key and no "
                "passphrase was chosen. Open Settings again to choose one."
            )
            return
        key = dialog.value()
        dialog.passphrase.clear()
        self._reopen(encrypt_store(key), key=key)

    def _reopen(self, prepare: Callable[[Path], str | None], *, key: str | None) -> None:
        self.encrypt.setEnabled(False)
        self.sign_out.setEnabled(False)
        self.status.setText("Closing the data file…")
        self.reopen_requested.emit(Reopen(self.ctx.store.path.parent, prepare=prepare, key=key))

    def _confirm(self, text: str, info: str, yes: str, then: Callable[[], None]) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, "Flourish", text, parent=self)
        box.setObjectName("privacyConfirm")
        box.setInformativeText(info)
        go = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda b: then() if b is go else None)
        self.box = box
        box.open()
        return box

    # -- signing out ---------------------------------------------------------------------
    def confirm_sign_out(self) -> None:
        box = self._confirm(
            "Sign out and remove this laptop's Flourish data?",
            "Every student, evidence entry and decision on this laptop is deleted, with "
            f"Flourish's automatic backups in {self.ctx.profile.data_dir / 'backups'} and the "
            "passwords and keys it saved. What has reached the server stays there; backups "
            "you saved elsewhere are not touched.",
            "Sign out and remove",
            self._check_unsent,
        )
        box.setIcon(QMessageBox.Icon.Warning)

    def _check_unsent(self) -> None:
        store = self.ctx.store
        self.status.setText("Checking for changes not sent yet…")

        def work() -> int:
            from sync.replication.status import queue_status

            counts = queue_status(store)
            return int(counts["pending"]) + int(counts.get("quarantined", 0))

        # on the writer lane: counted after every write queued before it
        self.ctx.tasks.write(work, self._unsent_counted, name="sign-out-check")

    def _unsent_counted(self, unsent: int) -> None:
        self.status.setText("")
        key = self.ctx.store.driver.key
        if not unsent:
            self._reopen(sign_out_store(force=False, key=key), key=None)
            return
        noun = "change has" if unsent == 1 else "changes have"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Changes not sent yet",
            f"{unsent} {noun} not reached the server.",
            parent=self,
        )
        box.setObjectName("unsentBox")
        signed_in = bool(self.ctx.profile.server_url)
        if signed_in:
            box.setInformativeText(
                "Sync now to send them first, then sign out. Signing out anyway deletes "
                "them for good: they exist nowhere else."
            )
            sync = box.addButton("Sync now", QMessageBox.ButtonRole.AcceptRole)
        else:
            box.setInformativeText(
                "This laptop is not signed in to a server, so they exist only here. Signing "
                "out anyway deletes them for good (File ▸ Back up this laptop's data… keeps "
                "a copy)."
            )
            sync = None
        anyway = box.addButton("Sign out anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def chosen(button: Any) -> None:
            if button is anyway:
                self._reopen(sign_out_store(force=True, key=key), key=None)
            elif sync is not None and button is sync:
                self.status.setText("Syncing… Sign out again once nothing is pending.")
                self.sync_requested.emit()

        box.buttonClicked.connect(chosen)
        self.box = box
        box.open()
