"""Setup steps the teacher meets on a first day, said as steps, not as errors.

* :func:`ai_setup_box` — AI assessment needs an endpoint and a key: a button opens
  Settings ▸ AI; meanwhile the teacher can assess evidence themselves.
* :func:`quit_wording` — what the quit question says about unsent changes, by kind of
  store: a demo, a laptop that works without a server, a signed-in laptop.
(What "Sign in…" says on a demo store lives with the sign-in form, in the settings.)

GUI thread only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

__all__ = ["QuitWording", "ai_setup_box", "quit_wording"]


def ai_setup_box(parent: QWidget, reason: str) -> tuple[QMessageBox, QPushButton]:
    """The "set up AI assessment" step; returns the box and its Settings button."""
    box = QMessageBox(parent)
    box.setObjectName("aiSetupBox")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Set up AI assessment")
    box.setText("AI assessment is not set up on this laptop yet.")
    box.setInformativeText(
        "Flourish needs the address of your school's AI service (or OpenAI) and its key, "
        "from File ▸ Settings ▸ AI. Until then nothing is lost: new evidence waits, and "
        "you can assess any piece of evidence yourself (Student tab ▸ Evidence ▸ "
        "Assess it yourself…)."
    )
    box.setDetailedText(reason)
    settings = box.addButton("Open Settings ▸ AI", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(settings)
    return box, settings


class QuitWording:
    """Title, text and detail of the quit question for unsent changes."""

    def __init__(self, title: str, text: str, detail: str, offer_sync: bool) -> None:
        self.title, self.text, self.detail, self.offer_sync = title, text, detail, offer_sync


def quit_wording(
    pending: int, *, demo: bool, local_only: bool, can_sync: bool
) -> QuitWording | None:
    """None when quitting needs no question (a demo, a laptop without a server)."""
    if pending == 0 or demo:
        return None  # a demo store is thrown away on the next start anyway
    if local_only:
        return None  # nothing is waiting for a server that does not exist: it is all here
    noun = "change has" if pending == 1 else "changes have"
    if can_sync:
        return QuitWording(
            "Changes not sent yet",
            f"{pending} {noun} not reached the server yet.",
            "They are safe on this laptop and will be sent next time Flourish syncs. "
            "Sync now before quitting?",
            True,
        )
    return QuitWording(
        "Changes not sent yet",
        f"{pending} {noun} not reached the server yet.",
        "This laptop is signed out of its server: they stay on this laptop and are sent "
        "once you sign in again (File ▸ Settings).",
        False,
    )
