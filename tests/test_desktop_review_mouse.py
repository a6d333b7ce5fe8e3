"""The review queue by mouse (buttons and the rows' context menu), the keys after using the
filters, where the queue goes after a mode change, and the end of a filtered queue — on the
real window over a real demo store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.theme import contrast_ratio
from desktop.core.widgets import combo_value
from desktop.review.data import QueueFilter, queue_ids
from desktop.shell.mainwindow import MainWindow
from sync.store.local import LocalStore
from tests.test_desktop_support import (
    close_window,
    decisions,
    isolate_settings,
    open_window,
    wait_idle,
)

Key = Qt.Key
Left = Qt.MouseButton.LeftButton


@pytest.fixture
def window(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    isolate_settings(monkeypatch, tmp_path)
    w = open_window(qtbot, demo_store)
    yield w
    close_window(w)


def current_id(w: MainWindow) -> int:
    aid = w.review.model.id_at(w.review.controller.row)
    assert aid is not None
    return aid


def click(qtbot: QtBot, w: MainWindow, choice: str) -> None:
    button = w.review.decisions.buttons[choice]
    assert button.isVisible() and button.isEnabled(), choice
    qtbot.mouseClick(button, Left)


def loaded(qtbot: QtBot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: w.review.model.complete and not w.review.model.loading)
    wait_idle(qtbot, w)


def test_buttons_are_labelled_with_their_keys(window: MainWindow) -> None:
    texts = [b.text() for b in window.review.decisions.buttons.values()]
    assert texts == [
        "Accept (A)",
        "Emerging (1)",
        "Developing (2)",
        "Proficient (3)",
        "Advanced (4)",
        "Notes (N)",
        "Skip (S)",
        "Undo (U)",
    ]
    assert not window.review.decisions.buttons["undo"].isEnabled()  # nothing to undo yet


def test_review_ten_items_by_mouse_only(qtbot: QtBot, window: MainWindow) -> None:
    """Accepts, corrections, notes, skip and undo — every decision by a click."""
    w, store = window, window.ctx.store
    with store.read() as conn:
        original = dict(conn.exec_driver_sql("SELECT id, level FROM assessments").all())
        names = dict(conn.exec_driver_sql("SELECT id, name FROM students").all())
        skills = {
            int(a): (str(sk), names[st])
            for a, sk, st in conn.exec_driver_sql(
                "SELECT id, skill_name, student_id FROM assessments"
            )
        }
    expected: dict[int, tuple[str, str | None]] = {}
    decided: list[int] = []
    seen: set[int] = set()
    plan = ["accept", "Proficient", "skip", "notes", "accept", "undo", "Emerging", "accept"]
    plan += ["Advanced", "skip", "accept", "undo", "accept", "Developing"]
    for step in plan:
        aid = current_id(w)
        seen.add(aid)
        if step == "accept":
            click(qtbot, w, "accept")
            expected[aid] = (original[aid], None)
            decided.append(aid)
        elif step in ("Emerging", "Developing", "Proficient", "Advanced"):
            click(qtbot, w, step)
            editor = w.review.editor
            assert editor.isVisible() and editor.level == step
            qtbot.keyClicks(editor.notes, f"in class {aid}")
            save = next(b for b in editor.findChildren(QPushButton) if b.text().startswith("Save"))
            qtbot.mouseClick(save, Left)
            assert not editor.isVisible()
            expected[aid] = (step, f"in class {aid}")
            decided.append(aid)
        elif step == "notes":
            click(qtbot, w, "notes")
            qtbot.keyClicks(w.review.editor.notes, "a note only")
            qtbot.keyClick(w.review.editor.notes, Key.Key_Return)
            expected[aid] = (original[aid], "a note only")
            decided.append(aid)
        elif step == "skip":
            click(qtbot, w, "skip")
        elif step == "undo":
            gone = decided.pop()
            skill, student = skills[gone]
            undo = w.review.decisions.buttons["undo"]
            assert undo.toolTip().startswith(f"Undo: accepted {skill} for {student}")
            click(qtbot, w, "undo")
            expected.pop(gone)
            assert w.review.notice.text() == f"Undone: accepted {skill} for {student}"
            assert current_id(w) == gone
    assert len(seen) >= 10
    wait_idle(qtbot, w)
    stored = decisions(store)
    assert {aid: (lv, notes) for aid, (_o, lv, notes, _by) in stored.items()} == expected


def test_context_menu_on_a_queue_row(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    table = w.review.table
    loaded(qtbot, w)
    rect = table.visualRect(w.review.model.index(2, 1))
    third = w.review.model.id_at(2)
    table.customContextMenuRequested.emit(rect.center())  # what a right-click emits
    menu = w.review.row_menu
    assert isinstance(menu, QMenu)
    qtbot.waitUntil(menu.isVisible)
    assert current_id(w) == third  # the row under the mouse became current
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:5] == [
        "Accept",
        "Correct to Emerging",
        "Correct to Developing",
        "Correct to Proficient",
        "Correct to Advanced",
    ]
    assert [a.shortcut().toString() for a in menu.actions() if not a.isSeparator()][:2] == [
        "A",
        "1",
    ]
    accept = next(a for a in menu.actions() if a.text() == "Accept")
    accept.trigger()
    menu.close()
    wait_idle(qtbot, w)
    assert third in decisions(w.ctx.store)
    # the next menu offers to undo exactly that
    table.customContextMenuRequested.emit(rect.center())
    menu = w.review.row_menu
    assert menu is not None
    undo = [a for a in menu.actions() if a.text().startswith("Undo")][0]
    assert undo.isEnabled() and undo.text().startswith("Undo: accepted ")
    undo.trigger()
    menu.close()
    wait_idle(qtbot, w)
    assert third not in decisions(w.ctx.store)


@pytest.mark.parametrize("box_name", ["student_box", "skill_box", "category_box", "band_box"])
def test_review_keys_act_on_the_queue_after_using_a_filter(
    qtbot: QtBot, window: MainWindow, box_name: str
) -> None:
    w = window
    box = getattr(w.review, box_name)
    box.setFocus()
    qtbot.keyClick(box, Key.Key_Down)  # a keyboard user picks the next filter value
    chosen = combo_value(box)
    assert chosen is not None
    loaded(qtbot, w)
    assert box.hasFocus()
    first = current_id(w)
    qtbot.keyClick(box, Key.Key_A)  # would be "All …" in a bare combo box
    assert combo_value(box) == chosen
    second = current_id(w)
    assert second != first
    qtbot.keyClick(box, Key.Key_S)  # would be "Self-Awareness" / "S…"
    assert combo_value(box) == chosen
    assert current_id(w) != second
    qtbot.keyClick(box, Key.Key_2)
    assert w.review.editor.isVisible() and w.review.editor.level == "Developing"
    qtbot.keyClick(w.review.editor.notes, Key.Key_Escape)
    wait_idle(qtbot, w)
    assert set(decisions(w.ctx.store)) == {first}


def test_leaving_by_document_mode_returns_to_the_lowest_confidence_item(
    qtbot: QtBot, window: MainWindow
) -> None:
    w = window
    w.menu_actions["by_document"].trigger()
    loaded(qtbot, w)
    for _ in range(40):
        qtbot.keyClick(w.review.table, Key.Key_J)
    assert w.review.controller.row >= 30
    w.menu_actions["by_document"].trigger()
    loaded(qtbot, w)
    with w.ctx.store.read() as conn:
        lowest = queue_ids(conn, QueueFilter())[0]
    assert current_id(w) == lowest and w.review.controller.row == 0


def test_current_row_stays_visible_after_a_resize(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    loaded(qtbot, w)
    for _ in range(60):
        qtbot.keyClick(w.review.table, Key.Key_J)
    w.resize(1280, 720)
    sizes = w.review.splitter.sizes()
    w.review.splitter.setSizes([sizes[0] // 3, sum(sizes) - sizes[0] // 3])
    QApplication.processEvents()
    table = w.review.table
    rect = table.visualRect(table.currentIndex())
    assert table.viewport().rect().contains(rect.center())


def test_end_of_a_filtered_queue_says_all_done_with_a_next_step(
    qtbot: QtBot, window: MainWindow
) -> None:
    w = window
    panel = w.review
    panel.student_box.setCurrentIndex(panel.student_box.findData("S003", Qt.ItemDataRole.UserRole))
    loaded(qtbot, w)
    n = panel.model.rowCount()
    assert 0 < n < 125
    for _ in range(n):
        qtbot.mouseClick(panel.decisions.buttons["accept"], Left)
    wait_idle(qtbot, w)
    assert panel.done_banner.isVisible()
    text = panel.done_banner.label.text()
    assert "All done for these filters." in text and f"{125 - n} proposals still wait" in text
    qtbot.mouseClick(panel.done_banner.button, Left)  # "Show all proposals"
    loaded(qtbot, w)
    assert combo_value(panel.student_box) is None
    assert not panel.done_banner.isVisible()
    assert panel.model.is_open(panel.controller.row)


def test_hint_line_is_readable(window: MainWindow) -> None:
    hints = window.review.findChild(QLabel, "reviewHints")
    assert hints is not None and hints.isEnabled()  # not the greyed-out disabled colour
    pal = hints.palette()
    fg = pal.color(hints.foregroundRole())
    bg = pal.color(hints.backgroundRole())
    assert contrast_ratio(fg, bg) >= 4.5
