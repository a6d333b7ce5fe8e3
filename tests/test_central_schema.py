"""Seed 000's acceptance checklist and seed 001's rules against a real PostgreSQL 15."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from sync.errors import ValidationError
from sync.model.crud import ASSESSMENTS, CORRECTIONS, DATA_ENTRIES, STUDENTS, TEACHERS
from sync.model.records import Correction
from sync.server.central import create_engine_for
from tests.support.dataset import load_fixture

SEED_TABLES = {
    "teachers",
    "students",
    "data_entries",
    "assessments",
    "teacher_corrections",
    "skill_targets",
    "badges",
}

# Every index both seeds name (seed 000 and seed 001).
SEED_INDEXES = {
    "idx_data_entries_student_date",
    "idx_data_entries_type",
    "idx_data_entries_date",
    "idx_data_entries_teacher",
    "idx_data_entries_metadata",
    "idx_assessments_student_skill",
    "idx_assessments_level",
    "idx_assessments_data_entry",
    "idx_assessments_pending",
    "idx_assessments_confidence",
    "idx_assessments_created",
    "idx_corrections_corrected_by",
    "idx_corrections_assessment",
    "idx_corrections_date",
    "idx_corrections_teacher",
    "idx_corrections_created",
    "idx_targets_student",
    "idx_targets_active",
    "idx_targets_student_active",
    "idx_badges_student",
    "idx_badges_earned_date",
}


@pytest.fixture
def conn(pg_url: str) -> Iterator[Connection]:
    engine = create_engine_for(pg_url)
    with engine.connect() as c:
        yield c
    engine.dispose()


def test_all_seven_tables_exist(conn: Connection) -> None:
    names = set(
        conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
        ).scalars()
    )
    assert SEED_TABLES <= names


def test_every_seed_index_exists_by_name(conn: Connection) -> None:
    names = set(
        conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname='public'")).scalars()
    )
    assert SEED_INDEXES - names == set()


def test_partial_and_gin_indexes_have_their_shape(conn: Connection) -> None:
    defs = dict(
        conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname='public'")
        ).all()
    )
    assert "USING gin (metadata)" in defs["idx_data_entries_metadata"]
    assert "WHERE (corrected = false)" in defs["idx_assessments_pending"]
    assert "WHERE (confidence_score < 0.8)" in defs["idx_assessments_confidence"]
    assert "(confidence_score, created_at DESC)" in defs["idx_assessments_confidence"]
    assert defs["idx_targets_active"].startswith("CREATE UNIQUE INDEX")
    assert "WHERE (completed = false)" in defs["idx_targets_active"]


def test_seed_data_two_teachers_four_students(conn: Connection) -> None:
    assert conn.execute(text("SELECT COUNT(*) FROM teachers")).scalar() == 2
    assert conn.execute(text("SELECT COUNT(*) FROM students")).scalar() == 4
    eva = STUDENTS.require(conn, "S001")
    assert (eva.name, eva.grade, eva.teacher_id) == ("Eva", 7, "T001")
    assert TEACHERS.require(conn, "T002").email == "thompson@flourishschools.edu"


def test_latest_assessments_view(conn: Connection) -> None:
    load_fixture(conn)
    rows = conn.execute(
        text(
            "SELECT student_id, skill_name, id, level FROM latest_assessments "
            "ORDER BY student_id, skill_name"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("S001", "Collaboration", 3, "Emerging"),
        ("S001", "Self-Awareness", 2, "Proficient"),
        ("S001", "Self-Management", 6, "Proficient"),
        ("S002", "Collaboration", 4, "Advanced"),
        ("S003", "Time Management", 5, "Developing"),
    ]


def test_student_progress_summary_view(conn: Connection) -> None:
    load_fixture(conn)
    rows = conn.execute(
        text("SELECT * FROM student_progress_summary ORDER BY student_id")
    ).mappings()
    got = {r["student_id"]: dict(r) for r in rows}
    assert got["S001"] == {
        "student_id": "S001",
        "student_name": "Eva",
        "skills_assessed": 3,
        "total_assessments": 4,
        "advanced_count": 0,
        "proficient_count": 2,
        "developing_count": 1,
        "emerging_count": 1,
    }
    assert got["S004"]["total_assessments"] == 0
    assert got["S004"]["skills_assessed"] == 0


def test_effective_levels_view_prefers_the_teacher(conn: Connection) -> None:
    load_fixture(conn)
    rows = conn.execute(
        text(
            "SELECT student_id, skill_name, ai_level, effective_level, reviewed "
            "FROM effective_levels WHERE student_id = 'S001' ORDER BY skill_name"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("S001", "Collaboration", "Emerging", "Developing", True),
        ("S001", "Self-Awareness", "Proficient", "Proficient", False),
        ("S001", "Self-Management", "Proficient", "Proficient", False),
    ]


def test_correction_flips_corrected_through_the_trigger(conn: Connection) -> None:
    load_fixture(conn)
    before = ASSESSMENTS.require(conn, 2)
    assert before.corrected is False
    CORRECTIONS.insert(
        conn,
        Correction(
            assessment_id=2,
            original_level="Proficient",
            corrected_level="Advanced",
            corrected_by="T001",
        ),
    )
    after = ASSESSMENTS.require(conn, 2)
    assert after.corrected is True
    assert after.sync_version > before.sync_version  # the flip is a change the pull sees


def test_removing_the_correction_makes_the_assessment_pending_again(conn: Connection) -> None:
    load_fixture(conn)
    assert ASSESSMENTS.require(conn, 3).corrected is True
    CORRECTIONS.delete(conn, 1)
    assert ASSESSMENTS.require(conn, 3).corrected is False


def test_deleting_a_student_cascades(conn: Connection) -> None:
    load_fixture(conn)
    STUDENTS.delete(conn, "S001")
    for table in ("data_entries", "skill_targets"):
        left = conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE student_id='S001'"))
        assert left.scalar() == 0
    # assessments of S001 went with the student; so did their corrections
    assert (
        conn.execute(text("SELECT COUNT(*) FROM assessments WHERE student_id='S001'")).scalar() == 0
    )
    assert conn.execute(text("SELECT COUNT(*) FROM teacher_corrections")).scalar() == 0
    # S002's assessment on DE002 was cascaded via the data entry (entry owned by S001)
    assert ASSESSMENTS.get(conn, 4) is None
    # tombstones were left for the laptops
    kinds = conn.execute(
        text("SELECT table_name, COUNT(*) FROM sync_tombstones GROUP BY table_name")
    ).all()
    assert dict(kinds)["students"] == 1


def test_a_teacher_with_students_cannot_be_deleted(conn: Connection) -> None:
    with pytest.raises(ValidationError, match="refers to a row|foreign key|still referenced"):
        TEACHERS.delete(conn, "T001")


def test_deleting_an_author_keeps_their_entries(conn: Connection) -> None:
    load_fixture(conn)
    conn.execute(text("UPDATE students SET teacher_id = 'T001' WHERE teacher_id = 'T002'"))
    conn.execute(text("DELETE FROM skill_targets WHERE assigned_by = 'T002'"))
    TEACHERS.delete(conn, "T002")
    assert DATA_ENTRIES.require(conn, "DE003").teacher_id is None


def test_deleting_an_entry_cascades_to_its_assessments(conn: Connection) -> None:
    load_fixture(conn)
    DATA_ENTRIES.delete(conn, "DE002")
    remaining = conn.execute(text("SELECT id FROM assessments ORDER BY id")).scalars().all()
    assert remaining == [1, 5, 6]
    assert [c.id for c in CORRECTIONS.list(conn)] == [2]


def test_server_side_writes_are_stamped(conn: Connection) -> None:
    conn.execute(text("UPDATE students SET name = 'Eva R.' WHERE id = 'S001'"))
    row = conn.execute(
        text(
            "SELECT sync_hlc, sync_origin, sync_version, sync_txid::text FROM students "
            "WHERE id = 'S001'"
        )
    ).one()
    assert row.sync_hlc > 0 and row.sync_origin == 0 and row.sync_version > 0
    current = conn.execute(text("SELECT pg_current_xact_id()::text")).scalar()
    assert row.sync_txid == current


def test_primary_keys_of_synced_rows_never_change(conn: Connection) -> None:
    with pytest.raises(ValidationError, match="cannot change"):
        STUDENTS.update(conn, "S004", {"id": "S005"})
    with pytest.raises(Exception, match="cannot change"):
        conn.execute(text("UPDATE students SET id = 'S009' WHERE id = 'S004'"))


def test_reassigning_a_student_records_revoke_and_grant(conn: Connection) -> None:
    conn.execute(text("UPDATE students SET teacher_id = 'T002' WHERE id = 'S001'"))
    rows = conn.execute(
        text("SELECT teacher_id, student_id, kind FROM sync_visibility ORDER BY id")
    ).all()
    assert [tuple(r) for r in rows] == [("T001", "S001", "revoke"), ("T002", "S001", "grant")]
