"""Passphrases for a store encrypted at rest without a keyring (:mod:`sync.store.storefile`).

Where the computer has no keyring, an encrypted store's key is a passphrase the teacher
types each session (the CLI reads it from ``FLOURISH_STORE_KEY``). The app asks for it:

* :class:`PassphraseDialog` ``(new=False)`` when opening an encrypted store whose key is
  neither in the keyring nor in the environment — masked, and asked again with a clear
  message when it does not open the file; *Quit* leaves the app.
* :class:`PassphraseDialog` ``(new=True)`` when turning encryption on without a keyring:
  typed twice, at least :data:`MIN_LENGTH` characters.

The passphrase is handed to :meth:`LocalStore.open` / :func:`sync.store.storefile.encrypt` and
kept in memory only: never in the store, QSettings, a log or the environment of the app.

:func:`check_key` runs on a worker thread (it reads the file and the keyring); the dialogs
live on the GUI thread.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

__all__ = ["MIN_LENGTH", "KeyNeeded", "PassphraseDialog", "check_key", "encryption_available"]

MIN_LENGTH = 8


def encryption_available() -> bool:
    """Whether ``sqlcipher3`` ships with this build (found, not imported)."""
    try:
        return importlib.util.find_spec("sqlcipher3") is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class KeyNeeded:
    """The store at ``path`` is encrypted and no usable key was at hand."""

    path: Path
    wrong: bool  # a passphrase was given and does not open the file


def check_key(path: Path, key: str | None) -> KeyNeeded | None:
    """Whether ``path`` can be opened with ``key`` (or the keyring / environment) — worker
    thread. None also when the file is plain or cannot be checked here (no SQLCipher):
    opening it then says why."""
    from sync.credentials import get_secret
    from sync.errors import StoreError
    from sync.store.storefile import KEY_ENV, driver_for, is_encrypted, store_key_name

    if not is_encrypted(path) or not encryption_available():
        return None
    if key is None:
        found = get_secret(store_key_name(path), env=KEY_ENV)
        return KeyNeeded(path, wrong=False) if found is None else None
    try:
        driver_for(path, key)
    except StoreError:
        return KeyNeeded(path, wrong=True)
    return None


class PassphraseDialog(QDialog):
    """Ask for the passphrase of an encrypted store, or choose a new one (``new=True``)."""

    def __init__(
        self, path: Path, *, new: bool = False, wrong: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.new = new
        self.setWindowTitle("Choose a passphrase" if new else "Flourish data is encrypted")
        if new:
            text = (
                "<p>This computer has no system keyring to keep the encryption key, so the "
                "data is locked with a passphrase you choose. Flourish asks for it each "
                "time it starts.</p><p><b>If you forget it, the data on this laptop cannot "
                "be recovered</b> (what has reached the school's server is safe).</p>"
            )
        else:
            text = (
                "<p>The Flourish data on this laptop is encrypted. Type the passphrase you "
                f"chose when you turned encryption on.</p><p><small>{path}</small></p>"
            )
        intro = QLabel(text)
        intro.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphraseEdit")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setObjectName("passphraseRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.problem = QLabel("")
        self.problem.setObjectName("passphraseProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: palette(bright-text)")  # readable red, both palettes
        if wrong:
            self.problem.setText(
                "That passphrase does not open the data. Check Caps Lock and the keyboard "
                "layout, then try again."
            )
        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase)
        if new:
            form.addRow("Once more", self.repeat)
        else:
            self.repeat.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Encrypt" if new else "Open")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText("Cancel" if new else "Quit")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

    def value(self) -> str:
        return self.passphrase.text()

    def submit(self) -> None:
        text = self.passphrase.text()
        if not text:
            self.problem.setText("Type the passphrase.")
        elif self.new and len(text) < MIN_LENGTH:
            self.problem.setText(f"Use at least {MIN_LENGTH} characters.")
        elif self.new and text != self.repeat.text():
            self.problem.setText("The two passphrases differ.")
            self.repeat.clear()
            self.repeat.setFocus()
        else:
            self.accept()
            return
        self.passphrase.setFocus()

    def done(self, result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            self.passphrase.clear()
        self.repeat.clear()
        super().done(result)
