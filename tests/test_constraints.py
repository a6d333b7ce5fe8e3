"""Every CHECK and uniqueness rule rejects bad rows with a clear error, on both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection

from sync.errors import ConflictError, ValidationError
from sync.model.crud import REPOS
from sync.model.records import (
    Assessment,
    Badge,
    Correction,
    DataEntry,
    Record,
    SkillTarget,
    Student,
    Teacher,
)
from sync.server.central import create_engine_for
from sync.store.local import LocalStore
from tests.support.dataset import load_fixture

NOW = dt.datetime(2026, 11, 1, 12, 0)


def assessment(**kw: Any) -> Assessment:
    base: dict[str, Any] = dict(
        id=100,
        data_entry_id="DE001",
        student_id="S001",
        skill_name="Creativity",
        skill_category="21st_Century",
        level="Developing",
        confidence_score=0.5,
        justification="j",
        source_quote="q",
    )
    return Assessment(**(base | kw))


def target(**kw: Any) -> SkillTarget:
    base: dict[str, Any] = dict(
        id=100,
        student_id="S002",
        skill_name="Creativity",
        starting_level="Emerging",
        target_level="Developing",
        assigned_by="T001",
    )
    return SkillTarget(**(base | kw))


def badge(**kw: Any) -> Badge:
    base: dict[str, Any] = dict(
        id=100,
        student_id="S001",
        skill_name="Creativity",
        skill_category="21st_Century",
        level_achieved="Developing",
        badge_type="bronze",
        granted_by="T001",
        earned_date=dt.date(2026, 11, 1),
    )
    return Badge(**(base | kw))


def correction(**kw: Any) -> Correction:
    base: dict[str, Any] = dict(
        id=100,
        assessment_id=2,
        original_level="Proficient",
        corrected_level="Advanced",
        corrected_by="T001",
    )
    return Correction(**(base | kw))


def entry(**kw: Any) -> DataEntry:
    base: dict[str, Any] = dict(
        id="DE100",
        student_id="S001",
        teacher_id="T001",
        type="parent_note",
        date=dt.date(2026, 11, 1),
        content="ok",
    )
    return DataEntry(**(base | kw))


# (case id, bad record, expected error class, rule the message must name)
CASES: list[tuple[str, Callable[[], Record], type[Exception], str]] = [
    ("wrong level", lambda: assessment(level="Expert"), ValidationError, "chk_level"),
    (
        "wrong category",
        lambda: assessment(skill_category="Math"),
        ValidationError,
        "chk_skill_category",
    ),
    (
        "confidence 1.5",
        lambda: assessment(confidence_score=1.5),
        ValidationError,
        "assessments_confidence_score_check",
    ),
    (
        "confidence negative",
        lambda: assessment(confidence_score=-0.1),
        ValidationError,
        "assessments_confidence_score_check",
    ),
    (
        "data point count 0",
        lambda: assessment(data_point_count=0),
        ValidationError,
        "chk_data_point_count",
    ),
    ("empty content", lambda: entry(content="   "), ValidationError, "chk_content_not_empty"),
    ("unknown entry type", lambda: entry(type="email"), ValidationError, "chk_data_type"),
    ("bad entry id", lambda: entry(id="X-1"), ValidationError, "chk_data_entry_id"),
    ("bad entry id digits", lambda: entry(id="DE12"), ValidationError, "chk_data_entry_id"),
    (
        "bad student id",
        lambda: Student(id="ST1", name="A", grade=7, teacher_id="T001"),
        ValidationError,
        "chk_student_id",
    ),
    (
        "bad student id letters",
        lambda: Student(id="S00X", name="A", grade=7),
        ValidationError,
        "chk_student_id",
    ),
    (
        "grade 9",
        lambda: Student(id="S100", name="A", grade=9, teacher_id="T001"),
        ValidationError,
        "chk_grade_range",
    ),
    ("bad teacher id", lambda: Teacher(id="X001", name="A"), ValidationError, "chk_teacher_id"),
    (
        "bad email",
        lambda: Teacher(id="T100", name="A", email="not-an-email"),
        ValidationError,
        "chk_email_format",
    ),
    (
        "duplicate email",
        lambda: Teacher(id="T100", name="A", email="rodriguez@flourishschools.edu"),
        ConflictError,
        "teachers_email_key",
    ),
    (
        "completed without completed_at",
        lambda: target(completed=True),
        ValidationError,
        "chk_completion_logic",
    ),
    (
        "completed_at without completed",
        lambda: target(completed_at=NOW),
        ValidationError,
        "chk_completion_logic",
    ),
    (
        "target level unknown",
        lambda: target(target_level="Great"),
        ValidationError,
        "chk_target_level",
    ),
    (
        "second active target",
        lambda: target(student_id="S001", skill_name="Collaboration"),
        ConflictError,
        "idx_targets_active",
    ),
    (
        "correction same level and text",
        lambda: correction(
            corrected_level="Proficient", original_justification="x", corrected_justification="x"
        ),
        ValidationError,
        "chk_levels_different",
    ),
    (
        "correction level unknown",
        lambda: correction(corrected_level="Super"),
        ValidationError,
        "chk_corrected_level",
    ),
    (
        "original level unknown",
        lambda: correction(original_level="Meh"),
        ValidationError,
        "chk_original_level",
    ),
    (
        "starting level unknown",
        lambda: target(starting_level="Meh"),
        ValidationError,
        "chk_starting_level",
    ),
    (
        "badge category unknown",
        lambda: badge(skill_category="Art"),
        ValidationError,
        "chk_badge_category",
    ),
    (
        "second correction of one assessment",
        lambda: correction(assessment_id=3),
        ConflictError,
        "teacher_corrections_assessment_id_key",
    ),
    ("badge type unknown", lambda: badge(badge_type="platinum"), ValidationError, "chk_badge_type"),
    ("badge level mismatch", lambda: badge(badge_type="gold"), ValidationError, "chk_badge_level"),
    (
        "duplicate badge",
        lambda: badge(
            student_id="S002",
            skill_name="Collaboration",
            level_achieved="Advanced",
            badge_type="gold",
        ),
        ConflictError,
        "badges_student_id_skill_name_level_achieved_key",
    ),
]


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[Connection]:
    engine = create_engine_for(pg_url)
    with engine.connect() as conn:
        load_fixture(conn)
        yield conn
    engine.dispose()


@pytest.fixture
def local_store(store: LocalStore) -> LocalStore:
    with store.apply_remote() as conn:
        load_fixture(conn)
    return store


@pytest.mark.parametrize(("case", "make", "error", "rule"), CASES, ids=[c[0] for c in CASES])
def test_postgres_rejects(
    pg_conn: Connection, case: str, make: Callable[[], Record], error: type[Exception], rule: str
) -> None:
    record = make()
    with pytest.raises(error) as info:
        with pg_conn.begin_nested():
            REPOS[record.table].insert(pg_conn, record)
    assert rule in str(info.value)
    assert record.table in str(info.value)


@pytest.mark.parametrize(("case", "make", "error", "rule"), CASES, ids=[c[0] for c in CASES])
def test_sqlite_rejects_and_writes_nothing(
    local_store: LocalStore,
    case: str,
    make: Callable[[], Record],
    error: type[Exception],
    rule: str,
) -> None:
    record = make()
    repo = REPOS[record.table]
    with local_store.read() as conn:
        queued_before = conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar()
        rows_before = repo.count(conn)
    with pytest.raises(error) as info, local_store.write() as txn:
        txn.insert(record)
    assert rule in str(info.value)
    with local_store.read() as conn:
        queued_after = conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar()
        rows_after = repo.count(conn)
    assert queued_after == queued_before, "a rejected write left a queue entry behind"
    assert rows_after == rows_before, "a rejected write left a row behind"


def test_every_named_rule_has_a_case() -> None:
    from sync.model.crud import RULES

    covered = {rule for *_, rule in CASES}
    assert set(RULES) - covered == set()
