"""Sync end to end against the real server: login, initial pull, push, trigger round trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sync import actions
from sync.model.crud import ASSESSMENTS, CORRECTIONS, STUDENTS
from sync.server.central import create_engine_for
from tests.support.laptops import Laptop, Server, served


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    """The demo district behind a real service process; laptops sync through it."""
    made = served(pg_url, tmp_path / "service")
    yield made
    made.stop()


@pytest.fixture
def laptops(server: Server, tmp_path: Path) -> Iterator[dict[str, Laptop]]:
    made = {
        "L1": Laptop(server, "T001", tmp_path / "L1"),
        "L2": Laptop(server, "T001", tmp_path / "L2"),
        "L3": Laptop(server, "T002", tmp_path / "L3"),
    }
    yield made
    for laptop in made.values():
        laptop.close()


def server_scalar(server: Server, sql: str) -> object:
    engine = create_engine_for(server.admin_url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return value


def test_login_registers_distinct_devices(server: Server, laptops: dict[str, Laptop]) -> None:
    numbers = {name: lap.device_no for name, lap in laptops.items()}
    assert len(set(numbers.values())) == 3 and min(numbers.values()) >= 1
    assert laptops["L1"].store.state("teacher_id") == "T001"
    assert laptops["L3"].store.state("teacher_id") == "T002"
    stored = laptops["L1"].store.state("server_url") or ""
    assert stored == server.running().url  # the service's address only
    token = laptops["L1"].token
    with laptops["L1"].store.read() as conn:  # the token is not in the store
        state = conn.execute(text("SELECT group_concat(value) FROM sync_state")).scalar()
    assert token not in str(state)
    assert ":" + "teacher-pass" not in stored


def test_initial_pull_brings_exactly_the_teachers_slice(
    server: Server, laptops: dict[str, Laptop]
) -> None:
    report = laptops["L1"].sync()
    assert report.pull.rows > 0
    with laptops["L1"].store.read() as conn:
        assert [s.id for s in STUDENTS.list(conn)] == ["S001", "S002"]
        local = ASSESSMENTS.count(conn)
        teachers = conn.execute(text("SELECT id, email FROM teachers ORDER BY id")).all()
    expected = server_scalar(
        server,
        "SELECT COUNT(*) FROM assessments a JOIN students s ON s.id = a.student_id "
        "WHERE s.teacher_id = 'T001'",
    )
    assert local == expected
    assert [t[0] for t in teachers] == ["T001", "T002"]  # names of all teachers
    assert all(t[1] is None for t in teachers)  # emails are not shared with laptops
    laptops["L3"].sync()
    with laptops["L3"].store.read() as conn:
        assert {s.id for s in STUDENTS.list(conn)} == {"S003", "S004"}


def test_a_correction_travels_and_the_trigger_flag_comes_back(
    server: Server, laptops: dict[str, Laptop]
) -> None:
    l1, l2 = laptops["L1"], laptops["L2"]
    l1.sync()
    l2.sync()
    decision = actions.correct(
        l1.store, assessment_id=1, teacher_id="T001", level=4, notes="Presented to the whole class"
    ).value
    assert decision.id // 1_000_000_000 == l1.device_no  # minted in the laptop's range
    report = l1.sync()
    assert report.pushed == 1 and report.lost == 0
    assert server_scalar(server, "SELECT corrected FROM assessments WHERE id = 1") is True
    assert (
        server_scalar(
            server, f"SELECT corrected_level FROM teacher_corrections WHERE id = {decision.id}"
        )
        == "Advanced"
    )
    l2.sync()
    with l2.store.read() as conn:
        assert ASSESSMENTS.require(conn, 1).corrected is True
        assert (
            CORRECTIONS.require(conn, decision.id).teacher_notes == "Presented to the whole class"
        )
        queued = conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar()
    assert queued == 0  # pulled rows are not queued again
    with l1.store.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar() == 0


def test_second_sync_is_a_no_op(laptops: dict[str, Laptop]) -> None:
    l1 = laptops["L1"]
    l1.sync()
    again = l1.sync()
    assert again.pushed == 0 and again.pull.rows == 0


def test_a_teacher_cannot_push_into_another_teachers_slice(
    server: Server, laptops: dict[str, Laptop]
) -> None:
    l3 = laptops["L3"]
    l3.sync()
    # L3 (T002) forges a correction for T001's assessment 1 straight into its queue.
    with l3.store.write() as txn:
        txn.conn.exec_driver_sql(
            "INSERT INTO sync_operations (table_name, row_pk, op, payload, sync_hlc) VALUES "
            "('teacher_corrections', '77', 'upsert', json_object('id', 77, 'assessment_id', 1, "
            "'original_level', 'Proficient', 'corrected_level', 'Emerging', "
            "'original_justification', NULL, 'corrected_justification', NULL, "
            "'teacher_notes', NULL, 'corrected_by', 'T002', 'corrected_at', NULL, "
            "'use_as_example', 1, 'sync_hlc', 999, 'sync_origin', 0, 'sync_version', 0), 999)"
        )
    report = l3.sync()
    assert report.rejected == 1
    assert server_scalar(server, "SELECT COUNT(*) FROM teacher_corrections") == 0
    with l3.store.read() as conn:
        status, reason = conn.exec_driver_sql(
            "SELECT status, last_error FROM sync_operations"
        ).one()
    assert status == "quarantined" and "not allowed for this teacher" in reason
