"""Working without a server first, signing in later: nothing made offline is lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sync import actions
from sync.errors import ValidationError
from sync.model.records import Assessment, Student
from sync.replication.engine import SyncEngine
from sync.replication.login import login
from sync.store.local import LocalStore
from sync.store.profiles import LOCAL_TEACHER_ID, create_local_profile
from tests.support.laptops import PASSWORD, admin_rows, make_server


def test_a_local_profile_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="your name"):
        create_local_profile(tmp_path / "flourish.sqlite3", teacher_name="  ")


def test_local_work_reaches_the_server_after_sign_in(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = create_local_profile(tmp_path / "flourish.sqlite3", teacher_name="Mr. Thompson")
    with LocalStore.open(path) as store:
        assert store.state("teacher_id") == LOCAL_TEACHER_ID
        with store.write() as txn:
            txn.insert(Student(id="S050", name="Noor", grade=8, teacher_id=LOCAL_TEACHER_ID))
        entry = actions.add_entry(
            store,
            student_id="S050",
            teacher_id=LOCAL_TEACHER_ID,
            entry_type="teacher_observation_note",
            content="Noor planned the group's week.",
            date=dt.date(2026, 11, 2),
        ).value
        with store.write() as txn:
            proposal = txn.insert(
                Assessment(
                    data_entry_id=entry.id,
                    student_id="S050",
                    skill_name="Planning & Prioritization",
                    skill_category="EF",
                    level="Proficient",
                    confidence_score=0.7,
                    justification="Planned the week.",
                    source_quote="planned the group's week",
                )
            )
        actions.correct(store, assessment_id=proposal.id, teacher_id=LOCAL_TEACHER_ID, level=4)
        assert entry.id == "DE001" and proposal.id == 1  # local numbering before sign-in

    # on the server this teacher is T002; the laptop signs in through the service
    server = make_server(pg_url, teachers=("T002",), database_logins=False)
    service = server.serve(tmp_path / "service").running()
    request.addfinalizer(server.stop)
    with LocalStore.open(path) as store:
        result = login(
            store,
            server_url=service.url,
            user=server.logins["T002"],
            password=PASSWORD,
            remember=False,
            ca_file=str(service.tls.ca),
        )
        assert result.teacher_id == "T002" and result.renumbered == 3
        with SyncEngine.from_store(store, token=result.token) as engine:
            report = engine.sync_once()
        assert report.rejected == 0, report
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM sync_operations").scalar() == 0
            ids = (
                conn.exec_driver_sql("SELECT id FROM data_entries WHERE student_id = 'S050'")
                .scalars()
                .all()
            )
    new_entry = f"DE{result.device_no * 10**9 + 1}"
    assert ids == [new_entry]
    assert admin_rows(server.admin_url, "SELECT teacher_id FROM students WHERE id = 'S050'") == [
        ("T002",)
    ]
    assert admin_rows(
        server.admin_url, "SELECT corrected_level, corrected_by FROM teacher_corrections"
    ) == [("Advanced", "T002")]
    assert admin_rows(
        server.admin_url, "SELECT corrected FROM assessments WHERE data_entry_id = :e", e=new_entry
    ) == [(True,)]
