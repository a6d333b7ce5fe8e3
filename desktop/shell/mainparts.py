"""Pieces of the main window kept out of its module: the menus with their native
shortcuts, the shortcut reference, and the status-bar indicator for long jobs.

GUI thread only.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from desktop.core.theme import Appearance
from desktop.review.panel import HINTS

if TYPE_CHECKING:
    from desktop.shell.mainwindow import MainWindow

__all__ = ["JobIndicator", "build_menus", "shortcuts_html"]

Std = QKeySequence.StandardKey


class JobIndicator(QWidget):
    """ "Assessing evidence 3 of 7 [×]": progress and cancel for a long background job."""

    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(self.fontMetrics().averageCharWidth() * 16)
        self.bar.setMaximumHeight(self.fontMetrics().height() + 2)
        self.cancel = QToolButton()
        self.cancel.setText("Cancel")
        self.cancel.clicked.connect(self.cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.what = ""
        self.hide()

    def set_running(self, running: bool, what: str) -> None:
        self.what = what
        self.label.setText(what + "…")
        self.bar.setRange(0, 0)
        self.setVisible(running)

    def set_progress(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self.label.setText(f"{self.what}: {done} of {total}")


def _action(
    window: MainWindow,
    text: str,
    slot: object,
    shortcut: QKeySequence | Std | str | None = None,
    *,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(
            shortcut if isinstance(shortcut, QKeySequence) else QKeySequence(shortcut)
        )
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    return action


def _datadialogs() -> Any:
    from desktop.dataio import dialogs

    return dialogs


def build_menus(w: MainWindow) -> dict[str, QAction]:
    """Menus File, Edit, View, Sync, Help; returns the actions by name."""
    a: dict[str, QAction] = {}
    bar = w.menuBar()
    file = bar.addMenu("&File")
    a["new_evidence"] = _action(w, "&New evidence…", lambda: w.new_evidence(), Std.New)
    a["import"] = _action(w, "&Import evidence files…", lambda: w.import_evidence(), "Ctrl+I")
    a["add_student"] = _action(
        w, "&Add student…", lambda: w.add_student(), tip="Add one student by hand"
    )
    a["import_roster"] = _action(
        w, "Import &roster…", lambda: w.import_roster(), tip="Add or update students from a CSV"
    )
    a["export_csv"] = _action(
        w, "&Export CSV…", lambda: w.export_csv(), tip="One CSV file per table, into a folder"
    )
    a["backup"] = _action(w, "&Back up this laptop's data…", lambda: w.back_up())
    a["restore"] = _action(w, "Res&tore from a backup…", lambda: w.restore_backup())
    a["redownload"] = _action(
        w,
        "&Download a fresh copy from the server…",
        lambda: _datadialogs().redownload(w),
        tip="Replace this laptop's data by the server's, keeping the changes not sent yet",
    )
    a["settings"] = _action(w, "&Settings…", lambda: w.open_settings("server"), Std.Preferences)
    a["settings"].setMenuRole(QAction.MenuRole.PreferencesRole)
    if a["settings"].shortcut().isEmpty():
        a["settings"].setShortcut(QKeySequence("Ctrl+,"))
    a["quit"] = _action(w, "&Quit", w.close, Std.Quit)
    a["quit"].setMenuRole(QAction.MenuRole.QuitRole)
    if a["quit"].shortcut().isEmpty():
        a["quit"].setShortcut(QKeySequence("Ctrl+Q"))
    for key in ("new_evidence", "import", "add_student", "import_roster"):
        file.addAction(a[key])
    file.addSeparator()
    for key in ("export_csv", "backup", "restore", "redownload"):
        file.addAction(a[key])
    file.addSeparator()
    file.addAction(a["settings"])
    file.addSeparator()
    file.addAction(a["quit"])

    edit = bar.addMenu("&Edit")
    a["undo"] = _action(w, "&Undo last decision", w.undo, Std.Undo)
    edit.addAction(a["undo"])

    view = bar.addMenu("&View")
    for i, (name, text) in enumerate(
        (
            ("review", "&Review queue"),
            ("class", "&Class"),
            ("student", "&Student"),
            ("conflicts", "C&onflicts"),
        )
    ):
        a[name] = _action(w, text, lambda _=False, i=i: w.show_tab(i), f"Ctrl+{i + 1}")
        view.addAction(a[name])
    view.addSeparator()
    a["by_document"] = _action(w, "Review by evidence &document", w.toggle_by_document, "Ctrl+D")
    a["by_document"].setCheckable(True)
    a["by_document"].setChecked(w.prefs.by_document)
    w.review.by_document.toggled.connect(a["by_document"].setChecked)
    view.addAction(a["by_document"])
    a["refresh"] = _action(
        w, "&Refresh", lambda: w.ctx.bus.publish_everything(source="user"), Std.Refresh
    )
    if a["refresh"].shortcut().isEmpty():
        a["refresh"].setShortcut(QKeySequence("F5"))
    view.addAction(a["refresh"])
    look = view.addMenu("&Appearance")
    group = QActionGroup(w)
    for value, text in (
        (Appearance.SYSTEM, "Follow the &system"),
        (Appearance.LIGHT, "&Light"),
        (Appearance.DARK, "&Dark"),
    ):
        act = _action(w, text, lambda _=False, v=value: w.set_appearance(v))
        act.setCheckable(True)
        act.setChecked(w.prefs.appearance is value)
        group.addAction(act)
        look.addAction(act)
        a[f"appearance_{value.value}"] = act

    sync = bar.addMenu("&Sync")
    a["sync_now"] = _action(w, "Sync &now", lambda: w.sync.sync_now(), "Ctrl+Shift+S")
    a["sign_in"] = _action(w, "Sign &in to a server…", lambda: w.open_settings("server"))
    a["assess"] = _action(w, "&Assess new evidence with AI", w.assess_now, "Ctrl+Shift+A")
    a["assess_skills"] = _action(w, "Assess new evidence for c&hosen skills…", w.assess_chosen)
    a["calibration"] = _action(w, "AI &calibration…", w.show_calibration)
    for key in ("sync_now", "sign_in"):
        sync.addAction(a[key])
    sync.addSeparator()
    sync.addAction(a["assess"])
    sync.addAction(a["assess_skills"])
    sync.addAction(a["calibration"])

    helpm = bar.addMenu("&Help")
    a["shortcuts"] = _action(w, "&Keyboard shortcuts", w.show_shortcuts, Std.HelpContents)
    if a["shortcuts"].shortcut().isEmpty():
        a["shortcuts"].setShortcut(QKeySequence("F1"))
    a["about"] = _action(w, "&About Flourish", w.show_about)
    a["about"].setMenuRole(QAction.MenuRole.AboutRole)
    helpm.addAction(a["shortcuts"])
    helpm.addAction(a["about"])
    return a


def shortcuts_html(actions: dict[str, QAction]) -> str:
    rows = [
        ("Review queue", HINTS),
    ]
    for action in actions.values():
        if not action.shortcut().isEmpty():
            text = action.text().replace("&", "")
            seq = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            rows.append((text, seq))
    body = "".join(
        f"<tr><td>{escape(a)}</td><td>&nbsp;&nbsp;<b>{escape(b)}</b></td></tr>" for a, b in rows
    )
    return f"<table>{body}</table>"
