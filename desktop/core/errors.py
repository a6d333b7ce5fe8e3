"""The one place that shows errors to the teacher.

:func:`describe` turns any exception into a short title and a sentence, using the data
layer's exception tree (:mod:`sync.errors`) to tell a rule that blocked an action
(validation, conflict) from a problem with the store or the server. :class:`ErrorPresenter`
shows it: rules and failures as a window-modal message box opened without blocking
(``QMessageBox.open``), transient server trouble only in the status bar (the sync worker
retries on its own).

GUI thread only.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from sync.errors import (
    AuthError,
    ConflictError,
    FlourishError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    TransientError,
    ValidationError,
)

__all__ = ["ErrorPresenter", "describe"]

log = logging.getLogger(__name__)

_TITLES: tuple[tuple[type[BaseException], str], ...] = (
    (ConflictError, "Not allowed by the school's rules"),
    (ValidationError, "Please check the input"),
    (NotFoundError, "Not found"),
    (SchemaVersionError, "Update required"),
    (AuthError, "Sign-in failed"),
    (TransientError, "Server not reachable"),
    (StoreError, "The local data cannot be used"),
    (FlourishError, "Something went wrong"),
)


def describe(exc: BaseException) -> tuple[str, str]:
    """(title, message) for the teacher; the message is the error's own one-line reason."""
    for cls, title in _TITLES:
        if isinstance(exc, cls):
            return title, str(exc) or title
    return "Unexpected error", f"{type(exc).__name__}: {exc}"


class ErrorPresenter(QObject):
    """Shows errors for one main window. ``shown(title, text)`` is emitted for each."""

    shown = Signal(str, str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self.last: tuple[str, str] | None = None
        self._box: QMessageBox | None = None
        self.status_message: object = None  # set by the main window: Callable[[str], None]

    def show(self, exc: object, *, parent: QWidget | None = None) -> None:
        error = exc if isinstance(exc, BaseException) else RuntimeError(str(exc))
        title, text = describe(error)
        self.last = (title, text)
        self.shown.emit(title, text)
        if not isinstance(error, FlourishError):
            log.error("unexpected error shown to the user", exc_info=error)
        if isinstance(error, TransientError) and callable(self.status_message):
            self.status_message(f"{title}: {text}")
            return
        if self._box is not None:
            self._box.close()
        box = QMessageBox(parent or self._window)
        box.setIcon(
            QMessageBox.Icon.Warning
            if isinstance(error, ValidationError | ConflictError | NotFoundError)
            else QMessageBox.Icon.Critical
        )
        box.setWindowTitle(title)
        box.setText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setObjectName("errorBox")
        self._box = box
        box.open()

    def dismiss(self) -> None:
        if self._box is not None:
            self._box.close()
            self._box = None
