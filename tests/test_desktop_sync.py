"""Sync honesty in the window: no server, an unreachable server, quitting with unsent
changes, the conflicts panel, and secrets that never reach a file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop.core.prefs import Prefs
from desktop.settings.dialog import SettingsDialog
from desktop.shell.mainwindow import CONFLICTS, MainWindow
from desktop.syncui.worker import SyncState, SyncStatus
from sync import actions
from sync.replication.retry import Backoff
from sync.store.local import LocalStore
from tests.test_desktop_support import (
    TEACHER,
    assert_status_matches_queue,
    close_window,
    insert_conflict,
    isolate_settings,
    open_window,
    pending_ops,
    point_at_closed_port,
    wait_idle,
)


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def window(qtbot: QtBot, demo_store: LocalStore) -> Iterator[MainWindow]:
    w = open_window(qtbot, demo_store)
    yield w
    close_window(w)


class Ticker:
    """Counts timer ticks: proof that the event loop kept running."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks += 1


def test_starts_without_a_server_and_works_locally(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    ticker = Ticker()
    qtbot.waitUntil(lambda: w.sync.status.state is SyncState.LOCAL_ONLY)
    assert w.sync_status.state_label.text() == "Local only (no server)"
    assert w.sync.configured is False
    qtbot.waitUntil(lambda: ticker.ticks >= 5)
    qtbot.keyClick(w.review.table, Qt.Key.Key_A)  # decisions work offline
    assert_status_matches_queue(qtbot, w)
    assert w.sync_status.pending_label.text().startswith("1 change pending (oldest")
    qtbot.wait(300)
    assert w.sync.loop.attempts == 1  # nothing to sync with: the change started no round


def test_unreachable_server_retries_on_a_timer_without_blocking(
    qtbot: QtBot, demo_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at_closed_port(demo_store, monkeypatch)
    actions.accept(demo_store, assessment_id=1, teacher_id=TEACHER)
    w = open_window(qtbot, demo_store, start_sync=False)
    try:
        w.sync.loop.backoff = Backoff(base_s=0.05, cap_s=0.2, jitter=0.2)
        ticker = Ticker()
        w.sync.start()
        # retries come from the timer alone: no local write happens meanwhile
        qtbot.waitUntil(lambda: w.sync.failures >= 3, timeout=20_000)
        assert ticker.ticks >= 3
        assert w.sync.status.state is SyncState.OFFLINE
        assert w.sync_status.state_label.text().startswith("Offline")
        assert w.sync.status.retrying or w.sync.running
        assert w.ctx.store.state("last_error")
        assert_status_matches_queue(qtbot, w)
        assert w.sync_status.pending_count == 1
    finally:
        close_window(w)


def test_a_local_change_schedules_a_sync_soon(
    qtbot: QtBot, demo_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at_closed_port(demo_store, monkeypatch)
    w = open_window(qtbot, demo_store, start_sync=False)
    try:
        w.sync.loop.backoff = Backoff(base_s=30, cap_s=30, jitter=0)  # no retry meanwhile
        w.sync.start()
        qtbot.waitUntil(lambda: w.sync.rounds >= 1, timeout=10_000)
        assert w.sync.status.state is SyncState.OFFLINE
        w.sync.after_change_s = 0.05
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: w.sync.rounds >= 2, timeout=10_000)  # long before 30 s
        assert w.sync.status.state is SyncState.OFFLINE
    finally:
        close_window(w)


def test_status_texts() -> None:
    import datetime as dt

    now = dt.datetime(2026, 10, 1, 12, 0, 0)
    s = SyncStatus(
        state=SyncState.IDLE,
        pending=3,
        oldest_pending_age_s=125,
        conflicts=2,
        last_sync=now - dt.timedelta(minutes=7),
        counted_at=now,
    )
    assert s.state_text(now) == "Synced 7 min ago"
    assert s.pending_text(now) == "3 changes pending (oldest 2 min)"
    syncing = SyncStatus(state=SyncState.SYNCING, progress=("push", 2, 5))
    assert syncing.state_text(now) == "Syncing: push 2 of 5…"
    offline = SyncStatus(state=SyncState.OFFLINE, next_retry_at=now + dt.timedelta(seconds=40))
    assert offline.state_text(now) == "Offline, retrying in 40 s"


def _answer_quit_box(qtbot: QtBot, w: MainWindow, button: str) -> QMessageBox:
    qtbot.waitUntil(lambda: w.quit_box is not None and w.quit_box.isVisible())
    box = w.quit_box
    assert box is not None
    target = next(b for b in box.buttons() if b.text() == button)
    target.click()
    return box


def _signed_in_before(store: LocalStore) -> None:
    """A laptop that was signed in to a server and is signed out now (no password)."""
    store.set_state({"server_url": "https://127.0.0.1:1", "profile": "server"})


def test_quit_with_unsent_changes_warns_and_offers_to_sign_in(
    qtbot: QtBot, demo_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOURISH_TOKEN", raising=False)
    _signed_in_before(demo_store)
    w = open_window(qtbot, demo_store)
    try:
        qtbot.waitUntil(lambda: w.sync.configured is False)
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
        w.close()  # checked behind the queued writes
        box = _answer_quit_box(qtbot, w, "Cancel")
        assert box.text() == "2 changes have not reached the server yet."
        assert "signed out of its server" in box.informativeText()
        assert w.isVisible()
        w.close()
        _answer_quit_box(qtbot, w, "Sign in…")
        qtbot.waitUntil(lambda: isinstance(w.dialog, SettingsDialog) and w.dialog.isVisible())
        assert w.isVisible()
        w.dialog.reject()
        w.close()
        _answer_quit_box(qtbot, w, "Quit anyway")
        qtbot.waitUntil(lambda: not w.isVisible())
        assert len(pending_ops(w.ctx.store)) == 2  # nothing lost: still queued
    finally:
        close_window(w)


@pytest.mark.parametrize("kind", ["demo", "local"])
def test_demo_and_local_only_stores_quit_without_a_server_question(
    qtbot: QtBot, demo_store: LocalStore, kind: str
) -> None:
    """No server to reach: nothing is "not sent yet", everything is on this laptop."""
    if kind == "local":
        demo_store.set_state({"profile": "local"})
    w = open_window(qtbot, demo_store)
    try:
        assert w.ctx.is_demo is (kind == "demo")
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
        w.close()
        qtbot.waitUntil(lambda: not w.isVisible())
        assert w.quit_box is None
        assert len(pending_ops(demo_store)) == 1  # kept: sent if this laptop ever signs in
    finally:
        close_window(w)


def test_sign_in_on_the_demo_says_where_signing_in_happens(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.menu_actions["sign_in"].trigger()
    dialog = window.dialog
    assert isinstance(dialog, SettingsDialog)
    assert "This is the demo class" in dialog.server_status.text()
    assert not dialog.sign_in.isEnabled() and not dialog.url.isEnabled()
    dialog.reject()


def test_sync_now_then_quit_while_offline_keeps_the_changes_and_quits(
    qtbot: QtBot, demo_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at_closed_port(demo_store, monkeypatch)
    demo_store.set_state({"profile": "server"})
    w = open_window(qtbot, demo_store, start_sync=False)
    try:
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
        w.close()
        box = _answer_quit_box(qtbot, w, "Sync now, then quit")
        assert "Sync now before quitting?" in box.informativeText()
        qtbot.waitUntil(
            lambda: w.quit_box is not None and w.quit_box.objectName() == "offlineQuitBox",
            timeout=15_000,
        )
        offline = w.quit_box
        assert offline.text() == "The server could not be reached, so nothing was sent this time."
        assert "safe on this laptop" in offline.informativeText()
        assert w.errors.last is None  # not an error
        offline.accept()
        qtbot.waitUntil(lambda: not w.isVisible())
        assert len(pending_ops(demo_store)) == 1
    finally:
        close_window(w)


def test_quit_without_unsent_changes_just_closes(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible())
    assert w.quit_box is None


def test_conflicts_panel_reapplies_my_version(qtbot: QtBot, demo_store: LocalStore) -> None:
    conflict_id = insert_conflict(demo_store, assessment_id=2)
    w = open_window(qtbot, demo_store)
    try:
        qtbot.waitUntil(lambda: w.sync_status.conflicts_button.isVisible())
        assert w.sync_status.conflicts_button.text() == "⚠ 1 conflict"
        w.sync_status.conflicts_button.click()
        assert w.tabs.currentIndex() == CONFLICTS
        panel = w.conflicts
        qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and panel.compare.rowCount() > 0)
        fields = {r[0]: (r[1], r[2], r[3]) for r in panel.compare.rows}
        assert fields["Corrected level"][2] is True  # differs: shown first, highlighted
        assert fields["Teacher notes"][:2] == ("from my home laptop", "from the classroom laptop")
        assert "Sync hlc" not in fields
        assert panel.reapply_button.isEnabled()
        panel.reapply_button.click()
        wait_idle(qtbot, w)
        store = w.ctx.store
        with store.read() as conn:
            level, notes, by = conn.exec_driver_sql(
                "SELECT corrected_level, teacher_notes, corrected_by FROM teacher_corrections "
                "WHERE assessment_id = 2"
            ).one()
            resolution = conn.exec_driver_sql(
                "SELECT resolution FROM sync_conflicts WHERE id = ?", (conflict_id,)
            ).scalar_one()
        assert (notes, by, resolution) == ("from my home laptop", TEACHER, "reapplied")
        assert level != "Advanced"
        ops = pending_ops(store)
        assert ("teacher_corrections", "2000000001", "upsert") in ops
        assert ("sync_conflicts", str(conflict_id), "upsert") in ops
        qtbot.waitUntil(lambda: not w.sync_status.conflicts_button.isVisible())
        assert panel.model.rowCount() == 0
        assert_status_matches_queue(qtbot, w)
    finally:
        close_window(w)


def test_conflicts_can_be_dismissed(qtbot: QtBot, demo_store: LocalStore) -> None:
    insert_conflict(demo_store, assessment_id=3)
    w = open_window(qtbot, demo_store)
    try:
        w.show_tab(CONFLICTS)
        qtbot.waitUntil(lambda: w.conflicts.model.rowCount() == 1)
        w.conflicts.dismiss_button.click()
        qtbot.waitUntil(lambda: w.conflicts.model.rowCount() == 0)
        w.conflicts.show_resolved.setChecked(True)
        qtbot.waitUntil(lambda: w.conflicts.model.rowCount() == 1)
        assert w.conflicts.model.rows[0]["resolution"] == "dismissed"
        assert_status_matches_queue(qtbot, w)
    finally:
        close_window(w)


def test_sign_in_password_never_reaches_a_file(
    qtbot: QtBot, store: LocalStore, _settings: Path, tmp_path: Path
) -> None:
    """A failed sign-in (nothing listens) must not leave the password anywhere on disk."""
    from desktop.core.context import AppContext

    secret = "s3cret-Pass-phrase-42"
    ctx = AppContext.create(store)
    prefs = Prefs()
    dialog = SettingsDialog(ctx, prefs, tab="server")
    try:
        from tests.test_desktop_support import free_port

        dialog.url.setText(f"https://127.0.0.1:{free_port()}")
        dialog.login_edit.setText("teacher1")
        dialog.password.setText(secret)
        dialog.sign_in.click()
        assert dialog.password.text() == ""  # not kept in the widget either
        qtbot.waitUntil(
            lambda: "Server not reachable" in dialog.server_status.text(), timeout=15_000
        )
        dialog.appearance_changed.emit(prefs.appearance)
        prefs.set_geometry("test", dialog.saveGeometry())
        prefs.sync()
    finally:
        dialog.close()
        ctx.tasks.shutdown()
    for path in [_settings, *Path(store.path).parent.rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    with pytest.raises(ValueError):
        prefs._set("server/password", secret)


@pytest.mark.slow
def test_sign_in_then_review_reaches_the_real_server(
    qtbot: QtBot,
    pg_url: str,
    store: LocalStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """First run against a real Flourish service: sign in from Settings, pull, decide, push."""
    from sqlalchemy import text

    from sync.server.admin import load_demo_central
    from sync.server.central import create_engine_for
    from tests.support.laptops import PASSWORD, make_server
    from tests.support.memkeyring import memory_keyring

    engine = create_engine_for(pg_url)
    with engine.begin() as conn:
        load_demo_central(conn)
    server = make_server(pg_url, teachers=("T001",), database_logins=False)
    service = server.serve(tmp_path / "service").running()
    # the school's CA, installed on the laptop as IT would (OpenSSL's SSL_CERT_FILE)
    monkeypatch.setenv("SSL_CERT_FILE", str(service.tls.ca))
    keep = ExitStack()
    keep.enter_context(memory_keyring())  # the device token is kept in the (test's) keyring
    w = open_window(qtbot, store)
    try:
        qtbot.waitUntil(lambda: w.sync.status.state is SyncState.LOCAL_ONLY)
        assert w.review.model.rowCount() == 0 and w.roster.model.rowCount() == 0
        dialog = w.open_settings("server")
        dialog.url.setText(service.url)
        dialog.login_edit.setText(server.logins["T001"])
        dialog.password.setText(PASSWORD)
        dialog.sign_in.click()
        qtbot.waitUntil(lambda: "Signed in as T001" in dialog.server_status.text(), timeout=20_000)
        dialog.reject()
        qtbot.waitUntil(lambda: w.sync.status.state is SyncState.IDLE, timeout=20_000)
        assert w.sync_status.state_label.text() == "Synced just now"
        assert w.ctx.teacher_id == "T001"
        qtbot.waitUntil(lambda: "T001" not in w.windowTitle())  # the pulled teacher's name
        qtbot.waitUntil(lambda: w.roster.model.rowCount() == 2)  # T001's own students
        qtbot.waitUntil(lambda: w.review.model.complete and w.review.model.rowCount() > 0)
        w.sync.after_change_s = 0.05
        rounds = w.sync.rounds
        aid = w.review.model.id_at(w.review.controller.row)
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: w.sync_status.pending_count == 1)
        # the local change alone schedules the next round (nobody presses "sync")
        qtbot.waitUntil(
            lambda: w.sync.rounds > rounds and w.sync_status.pending_count == 0, timeout=20_000
        )
        assert w.sync.status.state is SyncState.IDLE
        assert_status_matches_queue(qtbot, w)
        with engine.begin() as conn:
            corrected = conn.execute(
                text("SELECT corrected FROM assessments WHERE id = :i"), {"i": aid}
            ).scalar_one()
        assert corrected is True  # the server's own trigger saw the decision
    finally:
        close_window(w)
        keep.close()
        server.stop()
        engine.dispose()
