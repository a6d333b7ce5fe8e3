"""Downloading a fresh copy from the server keeps the readable unsent changes.

Through a real ``flourish server serve`` process: a laptop makes changes it has not sent,
its store is damaged (or is healthy and the teacher wants a fresh copy), and
:func:`sync.replication.redownload.redownload` brings the server's data back, re-queues
and sends what could be read, counts what could not, and keeps the old file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from sync import actions
from sync.actions.students import add_student
from sync.errors import TransientError, ValidationError
from sync.model.crud import ASSESSMENTS, DATA_ENTRIES, STUDENTS
from sync.replication.engine import SyncEngine
from sync.replication.redownload import load_unsent, redownload, salvage_unsent
from sync.store.health import StoreDamagedError, header_state, quick_check
from sync.store.local import LocalStore
from tests.support.laptops import Laptop, Server, admin_rows, load_demo, make_server


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    load_demo(pg_url)
    made = make_server(pg_url).serve(tmp_path / "service")
    yield made
    made.stop()


@pytest.fixture
def laptop(server: Server, tmp_path: Path) -> Iterator[Laptop]:
    lap = Laptop(server, "T001", tmp_path / "L1")
    lap.sync()
    yield lap
    lap.close()


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def _page_of(path: Path, table: str, *, leaf: bool) -> int:
    """A page of ``table``'s b-tree: its root, or one of its leaves other than the first."""
    with sqlite3.connect(path) as conn:
        if not leaf:
            page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
            return int(page.fetchone()[0])
        pages = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path",
            (table,),
        ).fetchall()
    conn.close()
    assert len(pages) >= 3, pages
    return int(pages[len(pages) // 2][0])


def _close(laptop: Laptop) -> tuple[Path, str]:
    token = laptop.result.token
    assert token is not None
    laptop.close()
    return laptop.store.path, token


def _unsent_changes(laptop: Laptop) -> tuple[int, str]:
    """A correction and a new student with evidence, not sent: (correction id, student id)."""
    decision = actions.correct(
        laptop.store, assessment_id=1, teacher_id="T001", level=4, notes="Led the debate"
    ).value
    student = add_student(laptop.store, name="Robin Vale", grade=7, teacher_id="T001")
    sid = student.value.id
    actions.add_entry(
        laptop.store,
        student_id=sid,
        teacher_id="T001",
        entry_type="reflection_journal",
        content="I asked the group what they thought before deciding.",
    )
    return decision.id, sid


def test_a_damaged_store_is_downloaded_again_with_its_unsent_changes(
    server: Server, laptop: Laptop
) -> None:
    correction_id, sid = _unsent_changes(laptop)
    with laptop.store.read() as conn:
        unsent = conn.exec_driver_sql("SELECT count(*) FROM sync_operations").scalar_one()
    assert unsent == 3  # the correction (it carries the flag), the student, the evidence
    path, token = _close(laptop)
    page_size = 4096
    _overwrite(path, (_page_of(path, "assessments", leaf=False) - 1) * page_size, b"\xff" * 4096)
    _overwrite(path, 0, b"\x00" * 16)  # and the first bytes
    assert header_state(path) == "damaged"
    with pytest.raises(StoreDamagedError):
        LocalStore.open(path, create=False)

    result = redownload(path, password=token)

    assert result.kept == 3 and result.unreadable == 0 and result.sent
    assert result.downloaded_rows > 0
    assert header_state(result.old_file) == "damaged"  # the old file is kept
    assert result.old_file.name.startswith("flourish.sqlite3.damaged-")
    exported = json.loads(result.export.read_text())
    assert len(exported["operations"]) == 3
    assert "3 change(s) not sent before were kept and sent" in result.summary()
    # the server has the changes
    assert admin_rows(server.admin_url, "SELECT name FROM students WHERE id = :s", s=sid) == [
        ("Robin Vale",)
    ]
    notes = admin_rows(
        server.admin_url,
        "SELECT teacher_notes FROM teacher_corrections WHERE id = :c",
        c=correction_id,
    )
    assert notes == [("Led the debate",)]
    # and the new store holds the server's data plus the changes, with nothing left to send
    with LocalStore.open(path, create=False) as store, store.read() as conn:
        assert quick_check(path) == []
        assert ASSESSMENTS.require(conn, 1).corrected is True
        assert STUDENTS.require(conn, sid).name == "Robin Vale"
        assert any(e.student_id == sid for e in DATA_ENTRIES.list(conn))
        assert conn.exec_driver_sql("SELECT count(*) FROM sync_operations").scalar_one() == 0
        assert store.device_no == laptop.device_no  # the same laptop, not a new device
    # a change made in the new store after that is not mistaken for one already sent
    with LocalStore.open(path, create=False) as store:
        actions.correct(store, assessment_id=2, teacher_id="T001", level=1)
        with SyncEngine.from_store(store, password=token) as engine:
            report = engine.sync_once()
    assert report.pushed == 1 and report.duplicates == 0
    assert admin_rows(server.admin_url, "SELECT corrected FROM assessments WHERE id = 2") == [
        (True,)
    ]


def test_a_damaged_page_of_the_queue_loses_only_what_it_held(
    server: Server, laptop: Laptop
) -> None:
    student = laptop.store
    for n in range(60):  # enough queued evidence for the queue to span several pages
        actions.add_entry(
            student,
            student_id="S001",
            teacher_id="T001",
            entry_type="teacher_observation_note",
            content=f"Queued note {n}: " + "listened and asked a question. " * 12,
        )
    path, token = _close(laptop)
    _overwrite(path, (_page_of(path, "sync_operations", leaf=True) - 1) * 4096, b"\xff" * 4096)

    salvage = salvage_unsent(path)
    assert salvage.unreadable > 0 and len(salvage.ops) + salvage.unreadable == 60
    result = redownload(path, password=token)

    assert result.kept == len(salvage.ops) and result.unreadable == salvage.unreadable
    assert f"{salvage.unreadable} unsent change(s) could not be read" in result.summary()
    on_server = admin_rows(
        server.admin_url, "SELECT count(*) FROM data_entries WHERE content LIKE 'Queued note %'"
    )
    assert on_server == [(len(salvage.ops),)]
    assert len(load_unsent(result.export).ops) == len(salvage.ops)


def test_a_healthy_store_can_be_refreshed_and_offline_nothing_is_replaced(
    server: Server, laptop: Laptop
) -> None:
    actions.correct(laptop.store, assessment_id=1, teacher_id="T001", level=2)
    path, token = _close(laptop)
    before = path.read_bytes()
    service = server.service
    assert service is not None
    service.stop()  # offline: refused before anything changes
    with pytest.raises(TransientError):
        redownload(path, password=token)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if ".download-" in p.name] == []

    service.start()
    done = subprocess.run(  # the command line does the same
        [sys.executable, "-m", "desktop.cli", "--data-dir", str(path.parent), "redownload"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLOURISH_TOKEN": token},
    )
    assert done.returncode == 0, done.stderr
    assert "1 change(s) not sent before were kept and sent." in done.stdout
    assert [p.name[:26] for p in path.parent.glob("*.replaced-*[0-9]")] == [
        "flourish.sqlite3.replaced-"
    ]
    with LocalStore.open(path, create=False) as store, store.read() as conn:
        assert ASSESSMENTS.require(conn, 1).corrected is True


def test_a_store_without_a_server_has_nothing_to_download(tmp_path: Path) -> None:
    from sync.store.profiles import create_local_profile

    path = create_local_profile(tmp_path / "flourish.sqlite3", teacher_name="Ms. Lee")
    with pytest.raises(ValidationError, match="not signed in to a server"):
        redownload(path)
    assert path.exists()


def _answer(boxes: dict[str, str], seen: dict[str, str]) -> QTimer:
    """Click the button named in ``boxes`` of each message box (by object name) as it
    appears; its text goes to ``seen``."""

    def look() -> None:
        for widget in QApplication.topLevelWidgets():
            name = widget.objectName()
            if isinstance(widget, QMessageBox) and widget.isVisible() and name in boxes:
                if name in seen:
                    continue
                seen[name] = widget.text()
                next(b for b in widget.buttons() if b.text() == boxes[name]).click()

    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(50)
    return timer


def test_the_app_downloads_a_damaged_store_again(
    qapp: QApplication, server: Server, laptop: Laptop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.shell.recovery import offer_recovery

    actions.correct(laptop.store, assessment_id=1, teacher_id="T001", level=3)
    path, token = _close(laptop)
    _overwrite(path, 0, b"\x00" * 16)
    monkeypatch.setenv("FLOURISH_TOKEN", token)
    with pytest.raises(StoreDamagedError) as caught:
        LocalStore.open(path, create=False)
    seen: dict[str, str] = {}
    timer = _answer(
        {"recoveryBox": "Download again from the server", "downloadOutcome": "OK"}, seen
    )
    folder = offer_recovery(caught.value, path.parent)
    timer.stop()
    assert folder == path.parent
    assert "1 change(s) not sent before were kept and sent." in seen["downloadOutcome"]
    with LocalStore.open(path, create=False) as store, store.read() as conn:
        assert ASSESSMENTS.require(conn, 1).corrected is True
    assert len(list(path.parent.glob("flourish.sqlite3.damaged-*"))) == 1


def test_the_file_menu_asks_first_and_reopens_on_a_fresh_copy(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.core.context import Reopen
    from tests.test_desktop_support import close_window, isolate_settings, open_window

    isolate_settings(monkeypatch, tmp_path)
    w = open_window(qtbot, demo_store, start_sync=False)
    try:
        w.menu_actions["redownload"].trigger()  # the demo has no server
        box = w.dialog
        assert isinstance(box, QMessageBox) and "no server" in box.text()
        box.close()
        w.ctx.profile = replace(w.ctx.profile, profile="teacher", server_url="https://x")
        asked: list[Reopen] = []
        monkeypatch.setattr(w, "reopen", asked.append)
        w.menu_actions["redownload"].trigger()
        box = w.dialog
        assert box.text() == "Replace the data on this laptop by a fresh copy from the server?"
        assert "kept and sent" in box.informativeText()
        next(b for b in box.buttons() if b.text() == "Download").click()
        assert len(asked) == 1 and asked[0].prepare is not None
        assert asked[0].folder == demo_store.path.parent
    finally:
        close_window(w)
