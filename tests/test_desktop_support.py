"""Helpers shared by the desktop tests (no tests here): windows on real stores, waiting for
background work, and reading what reached SQLite and the sync queue.

The desktop tests never mock the database: every window runs on a real SQLite file from
the ``store``/``demo_store`` fixtures, and assertions read that file.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from desktop.core.context import AppContext
from desktop.core.prefs import SETTINGS_ENV, Prefs
from desktop.shell.mainwindow import MainWindow
from sync.store.local import LocalStore

TEACHER = "T001"


def isolate_settings(monkeypatch: Any, tmp_path: Path) -> Path:
    """Point QSettings at a file in ``tmp_path`` (never the user's real settings)."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


def open_window(qtbot: QtBot, store: LocalStore, *, start_sync: bool = True) -> MainWindow:
    ctx = AppContext.create(store)
    window = MainWindow(ctx, prefs=Prefs(), start_sync=start_sync)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window.review.controller.item is not None or not queue_open(window))
    wait_idle(qtbot, window)
    return window


def queue_open(window: MainWindow) -> bool:
    """False once the queue has loaded and turned out empty."""
    return not (window.review.model.complete and window.review.model.rowCount() == 0)


def close_window(window: MainWindow) -> None:
    window.really_close()
    window.shutdown()


def wait_idle(qtbot: QtBot, window: MainWindow, timeout: int = 10_000) -> None:
    """Until every background read, write and job has called back."""
    qtbot.waitUntil(lambda: window.ctx.tasks.idle, timeout=timeout)


def pending_ops(store: LocalStore) -> list[tuple[str, str, str]]:
    with store.read() as conn:
        return [
            (str(t), str(pk), str(op))
            for t, pk, op in conn.exec_driver_sql(
                "SELECT table_name, row_pk, op FROM sync_operations "
                "WHERE status = 'pending' ORDER BY op_id"
            )
        ]


def decisions(store: LocalStore) -> dict[int, tuple[str, str, str | None, str | None]]:
    """assessment id -> (original level, corrected level, notes, corrected_by)."""
    with store.read() as conn:
        return {
            int(a): (str(o), str(c), n, b)
            for a, o, c, n, b in conn.exec_driver_sql(
                "SELECT assessment_id, original_level, corrected_level, teacher_notes, "
                "corrected_by FROM teacher_corrections"
            )
        }


def assert_status_matches_queue(qtbot: QtBot, window: MainWindow) -> None:
    """The status bar's pending count is the queue's length (after things settle)."""
    wait_idle(qtbot, window)
    expected = len(pending_ops(window.ctx.store))
    assert window.sync_status.pending_count == expected
    text = window.sync_status.pending_label.text()
    if expected:
        assert text.startswith(f"{expected} change"), text
    else:
        assert "pending" not in text, text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def point_at_closed_port(store: LocalStore, monkeypatch: Any) -> str:
    """Configure the store for a server that does not answer (nothing listens there)."""
    url = f"https://127.0.0.1:{free_port()}"
    store.set_state({"server_url": url, "login": "teacher1"})
    monkeypatch.setenv("FLOURISH_TOKEN", "not-a-real-token")
    return url


def insert_conflict(store: LocalStore, *, assessment_id: int = 2) -> int:
    """A pulled conflict: my decision on ``assessment_id`` lost to another laptop's."""
    with store.read() as conn:
        level, justification, student = conn.exec_driver_sql(
            "SELECT level, justification, student_id FROM assessments WHERE id = ?",
            (assessment_id,),
        ).one()
    winning = {
        "id": 2_000_000_001,
        "assessment_id": assessment_id,
        "original_level": level,
        "corrected_level": "Advanced" if level != "Advanced" else "Emerging",
        "original_justification": justification,
        "corrected_justification": "Seen leading the group on Tuesday.",
        "teacher_notes": "from the classroom laptop",
        "corrected_by": TEACHER,
        "corrected_at": "2026-10-02 09:00:00.000000",
        "use_as_example": True,
    }
    losing = dict(
        winning,
        id=1_000_000_001,
        corrected_level="Emerging" if level != "Emerging" else "Developing",
        corrected_justification="Struggled when working alone.",
        teacher_notes="from my home laptop",
        corrected_at="2026-10-01 20:00:00.000000",
    )
    with store.apply_remote() as conn:
        conn.exec_driver_sql(
            "INSERT INTO teacher_corrections (id, assessment_id, original_level, corrected_level,"
            " original_justification, corrected_justification, teacher_notes, corrected_by,"
            " corrected_at, use_as_example, sync_hlc, sync_origin, sync_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1000, 2, 10)",
            (
                winning["id"],
                assessment_id,
                winning["original_level"],
                winning["corrected_level"],
                justification,
                winning["corrected_justification"],
                winning["teacher_notes"],
                TEACHER,
                winning["corrected_at"],
            ),
        )
        cursor = conn.exec_driver_sql(
            "INSERT INTO sync_conflicts (id, table_name, row_pk, student_id, teacher_id, kind,"
            " reason, losing_row, losing_hlc, losing_origin, winning_row, winning_hlc,"
            " winning_origin, created_at, sync_hlc, sync_origin, sync_version)"
            " VALUES (?, 'teacher_corrections', ?, ?, ?, 'natural_key', ?, ?, 900, 1, ?, 1000,"
            " 2, '2026-10-02 09:05:00', 1001, 0, 11)",
            (
                5,
                str(losing["id"]),
                student,
                TEACHER,
                "Two teacher decisions on one assessment: the newer one (device 2) was kept.",
                json.dumps(losing),
                json.dumps(winning),
            ),
        )
        assert cursor.rowcount == 1
    return 5
