"""Window plumbing: remembered geometry, appearance, first run, data folder choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.context import AppContext
from desktop.core.prefs import Prefs
from desktop.core.theme import Appearance, apply_appearance, is_dark, level_colors
from desktop.shell.app import resolve_data_dir
from desktop.shell.firstrun import FirstRunDialog
from desktop.shell.mainwindow import MainWindow
from sync.model.vocab import LEVELS
from sync.store.local import LocalStore
from tests.test_desktop_support import close_window, isolate_settings, open_window


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_settings(monkeypatch, tmp_path)


def test_geometry_and_review_mode_are_remembered(qtbot: QtBot, demo_store: LocalStore) -> None:
    w = open_window(qtbot, demo_store)
    w.resize(781, 603)
    w.menu_actions["by_document"].trigger()
    qtbot.waitUntil(lambda: w.ctx.tasks.idle)
    close_window(w)
    again = MainWindow(AppContext.create(demo_store), prefs=Prefs())
    again.show()
    try:
        assert (again.width(), again.height()) == (781, 603)
        assert again.review.by_document.isChecked()
        qtbot.waitUntil(lambda: "Evidence" in again.review.model.columns)
    finally:
        close_window(again)


def test_dark_and_light_palettes(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        assert apply_appearance(Appearance.DARK) is True
        assert is_dark(app.palette())
        assert apply_appearance(Appearance.LIGHT) is False
        assert not is_dark(app.palette())
    finally:
        apply_appearance(Appearance.LIGHT)


@pytest.mark.parametrize("level", LEVELS)
def test_level_colours_have_readable_text(level: str) -> None:
    bg, fg = level_colors(level)

    def luminance(c: object) -> float:
        from PySide6.QtGui import QColor

        assert isinstance(c, QColor)
        channels = []
        for v in (c.redF(), c.greenF(), c.blueF()):
            channels.append(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(bg), luminance(fg)), reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 4.5  # WCAG AA for normal text


def test_first_run_choices(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = FirstRunDialog(tmp_path / "mine", tmp_path / "demo")
    qtbot.addWidget(dialog)
    dialog._create()
    assert dialog.choice is None  # a profile needs the teacher's name
    assert "name" in dialog.problem.text()
    qtbot.keyClicks(dialog.name, "Ms. Okafor")
    dialog.sign_in.setChecked(False)
    dialog._create()
    assert dialog.choice is not None and dialog.choice.folder == tmp_path / "mine"
    assert not dialog.choice.sign_in and not dialog.choice.demo
    assert dialog.choice.teacher_name == "Ms. Okafor"
    demo = FirstRunDialog(tmp_path / "mine", tmp_path / "demo")
    qtbot.addWidget(demo)
    demo._demo()
    assert demo.choice is not None and demo.choice.demo
    assert demo.choice.folder == tmp_path / "demo"


def test_data_folder_choice_is_remembered_but_flags_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOURISH_DATA_DIR", raising=False)
    Prefs().data_dir = tmp_path / "chosen"
    assert resolve_data_dir(None) == tmp_path / "chosen"
    assert resolve_data_dir(str(tmp_path / "flag")) == (tmp_path / "flag").resolve()
    monkeypatch.setenv("FLOURISH_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == (tmp_path / "env").resolve()


def test_settings_refuse_secrets() -> None:
    with pytest.raises(ValueError, match="keyring"):
        Prefs()._set("ai/api_key", "sk-123")


def test_title_and_waiting_count_read_right(qtbot: QtBot, demo_store: LocalStore) -> None:
    """Qt adds "— Flourish" to the title itself; one entry is "1 entry awaits"."""
    w = open_window(qtbot, demo_store)
    try:
        qtbot.waitUntil(lambda: bool(w.windowTitle()))
        assert "Flourish" not in w.windowTitle()
        assert w.windowTitle().endswith("— demo class")
        w._awaiting(1)
        assert w.awaiting_label.text() == "1 entry awaits AI assessment"
        w._awaiting(4)
        assert w.awaiting_label.text() == "4 entries await AI assessment"
        w._awaiting(0)
        assert w.awaiting_label.text() == ""
    finally:
        close_window(w)
