"""The sync scenarios of the brief, against the real server, through a fault proxy."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import actions
from sync.errors import TransientError
from sync.model.crud import ASSESSMENTS, CORRECTIONS, STUDENTS
from sync.model.queries import conflict_rows
from sync.model.records import Assessment
from tests.support.compare import differences, local_slice, server_slice
from tests.support.faultproxy import FaultProxy
from tests.support.laptops import Laptop, Server, admin_rows, served
from tests.support.pgcluster import PgCluster


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    """The demo district behind a real service process; laptops sync through it."""
    made = served(pg_url, tmp_path / "service")
    yield made
    made.stop()


@pytest.fixture
def proxy(pg: PgCluster, server: Server) -> Iterator[FaultProxy]:
    """A TCP fault proxy between the laptops and the service."""
    p = FaultProxy(server.running().port)
    yield p
    p.close()


def admin(server: Server, sql: str, **params: object) -> list[tuple[object, ...]]:
    return admin_rows(server.admin_url, sql, **params)


def test_two_laptops_correct_the_same_assessment_offline(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    url = lambda t: proxy.url(server.url_for(t))  # noqa: E731
    l1 = Laptop(server, "T001", tmp_path / "L1", url=url("T001"))
    l2 = Laptop(server, "T001", tmp_path / "L2", url=url("T001"))
    l3 = Laptop(server, "T002", tmp_path / "L3", url=url("T002"))
    try:
        for lap in (l1, l2, l3):
            lap.sync()
        proxy.go_offline()
        # L1, offline: the contested correction, plus evidence written and assessed and
        # corrected offline, and a target.
        mine = actions.correct(
            l1.store, assessment_id=2, teacher_id="T001", level=1, notes="L1 thinks Emerging"
        ).value
        entry = actions.add_entry(
            l1.store,
            student_id="S002",
            teacher_id="T001",
            entry_type="teacher_observation_note",
            content="Lucas planned the whole build on paper first.",
        ).value
        with l1.store.write() as txn:
            offline_assessment = txn.insert(
                Assessment(
                    data_entry_id=entry.id,
                    student_id="S002",
                    skill_name="Planning & Prioritization",
                    skill_category="EF",
                    level="Developing",
                    confidence_score=0.61,
                    justification="Planned before building.",
                    source_quote="planned the whole build",
                )
            )
        actions.correct(l1.store, assessment_id=offline_assessment.id, teacher_id="T001", level=3)
        actions.assign_target(
            l1.store,
            student_id="S001",
            skill_name="Creativity",
            target_level="Advanced",
            teacher_id="T001",
        )
        time.sleep(0.01)
        # L2, offline, later in real time: its own decision on the same assessment, a badge.
        theirs = actions.correct(
            l2.store, assessment_id=2, teacher_id="T001", level=4, notes="L2 saw it at the fair"
        ).value
        actions.grant_badge(
            l2.store,
            student_id="S002",
            skill_name="Creativity",
            badge_type="bronze",
            teacher_id="T001",
        )
        with pytest.raises(TransientError):
            l1.sync()
        assert l1.store.state("last_error")
        proxy.go_online()
        l2.sync()
        report = l1.sync()  # L1 syncs after L2
        assert report.lost == 1 and report.conflicts == 1
        for lap in (l2, l3, l1):
            lap.sync()

        winner = admin(
            server, "SELECT id, corrected_level FROM teacher_corrections WHERE assessment_id = 2"
        )
        assert winner == [(theirs.id, "Advanced")]
        for lap in (l1, l2):
            with lap.store.read() as conn:
                assert ASSESSMENTS.require(conn, 2).corrected is True
                assert CORRECTIONS.list(conn, where={"assessment_id": 2})[0].id == theirs.id
                conflicts = conflict_rows(conn)
            assert len(conflicts) == 1
            lost = conflicts[0]
            assert (lost["kind"], lost["table_name"]) == ("natural_key", "teacher_corrections")
            assert lost["losing_row"]["id"] == mine.id
            assert lost["losing_row"]["teacher_notes"] == "L1 thinks Emerging"
            assert lost["winning_row"]["id"] == theirs.id
            assert lost["losing_origin"] == l1.device_no
        # the row written offline, assessed offline and corrected offline arrived intact
        assert admin(
            server, "SELECT corrected FROM assessments WHERE id = :i", i=offline_assessment.id
        ) == [(True,)]
        # every replica of T001 equals the server; L3 holds nothing of T001's
        expected = server_slice(server.running().db_url, "T001")
        for lap in (l1, l2):
            diff = differences(local_slice(lap.store), expected)
            assert diff == {}, repr(diff)
        with l3.store.read() as conn:
            assert {s.id for s in STUDENTS.list(conn)} == {"S003", "S004"}
            assert (
                conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM assessments WHERE student_id IN ('S001', 'S002')"
                ).scalar()
                == 0
            )
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_conflicts").scalar() == 0
        assert (
            differences(local_slice(l3.store), server_slice(server.running().db_url, "T002")) == {}
        )
    finally:
        for lap in (l1, l2, l3):
            lap.close()


def test_a_losing_correction_can_be_reapplied(server: Server, tmp_path: Path) -> None:
    from sync.actions.conflicts import reapply

    l1 = Laptop(server, "T001", tmp_path / "L1")
    l2 = Laptop(server, "T001", tmp_path / "L2")
    try:
        l1.sync()
        l2.sync()
        actions.correct(l1.store, assessment_id=3, teacher_id="T001", level=1)
        time.sleep(0.005)
        actions.correct(l2.store, assessment_id=3, teacher_id="T001", level=2)
        l2.sync()
        l1.sync()
        with l1.store.read() as conn:
            conflict = conflict_rows(conn)[0]
        reapply(l1.store, conflict_id=conflict["id"], teacher_id="T001")
        l1.sync()
        l2.sync()
        assert admin(
            server, "SELECT corrected_level FROM teacher_corrections WHERE assessment_id = 3"
        ) == [("Emerging",)]
        with l2.store.read() as conn:
            assert CORRECTIONS.list(conn, where={"assessment_id": 3})[0].corrected_level == (
                "Emerging"
            )
            assert conflict_rows(conn)[0]["resolution"] == "reapplied"
    finally:
        l1.close()
        l2.close()


def test_deletions_propagate_and_never_resurrect(server: Server, tmp_path: Path) -> None:
    l1 = Laptop(server, "T001", tmp_path / "L1")
    l2 = Laptop(server, "T001", tmp_path / "L2")
    try:
        l1.sync()
        target = actions.assign_target(
            l1.store,
            student_id="S001",
            skill_name="Time Management",
            target_level="Proficient",
            teacher_id="T001",
        ).value
        l1.sync()
        l2.sync()
        # L2 edits the target offline (older), L1 deletes it (newer) and syncs first.
        with l2.store.write() as txn:
            from sync.model.records import SkillTarget

            txn.update(SkillTarget, target.id, target_level="Advanced")
        time.sleep(0.005)
        actions.delete_target(l1.store, target_id=target.id)
        l1.sync()
        report = l2.sync()
        assert report.lost == 1
        assert admin(server, "SELECT COUNT(*) FROM skill_targets WHERE id = :i", i=target.id) == [
            (0,)
        ]
        for lap in (l1, l2):
            with lap.store.read() as conn:
                assert (
                    conn.exec_driver_sql(
                        "SELECT COUNT(*) FROM skill_targets WHERE id = ?", (target.id,)
                    ).scalar()
                    == 0
                )
        kinds = admin(server, "SELECT kind FROM sync_conflicts")
        assert kinds == [("deleted_row",)]
    finally:
        l1.close()
        l2.close()


def test_reassigned_student_leaves_the_old_teachers_laptops(server: Server, tmp_path: Path) -> None:
    old = Laptop(server, "T001", tmp_path / "old")
    new = Laptop(server, "T002", tmp_path / "new")
    try:
        old.sync()
        new.sync()
        # an edit for S002 made on the old teacher's laptop, not yet sent
        actions.add_entry(
            old.store,
            student_id="S002",
            teacher_id="T001",
            entry_type="parent_note",
            content="Sent before the move? No.",
        )
        admin(server, "UPDATE students SET teacher_id = 'T002' WHERE id = 'S002'")
        old.sync()
        with old.store.read() as conn:
            held = conn.exec_driver_sql("SELECT status, last_error FROM sync_operations").all()
        assert len(held) == 1 and held[0][0] == "quarantined"
        assert "not allowed for this teacher" in held[0][1]
        old.sync()  # the quarantined change never blocks later syncs
        new.sync()
        with old.store.read() as conn:
            assert (
                conn.exec_driver_sql("SELECT COUNT(*) FROM students WHERE id = 'S002'").scalar()
                == 0
            )
            for table in ("data_entries", "assessments"):
                assert (
                    conn.exec_driver_sql(
                        f"SELECT COUNT(*) FROM {table} WHERE student_id = 'S002'"
                    ).scalar()
                    == 0
                )
        expected = admin(server, "SELECT COUNT(*) FROM assessments WHERE student_id = 'S002'")
        with new.store.read() as conn:
            assert (
                conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM assessments WHERE student_id = 'S002'"
                ).scalar()
                == expected[0][0]
            )
        assert (
            differences(local_slice(new.store), server_slice(server.running().db_url, "T002")) == {}
        )
        assert (
            differences(local_slice(old.store), server_slice(server.running().db_url, "T001")) == {}
        )
    finally:
        old.close()
        new.close()


def test_entry_values_arrive_with_their_types(server: Server, tmp_path: Path) -> None:
    lap = Laptop(server, "T001", tmp_path / "L")
    try:
        lap.sync()
        entry = actions.add_entry(
            lap.store,
            student_id="S001",
            teacher_id="T001",
            entry_type="reflection_journal",
            content="Today I tried.",
            date=dt.date(2026, 10, 12),
            metadata={"k": [1, 2]},
        ).value
        lap.sync()
        row = admin(server, "SELECT date, metadata FROM data_entries WHERE id = :i", i=entry.id)
        assert row == [(dt.date(2026, 10, 12), {"k": [1, 2]})]
    finally:
        lap.close()
