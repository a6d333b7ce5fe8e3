"""Accessibility, checked on the real windows: every interactive widget of every view and
dialog has an accessible name (what a screen reader says, through Qt's accessibility), and
every text role of both palettes meets WCAG AA contrast (4.5:1) on its background."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAccessible, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.core.theme import (
    Appearance,
    apply_appearance,
    contrast_ratio,
    dark_palette,
    level_colors,
    light_palette,
    sync_state_color,
)
from desktop.shell.mainwindow import CLASS, CONFLICTS, REVIEW, STUDENT, MainWindow
from desktop.syncui.worker import SyncState, SyncStatus
from sync.model.vocab import LEVELS
from sync.store.local import LocalStore
from tests.test_desktop_support import close_window, isolate_settings, open_window, wait_idle

INTERACTIVE = (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QAbstractSpinBox,
    QAbstractItemView,
    QPlainTextEdit,
    QTextEdit,
)


def accessible_name(widget: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    return "" if iface is None else iface.text(QAccessible.Text.Name).strip()


def unnamed(root: QWidget) -> list[str]:
    """Visible interactive widgets under ``root`` without an accessible name."""
    missing = []
    for w in [root, *root.findChildren(QWidget)]:
        if not isinstance(w, INTERACTIVE) or not w.isVisible() or isinstance(w, QHeaderView):
            continue  # (a header is read out as part of its table)
        if w.objectName().startswith("qt_"):  # Qt's own parts (scroll arrows, spin box line)
            continue
        if isinstance(w, QLineEdit) and isinstance(w.parent(), QAbstractSpinBox | QComboBox):
            continue  # the inner line edit of a date edit or combo box
        if not accessible_name(w):
            missing.append(f"{type(w).__name__} {w.objectName()!r} in {type(root).__name__}")
    return missing


@pytest.fixture
def window(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    isolate_settings(monkeypatch, tmp_path)
    w = open_window(qtbot, demo_store)
    w.resize(1280, 720)
    yield w
    close_window(w)


def _dialogs(w: MainWindow) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("settings", lambda: w.open_settings("server")),
        ("settings-ai", lambda: w.open_settings("ai")),
        ("settings-privacy", lambda: w.open_settings("privacy")),
        ("new evidence", lambda: (w.new_evidence("S001"), w.dialog)[1]),
        ("import evidence", lambda: (w.import_evidence("S001"), w.dialog)[1]),
        ("import roster", lambda: w.import_roster()),
        ("add student", lambda: w.add_student()),
        ("edit student", lambda: w.edit_student("S001")),
        ("assess yourself", lambda: w.assess_yourself("DE001", "S001")),
        ("progress report", lambda: w.export_report("S001")),
        ("assign target", lambda: w.student.open_assign_target()),
        ("grant badge", lambda: w.student.open_grant_badge()),
        ("calibration", lambda: (w.show_calibration(), w.dialog)[1]),
    ]


def test_every_interactive_widget_has_an_accessible_name(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    missing: list[str] = []
    for tab in (REVIEW, CLASS, STUDENT, CONFLICTS):
        if tab == STUDENT:
            w.open_student("S001")
            qtbot.waitUntil(lambda: w.student.data is not None)
        w.show_tab(tab)
        wait_idle(qtbot, w)
        missing += unnamed(w)
    w.open_student("S001")
    qtbot.waitUntil(lambda: w.student.data is not None)
    for name, opener in _dialogs(w):
        dialog = opener()
        assert dialog is not None, name
        qtbot.waitUntil(dialog.isVisible)
        wait_idle(qtbot, w)
        missing += [f"{m} ({name})" for m in unnamed(dialog)]
        dialog.close()
    assert missing == [], "\n".join(missing)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_contrast_of_every_role(qapp: QApplication, dark: bool) -> None:
    pal = dark_palette() if dark else light_palette()
    r = QPalette.ColorRole
    pairs = [
        (r.WindowText, r.Window),
        (r.Text, r.Base),
        (r.Text, r.AlternateBase),
        (r.ButtonText, r.Button),
        (r.ToolTipText, r.ToolTipBase),
        (r.HighlightedText, r.Highlight),
        (r.PlaceholderText, r.Base),
        (r.PlaceholderText, r.AlternateBase),
        (r.PlaceholderText, r.Window),
        (r.Link, r.Base),
        (r.Link, r.Window),
        (r.LinkVisited, r.Base),
        (r.BrightText, r.Window),  # error messages in dialogs
        (r.BrightText, r.Base),
    ]
    failures = []
    for fg_role, bg_role in pairs:
        bg = pal.color(bg_role)
        fg = _over(pal.color(fg_role), bg)
        ratio = contrast_ratio(fg, bg)
        if ratio < 4.5:
            failures.append(f"{fg_role.name} on {bg_role.name}: {ratio:.2f}")
    for level in LEVELS:  # chips and heat-map cells carry their own colours
        bg, fg = level_colors(level)
        if contrast_ratio(fg, bg) < 4.5:
            failures.append(f"level {level}: {contrast_ratio(fg, bg):.2f}")
    for state in SyncState:  # the status bar's dot, red for "needs attention" among them
        for bg_role in (r.Window, r.Base):
            ratio = contrast_ratio(sync_state_color(state.value, pal), pal.color(bg_role))
            if ratio < 4.5:
                failures.append(f"sync dot {state.value} on {bg_role.name}: {ratio:.2f}")
    assert failures == []


def test_the_status_bar_dot_follows_the_palette(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.sync_status
    try:
        for appearance in (Appearance.DARK, Appearance.LIGHT):
            apply_appearance(appearance)
            bar.show_status(SyncStatus(state=SyncState.NEEDS_ATTENTION))
            qtbot.wait(10)
            shown = QColor(bar.dot.styleSheet().removeprefix("color: ").strip())
            window_bg = QApplication.palette().color(QPalette.ColorRole.Window)
            assert contrast_ratio(shown, window_bg) >= 4.5, (appearance, shown.name())
            apply_appearance(Appearance.DARK)  # a switch alone re-colours the dot
            qtbot.wait(10)
            shown = QColor(bar.dot.styleSheet().removeprefix("color: ").strip())
            assert shown == sync_state_color("attention", dark_palette())
    finally:
        apply_appearance(Appearance.LIGHT)


def _over(fg: QColor, bg: QColor) -> QColor:
    """``fg`` blended over ``bg`` (a role may be translucent, as Fusion's placeholder is)."""
    a = fg.alphaF()
    return QColor.fromRgbF(
        fg.redF() * a + bg.redF() * (1 - a),
        fg.greenF() * a + bg.greenF() * (1 - a),
        fg.blueF() * a + bg.blueF() * (1 - a),
    )


def test_the_applied_palettes_are_the_tested_ones(qapp: QApplication) -> None:
    try:
        apply_appearance(Appearance.DARK)
        assert qapp.palette().color(QPalette.ColorRole.Link) == QColor("#8ab4f8")
        apply_appearance(Appearance.LIGHT)
        assert qapp.palette().color(QPalette.ColorRole.PlaceholderText) == QColor("#5f6368")
    finally:
        apply_appearance(Appearance.LIGHT)


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768)], ids=["1280x720", "1366x768"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_no_text_is_cut_short_on_small_screens(
    qtbot: QtBot, window: MainWindow, dark: bool, size: tuple[int, int]
) -> None:
    """Every view and dialog as the screenshots show them (packaging/screenshots.py), at
    the two small laptop screens it takes them at."""
    shots = _screenshots_module()
    DIALOGS, elided, open_dialog = shots.DIALOGS, shots.elided, shots.open_dialog
    assert size in shots.SIZES
    w = window
    w.resize(*size)
    apply_appearance(Appearance.DARK if dark else Appearance.LIGHT)
    try:
        problems: list[str] = []
        w.open_student("S001")
        qtbot.waitUntil(lambda: w.student.data is not None)
        for tab in (REVIEW, CLASS, STUDENT, CONFLICTS):
            w.show_tab(tab)
            wait_idle(qtbot, w)
            qtbot.wait(50)
            problems += [f"tab {tab}: {p}" for p in elided(w)]
        for name in DIALOGS:
            dialog = open_dialog(w, name)
            qtbot.waitUntil(dialog.isVisible)  # type: ignore[attr-defined]
            wait_idle(qtbot, w)
            problems += [f"{name}: {p}" for p in elided(dialog)]
            dialog.close()  # type: ignore[attr-defined]
        assert problems == [], "\n".join(problems)
    finally:
        apply_appearance(Appearance.LIGHT)


def _screenshots_module() -> Any:
    """packaging/screenshots.py (a script, not a package: the name ``packaging`` is taken)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "packaging" / "screenshots.py"
    spec = importlib.util.spec_from_file_location("flourish_screenshots", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
