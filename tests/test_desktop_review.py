"""The review queue, driven by key presses on the real window over a real demo store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.review.data import QueueFilter, find_quote, queue_ids
from desktop.shell.mainwindow import MainWindow
from sync import actions
from sync.model.vocab import LEVELS
from sync.store.local import LocalStore
from tests.test_desktop_support import (
    TEACHER,
    assert_status_matches_queue,
    close_window,
    decisions,
    isolate_settings,
    open_window,
    pending_ops,
    wait_idle,
)

Key = Qt.Key


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


def press(qtbot: QtBot, w: MainWindow, key: Key) -> None:
    qtbot.keyClick(w.review.table, key)


def test_review_twenty_items_by_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    """Accept, correct (with notes), notes only, skip and undo: 20 items, all by keys."""
    w, store = window, window.ctx.store
    expected: dict[int, tuple[str, str | None]] = {}  # id -> (corrected level, notes)
    original = {r["id"]: r["level"] for r in _assessments(store)}
    skipped: list[int] = []
    undone: list[int] = []
    plan = [
        "A",
        "enter",
        "1",
        "3",
        "S",
        "N",
        "A",
        "4",
        "U",
        "A",
        "2",
        "S",
        "A",
        "enter",
        "3",
        "A",
        "U",
        "U",
        "N",
        "A",
        "1",
        "A",
        "S",
        "A",
        "A",
        "2",
    ]
    last_decided: list[int] = []
    seen: set[int] = set()
    for step in plan:
        aid = current_id(w)
        seen.add(aid)
        if step in ("A", "enter"):
            press(qtbot, w, Key.Key_A if step == "A" else Key.Key_Return)
            expected[aid] = (original[aid], None)
            last_decided.append(aid)
        elif step in "1234":
            press(qtbot, w, getattr(Key, f"Key_{step}"))
            assert w.review.editor.isVisible()
            assert w.review.editor.level == LEVELS[int(step) - 1]
            qtbot.keyClicks(w.review.editor.notes, f"seen in class {aid}")
            qtbot.keyClick(w.review.editor.notes, Key.Key_Return)
            assert not w.review.editor.isVisible()
            expected[aid] = (LEVELS[int(step) - 1], f"seen in class {aid}")
            last_decided.append(aid)
        elif step == "N":
            press(qtbot, w, Key.Key_N)
            assert w.review.editor.level == original[aid]
            qtbot.keyClicks(w.review.editor.notes, "a note only")
            qtbot.keyClick(w.review.editor.notes, Key.Key_Return)
            expected[aid] = (original[aid], "a note only")
            last_decided.append(aid)
        elif step == "S":
            press(qtbot, w, Key.Key_S)
            skipped.append(aid)
        elif step == "U":
            press(qtbot, w, Key.Key_U)
            gone = last_decided.pop()
            expected.pop(gone)
            undone.append(gone)
            assert current_id(w) == gone  # undo returns to the undone item
    assert len(seen) >= 20
    wait_idle(qtbot, w)
    stored = decisions(store)
    assert {aid: (lv, notes) for aid, (_o, lv, notes, _by) in stored.items()} == expected
    assert all(by == TEACHER for *_x, by in stored.values())
    assert all(stored[a][0] == original[a] for a in stored)  # original level kept
    for aid in skipped:
        assert aid not in stored
    # one queued upsert per decision still standing, nothing else but undo deletions
    ops = pending_ops(store)
    with store.read() as conn:
        ids = dict(conn.exec_driver_sql("SELECT assessment_id, id FROM teacher_corrections").all())
    upserts = {pk for t, pk, op in ops if t == "teacher_corrections" and op == "upsert"}
    assert upserts == {str(ids[a]) for a in expected}
    assert all(t == "teacher_corrections" for t, _pk, _op in ops)
    with store.read() as conn:
        corrected = {
            int(r[0]) for r in conn.exec_driver_sql("SELECT id FROM assessments WHERE corrected")
        }
    assert corrected == set(expected)
    assert w.review.progress_label.text() == f"{len(expected)} of 125 reviewed today"
    assert_status_matches_queue(qtbot, w)


def _assessments(store: LocalStore) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(r) for r in conn.exec_driver_sql("SELECT * FROM assessments").mappings()]


def test_undo_goes_30_deep_also_after_moving_on(qtbot: QtBot, window: MainWindow) -> None:
    w, store = window, window.ctx.store
    first = []
    for _ in range(35):
        first.append(current_id(w))
        press(qtbot, w, Key.Key_A)
    for key in (Key.Key_K, Key.Key_K, Key.Key_J, Key.Key_Down, Key.Key_Up, Key.Key_Up):
        press(qtbot, w, key)  # wander around the queue first
    wait_idle(qtbot, w)
    assert len(decisions(store)) == 35
    for _ in range(16):
        press(qtbot, w, Key.Key_U)
    wait_idle(qtbot, w)
    assert len(decisions(store)) == 35 - 16
    w.activateWindow()
    for _ in range(16):  # Ctrl+Z: Edit > Undo, the platform's undo shortcut
        qtbot.keyClick(w.review.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, w)
    assert set(decisions(store)) == set(first[:3])
    assert current_id(w) == first[3]
    assert_status_matches_queue(qtbot, w)


def test_decision_on_an_item_decided_earlier_undoes_to_that_decision(
    qtbot: QtBot, window: MainWindow
) -> None:
    w, store = window, window.ctx.store
    aid = current_id(w)
    press(qtbot, w, Key.Key_2)
    qtbot.keyClick(w.review.editor.notes, Key.Key_Return)
    press(qtbot, w, Key.Key_K)  # back to it
    assert current_id(w) == aid
    press(qtbot, w, Key.Key_4)
    qtbot.keyClick(w.review.editor.notes, Key.Key_Return)
    wait_idle(qtbot, w)
    assert decisions(store)[aid][1] == "Advanced"
    press(qtbot, w, Key.Key_U)
    wait_idle(qtbot, w)
    assert decisions(store)[aid][1] == "Developing"  # the earlier decision is back


def test_escape_cancels_the_editor_without_writing(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    aid = current_id(w)
    press(qtbot, w, Key.Key_3)
    qtbot.keyClicks(w.review.editor.notes, "asdf")
    qtbot.keyClick(w.review.editor.notes, Key.Key_Escape)
    assert not w.review.editor.isVisible()
    assert current_id(w) == aid
    wait_idle(qtbot, w)
    assert decisions(w.ctx.store) == {}


def test_queue_is_lowest_confidence_first_and_quote_highlighted_in_place(
    qtbot: QtBot, window: MainWindow
) -> None:
    w = window
    model = w.review.model
    with w.ctx.store.read() as conn:
        confidences = dict(
            conn.exec_driver_sql("SELECT id, confidence_score FROM assessments").all()
        )
    ordered = [confidences[model.id_at(r)] for r in range(model.rowCount())]
    assert ordered == sorted(ordered) and model.rowCount() == 125
    for _ in range(5):
        item = w.review.controller.item
        assert item is not None
        assert w.review.evidence.text.toPlainText() == item.content
        assert w.review.evidence.highlighted_text() == item.source_quote
        html = w.review.proposal.toPlainText()
        assert item.descriptor in html and item.row.skill_name in html
        press(qtbot, w, Key.Key_J)


def test_filters_narrow_the_queue(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    panel = w.review
    panel.student_box.setCurrentIndex(panel.student_box.findData("S002", Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: panel.model.complete and not panel.model.loading)
    wait_idle(qtbot, w)
    rows = [panel.model.cached_row(r) for r in range(panel.model.rowCount())]
    assert rows and all(r is not None and r.student_id == "S002" for r in rows)
    panel.band_box.setCurrentIndex(1)  # below 0.50
    qtbot.waitUntil(lambda: panel.model.complete and not panel.model.loading)
    wait_idle(qtbot, w)
    rows = [panel.model.cached_row(r) for r in range(panel.model.rowCount())]
    assert all(r is not None and r.confidence is not None and r.confidence < 0.5 for r in rows)
    with w.ctx.store.read() as conn:
        assert panel.model.rowCount() == len(
            queue_ids(conn, QueueFilter(student_id="S002", band="below 0.50"))
        )


def test_by_document_mode_reads_each_transcript_once(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    w.menu_actions["by_document"].trigger()
    assert w.review.by_document.isChecked()
    qtbot.waitUntil(lambda: w.review.model.complete and "Evidence" in w.review.model.columns)
    wait_idle(qtbot, w)
    model = w.review.model
    entries = [model.cached_row(r).data_entry_id for r in range(model.rowCount())]  # type: ignore[union-attr]
    seen: list[str | None] = []
    for e in entries:  # each document's proposals are contiguous
        if not seen or seen[-1] != e:
            assert e not in seen
            seen.append(e)
    # walking through one document keeps its text and highlights every proposal in it
    item = w.review.controller.item
    assert item is not None
    doc, n = item.row.data_entry_id, len(item.siblings) + 1
    assert n > 1
    students = set()
    for _ in range(n):
        item = w.review.controller.item
        assert item is not None and item.row.data_entry_id == doc
        students.add(item.row.student_id)
        assert w.review.evidence.highlighted_text() == item.source_quote
        assert len(w.review.evidence.text.extraSelections()) >= 1
        press(qtbot, w, Key.Key_A)
        qtbot.waitUntil(lambda: w.review.controller.item is not None)
    assert w.review.controller.item.row.data_entry_id != doc  # type: ignore[union-attr]
    wait_idle(qtbot, w)
    assert len(decisions(w.ctx.store)) == n
    assert w.prefs.by_document is True


def test_examples_the_ai_used_are_shown(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_settings(monkeypatch, tmp_path)
    example = actions.correct(
        demo_store, assessment_id=1, teacher_id=TEACHER, level=2, notes="Only in writing"
    ).value
    with demo_store.read() as conn:
        lowest = queue_ids(conn, QueueFilter())[0]
    with demo_store.apply_remote() as conn:
        conn.exec_driver_sql(
            "UPDATE assessments SET provenance = json_object('model', 'gpt-test', "
            "'examples', json_array(?)) WHERE id = ?",
            (example.id, lowest),
        )
    w = open_window(qtbot, demo_store)
    try:
        assert w.review.model.id_at(0) == lowest
        item = w.review.controller.item
        assert item is not None and [e.correction_id for e in item.examples] == [example.id]
        text = w.review.proposal.toPlainText()
        assert "Past corrections the AI used as examples (1)" in text
        assert "Only in writing" in text
    finally:
        close_window(w)


@pytest.mark.parametrize(
    ("content", "quote", "expected"),
    [
        ("I said hello there.", "hello there", "hello there"),
        ("Pat: I can\ndraw it", "I can draw it", "I can\ndraw it"),
        ("She said: Okay  FINE.", "okay fine", "Okay  FINE"),
        ("nothing here", "missing words", None),
    ],
)
def test_find_quote(content: str, quote: str, expected: str | None) -> None:
    span = find_quote(content, quote)
    assert (None if span is None else content[span[0] : span[1]]) == expected


def test_a_refused_write_puts_the_row_back_and_says_why(qtbot: QtBot, window: MainWindow) -> None:
    """The proposal vanished (deleted by a sync) between showing and deciding."""
    w = window
    aid = current_id(w)
    with w.ctx.store.apply_remote() as conn:
        conn.exec_driver_sql("DELETE FROM assessments WHERE id = ?", (aid,))
    press(qtbot, w, Key.Key_A)
    qtbot.waitUntil(lambda: w.errors.last is not None)
    assert w.errors.last == ("Not found", f"assessment {aid}: no such assessment")
    assert aid not in w.review.model.overlay
    assert not w.review.controller.undo_stack
    assert pending_ops(w.ctx.store) == []
    w.errors.dismiss()
