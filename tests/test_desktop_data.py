"""Data in and out and privacy in the window: roster import, CSV export, backup and restore,
encryption at rest, the passphrase at start-up and signing out — on real SQLite files.

Work on the store file itself ends with the window asking the app to reopen the store
(:class:`~desktop.core.context.Reopen`); :func:`reopen` does here what ``run_app`` does: close
the window and the store, :func:`desktop.shell.app.prepare_store`,
:func:`desktop.shell.app.open_context` and a fresh window.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.classes.rosterimport import ImportRosterDialog
from desktop.core.context import AppContext, Reopen
from desktop.core.prefs import Prefs
from desktop.dataio.dialogs import RestoreDialog
from desktop.settings.fileops import encrypt_store, sign_out_store
from desktop.settings.passphrase import KeyNeeded, PassphraseDialog
from desktop.settings.privacy import PrivacyPage
from desktop.shell.app import open_context, open_context_asking, prepare_store
from desktop.shell.mainwindow import MainWindow
from sync import actions
from sync.errors import ValidationError
from sync.io.export import EXPORT_TABLES
from sync.io.roster import RosterProblems, preview_roster
from sync.store.local import LocalStore
from sync.store.storefile import is_encrypted
from tests.support.memkeyring import memory_keyring
from tests.test_desktop_support import (
    TEACHER,
    close_window,
    isolate_settings,
    open_window,
    pending_ops,
    wait_idle,
)

ROSTER = Path(__file__).parent / "fixtures" / "roster"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def window(qtbot: QtBot, demo_store: LocalStore) -> Iterator[MainWindow]:
    w = open_window(qtbot, demo_store, start_sync=False)
    yield w
    close_window(w)


def rows(store: LocalStore, sql: str) -> list[tuple[object, ...]]:
    with store.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def reopen(qtbot: QtBot, w: MainWindow, request: Reopen) -> tuple[MainWindow | None, object]:
    """What run_app does with a Reopen: close, prepare the closed file, open a new window."""
    close_window(w)
    w.ctx.store.close()
    outcome = prepare_store(request)
    db = request.folder / "flourish.sqlite3"
    if not db.exists():
        return None, outcome
    ctx = open_context(db, key=request.key)
    assert isinstance(ctx, AppContext), ctx
    again = MainWindow(ctx, prefs=Prefs(), start_sync=False)
    again.show()
    qtbot.waitUntil(lambda: again.roster.model.rowCount() > 0)
    wait_idle(qtbot, again)
    return again, outcome


def requested(qtbot: QtBot, w: MainWindow, action: object) -> Reopen:
    with qtbot.waitSignal(w.switch_profile, timeout=10_000) as signal:
        assert callable(action)
        action()
    request = signal.args[0]
    assert isinstance(request, Reopen)
    return request


def click(box: QMessageBox | None, text: str) -> None:
    assert box is not None and box.isVisible()
    button = next(b for b in box.buttons() if b.text() == text)
    button.click()


# -- roster ------------------------------------------------------------------------------


def test_roster_import_previews_then_imports(qtbot: QtBot, window: MainWindow) -> None:
    w, store = window, window.ctx.store
    dialog = w.import_roster([ROSTER / "good_updates.csv"])
    assert isinstance(dialog, ImportRosterDialog)
    qtbot.waitUntil(lambda: dialog.plan is not None)
    shown = [
        [dialog.changes.index(r, c).data() for c in range(dialog.changes.columnCount())]
        for r in range(dialog.changes.rowCount())
    ]
    assert shown == [
        ["Update", "S001", "Eva Rossi", "8", "T001", "name Eva → Eva Rossi; grade 7 → 8"],
        ["Unchanged", "S002", "Lucas", "7", "T001", ""],
        ["Add", "S101", "Amara Okafor", "6", "T001", "new student"],
    ]
    assert "good_updates.csv (UTF-8)" in dialog.summary.text()
    assert "1 to add, 1 to update, 1 unchanged" in dialog.summary.text()
    assert dialog.import_button.isEnabled()
    dialog.import_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_idle(qtbot, w)
    assert rows(store, "SELECT id, name, grade FROM students WHERE id IN ('S001', 'S101')") == [
        ("S001", "Eva Rossi", 8),
        ("S101", "Amara Okafor", 6),
    ]
    assert {("students", "S001"), ("students", "S101")} <= {
        (t, pk) for t, pk, _ in pending_ops(store)
    }
    assert "1 added, 1 updated" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: w.roster.model.rowCount() == 5)  # the change reached the roster


def test_roster_with_problems_lists_every_one_and_imports_nothing(
    qtbot: QtBot, window: MainWindow
) -> None:
    w, store = window, window.ctx.store
    before = rows(store, "SELECT * FROM students ORDER BY id")
    dialog = w.import_roster([ROSTER / "bad_mixed.csv"])
    qtbot.waitUntil(lambda: dialog.problems.rowCount() > 0)
    problems = [
        tuple(dialog.problems.index(r, c).data() for c in range(3))
        for r in range(dialog.problems.rowCount())
    ]
    with pytest.raises(RosterProblems) as refused:
        preview_roster(store, [ROSTER / "bad_mixed.csv"])
    assert problems == [(p.file, str(p.line), p.message) for p in refused.value.problems]
    assert len(problems) == 3  # S1x is a school's own id now (an external id), not a problem
    messages = " | ".join(p[2] for p in problems)
    assert "grade '10'" in messages and "T003" in messages
    assert "appears twice" in messages
    assert dialog.stack.currentWidget() is dialog.problem_view
    assert "nothing can be imported" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    dialog.submit()  # even when forced, nothing is written
    wait_idle(qtbot, w)
    assert rows(store, "SELECT * FROM students ORDER BY id") == before
    assert pending_ops(store) == []


# -- export, backup, restore -------------------------------------------------------------


def test_export_writes_every_table(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    w = window
    w.export_csv(tmp_path / "out")
    qtbot.waitUntil(lambda: w.notice_box is not None and w.notice_box.isVisible())
    written = sorted(p.name for p in (tmp_path / "out").glob("*.csv"))
    assert written == sorted(f"{t}.csv" for t in EXPORT_TABLES) and len(written) == 7
    assert all(f"{t}.csv" in w.notice_box.text() for t in EXPORT_TABLES)
    assert "students.csv — 4 rows" in w.notice_box.text()


def test_backup_then_restore_brings_the_old_data_back(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    w, store = window, window.ctx.store
    backup = tmp_path / "saved" / "flourish-backup.sqlite3"
    w.back_up(backup)
    qtbot.waitUntil(lambda: w.notice_box is not None and w.notice_box.isVisible())
    assert "4 students" in w.notice_box.text() and backup.is_file()
    actions.add_entry(
        store, student_id="S001", teacher_id=TEACHER, entry_type="parent_note", content="After."
    )
    assert rows(store, "SELECT count(*) FROM data_entries WHERE content = 'After.'") == [(1,)]

    dialog = w.restore_backup(backup)
    assert isinstance(dialog, RestoreDialog)
    qtbot.waitUntil(lambda: dialog.restore_button.isEnabled())
    assert "Ms. Rodriguez (T001)" == dialog.fields["teacher"].text()
    assert "4 students" in dialog.fields["contents"].text()
    dialog.restore_button.click()  # refused: the new entry has not been sent
    qtbot.waitUntil(lambda: dialog.forcing)
    assert (
        "not synced yet" in dialog.error.text() and "Nothing was restored" in dialog.heading.text()
    )
    assert not dialog.restore_button.isEnabled()  # not before the warning is ticked
    assert rows(store, "SELECT count(*) FROM data_entries WHERE content = 'After.'") == [(1,)]
    assert not w.sync._stopped  # sync resumed: nothing changed

    dialog.force.setChecked(True)
    request = requested(qtbot, w, dialog.restore_button.click)
    again, _ = reopen(qtbot, w, request)
    assert again is not None
    try:
        new = again.ctx.store
        assert rows(new, "SELECT count(*) FROM data_entries WHERE content = 'After.'") == [(0,)]
        safety = list((new.path.parent / "backups").glob("flourish-before-restore-*.sqlite3"))
        assert len(safety) == 1
        with sqlite3.connect(safety[0]) as copy:
            kept = copy.execute("SELECT count(*) FROM data_entries WHERE content = 'After.'")
            assert kept.fetchone() == (1,)
        assert request.notice and str(safety[0]) in request.notice
    finally:
        close_window(again)
        again.ctx.store.close()


# -- encryption ------------------------------------------------------------------------------


def _privacy(qtbot: QtBot, w: MainWindow) -> PrivacyPage:
    dialog = w.open_settings("privacy")
    page = dialog.privacy
    assert isinstance(page, PrivacyPage) and dialog.tabs.currentWidget() is page
    qtbot.waitUntil(page.encrypt.isEnabled)
    return page


def test_encryption_with_a_passphrase_on_and_off(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    path = w.ctx.store.path
    page = _privacy(qtbot, w)
    assert "no keyring" in page.reason.text()

    def turn_on() -> None:
        page.encrypt.click()
        dialog = page.passphrase_dialog
        assert isinstance(dialog, PassphraseDialog)
        dialog.passphrase.setText(PASSPHRASE)
        dialog.repeat.setText("something else")
        dialog.submit()
        assert "differ" in dialog.problem.text() and dialog.isVisible()
        dialog.repeat.setText(PASSPHRASE)
        dialog.submit()

    request = requested(qtbot, w, turn_on)
    assert request.key == PASSPHRASE and PASSPHRASE not in repr(request)
    again, notice = reopen(qtbot, w, request)
    assert again is not None and isinstance(notice, str) and "encrypted" in notice
    try:
        assert is_encrypted(path) and b"Lucas" not in path.read_bytes()
        with pytest.raises(sqlite3.DatabaseError):
            sqlite3.connect(path).execute("SELECT count(*) FROM students").fetchone()
        assert again.roster.model.rowCount() == 4  # the app still shows the data
        assert isinstance(open_context(path), KeyNeeded)  # no key without the passphrase

        page = _privacy(qtbot, again)
        assert page.encrypt.isChecked() and "passphrase" in page.reason.text()
        request = requested(
            qtbot, again, lambda: (page.encrypt.click(), click(page.box, "Decrypt"))
        )
    except BaseException:
        close_window(again)
        again.ctx.store.close()
        raise
    plain, _ = reopen(qtbot, again, request)
    assert plain is not None
    try:
        assert not is_encrypted(path)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT count(*) FROM students").fetchone() == (4,)
    finally:
        close_window(plain)
        plain.ctx.store.close()


def test_encryption_with_the_keyring(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    with memory_keyring() as ring:
        page = _privacy(qtbot, w)
        assert "keyring" in page.reason.text()
        request = requested(qtbot, w, lambda: (page.encrypt.click(), click(page.box, "Encrypt")))
        assert request.key is None
        again, _ = reopen(qtbot, w, request)
        assert again is not None
        try:
            assert is_encrypted(again.ctx.store.path) and len(ring.items) == 1
            assert again.roster.model.rowCount() == 4
        finally:
            close_window(again)
            again.ctx.store.close()


def test_encryption_greyed_out_with_the_reason(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    page = _privacy(qtbot, w)
    page.encrypt.click()  # no keyring: a passphrase is asked; declining greys it out
    dialog = page.passphrase_dialog
    assert isinstance(dialog, PassphraseDialog)
    dialog.reject()
    assert not page.encrypt.isEnabled() and not page.encrypt.isChecked()
    assert "no passphrase was chosen" in page.reason.text()
    assert not is_encrypted(w.ctx.store.path)
    monkeypatch.setattr("desktop.settings.privacy.encryption_available", lambda: False)
    page = w.open_settings("privacy").privacy
    qtbot.waitUntil(lambda: "sqlcipher3" in page.reason.text())
    assert not page.encrypt.isEnabled()


def test_passphrase_is_asked_again_when_wrong_and_quit_cancels(
    qtbot: QtBot, window: MainWindow
) -> None:
    w = window
    path = w.ctx.store.path
    close_window(w)
    w.ctx.store.close()
    encrypted = prepare_store(Reopen(path.parent, prepare=encrypt_store(PASSPHRASE)))
    assert isinstance(encrypted, str) and is_encrypted(path)
    seen: list[str] = []

    def answer(*typed: str | None) -> None:
        queue = list(typed)

        def step() -> None:
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, PassphraseDialog):
                QTimer.singleShot(10, step)
                return
            seen.append(dialog.problem.text())
            value = queue.pop(0)
            assert dialog.passphrase.echoMode() == dialog.passphrase.EchoMode.Password
            if value is None:
                dialog.reject()
            else:
                dialog.passphrase.setText(value)
                dialog.submit()
            if queue:
                QTimer.singleShot(10, step)

        QTimer.singleShot(0, step)

    answer("not it", PASSPHRASE)
    ctx = open_context_asking(path)
    assert isinstance(ctx, AppContext)
    try:
        assert seen[0] == "" and "does not open" in seen[1]
        assert rows(ctx.store, "SELECT count(*) FROM students") == [(4,)]
    finally:
        ctx.tasks.shutdown()
        ctx.store.close()
    answer(None)
    assert open_context_asking(path) is None  # Quit


# -- signing out ---------------------------------------------------------------------------


def test_sign_out_refuses_unsent_changes_then_wipes(qtbot: QtBot, window: MainWindow) -> None:
    w, store = window, window.ctx.store
    folder = store.path.parent
    actions.add_entry(
        store, student_id="S001", teacher_id=TEACHER, entry_type="parent_note", content="Unsent."
    )
    store.backup(folder / "backups" / "flourish-manual.sqlite3")
    page = _privacy(qtbot, w)
    page.sign_out.click()
    click(page.box, "Sign out and remove")
    qtbot.waitUntil(lambda: page.box is not None and page.box.objectName() == "unsentBox")
    box = page.box
    assert box.text() == "1 change has not reached the server."
    assert [b.text() for b in box.buttons() if b.text() == "Sync now"] == []  # not signed in
    click(box, "Cancel")
    assert store.path.exists()

    page.sign_out.click()
    click(page.box, "Sign out and remove")
    qtbot.waitUntil(lambda: page.box is not None and page.box.objectName() == "unsentBox")
    request = requested(qtbot, w, lambda: click(page.box, "Sign out anyway"))
    close_window(w)
    store.close()
    # sign_out itself refuses while the change is unsent...
    refused = prepare_store(Reopen(folder, prepare=sign_out_store(force=False, key=None)))
    assert isinstance(refused, ValidationError) and "1 change(s)" in str(refused)
    assert store.path.exists()
    # ...and "Sign out anyway" wipes the store, its backups and secrets
    notice = prepare_store(request)
    assert isinstance(notice, str) and "1 change(s)" in notice and "discarded" in notice
    assert [p.name for p in folder.rglob("*") if p.is_file()] == []
