"""Teacher actions: validated, written with their queue entries, returning what changed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from sync import actions
from sync.errors import ConflictError, NotFoundError, ValidationError
from sync.model.crud import ASSESSMENTS, CORRECTIONS, TARGETS
from sync.store.local import LocalStore
from tests.test_cli import flourish

TEACHER = "T001"


def queued(store: LocalStore) -> list[tuple[str, str, str]]:
    with store.read() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT table_name, row_pk, op FROM sync_operations ORDER BY op_id"
            )
        ]


def test_accept_records_agreement(demo_store: LocalStore) -> None:
    result = actions.accept(demo_store, assessment_id=1, teacher_id=TEACHER)
    c = result.value
    assert c.corrected_level == c.original_level
    assert c.corrected_justification == actions.ACCEPTED_TEXT
    assert c.corrected_by == TEACHER
    assert [(ch.table, ch.op) for ch in result.changes] == [("teacher_corrections", "insert")]
    with demo_store.read() as conn:
        assert ASSESSMENTS.require(conn, 1).corrected is True
    assert queued(demo_store) == [("teacher_corrections", str(c.id), "upsert")]


def test_accept_keeps_a_teacher_justification(demo_store: LocalStore) -> None:
    c = actions.accept(
        demo_store,
        assessment_id=1,
        teacher_id=TEACHER,
        justification="Matches what I saw on Tuesday.",
    ).value
    assert c.corrected_justification == "Matches what I saw on Tuesday."


def test_correct_then_change_mind_updates_the_same_row(demo_store: LocalStore) -> None:
    first = actions.correct(
        demo_store, assessment_id=2, teacher_id=TEACHER, level=4, notes="Led the whole group"
    ).value
    assert first.corrected_level == "Advanced" and first.teacher_notes == "Led the whole group"
    second = actions.correct(
        demo_store, assessment_id=2, teacher_id=TEACHER, level="developing"
    ).value
    assert second.id == first.id and second.corrected_level == "Developing"
    with demo_store.read() as conn:
        assert CORRECTIONS.count(conn, where={"assessment_id": 2}) == 1
    assert len(queued(demo_store)) == 1  # coalesced into one pending change


def test_clear_and_restore_decision(demo_store: LocalStore) -> None:
    previous = actions.correct(demo_store, assessment_id=3, teacher_id=TEACHER, level=1).value
    actions.clear_decision(demo_store, assessment_id=3)
    with demo_store.read() as conn:
        assert ASSESSMENTS.require(conn, 3).corrected is False
    restored = actions.restore_decision(demo_store, assessment_id=3, previous=previous).value
    assert restored is not None and restored.corrected_level == "Emerging"
    with demo_store.read() as conn:
        assert ASSESSMENTS.require(conn, 3).corrected is True


@pytest.mark.parametrize("level", ["Expert", 0, 5, "", "3.5"])
def test_bad_levels_are_rejected(demo_store: LocalStore, level: object) -> None:
    with pytest.raises(ValidationError, match="assessment 1: unknown level|level rank"):
        actions.correct(demo_store, assessment_id=1, teacher_id=TEACHER, level=level)  # type: ignore[arg-type]
    assert queued(demo_store) == []


def test_missing_assessment(demo_store: LocalStore) -> None:
    with pytest.raises(NotFoundError, match="assessment 999999"):
        actions.accept(demo_store, assessment_id=999999, teacher_id=TEACHER)


def test_target_starts_from_the_effective_level(demo_store: LocalStore) -> None:
    with demo_store.read() as conn:
        current = conn.exec_driver_sql(
            "SELECT effective_level FROM effective_levels "
            "WHERE student_id='S002' AND skill_name='Organization'"
        ).scalar()
    assert current == "Developing"
    t = actions.assign_target(
        demo_store,
        student_id="S002",
        skill_name="organization",
        target_level="Proficient",
        teacher_id=TEACHER,
    ).value
    assert (t.skill_name, t.starting_level, t.target_level) == (
        "Organization",
        "Developing",
        "Proficient",
    )
    with pytest.raises(ConflictError, match="already has an active target"):
        actions.assign_target(
            demo_store,
            student_id="S002",
            skill_name="Organization",
            target_level="Advanced",
            teacher_id=TEACHER,
        )
    done = actions.complete_target(demo_store, target_id=t.id).value
    assert done.completed and done.completed_at is not None
    again = actions.assign_target(
        demo_store,
        student_id="S002",
        skill_name="Organization",
        target_level="Advanced",
        teacher_id=TEACHER,
    ).value
    assert again.id != t.id  # a skill can be targeted again once the first is completed


def test_target_must_be_above_the_start(demo_store: LocalStore) -> None:
    with pytest.raises(ValidationError, match="must be above the starting level"):
        actions.assign_target(
            demo_store,
            student_id="S002",
            skill_name="Organization",
            target_level="Emerging",
            teacher_id=TEACHER,
        )


def test_unknown_skill_lists_the_skills(demo_store: LocalStore) -> None:
    with pytest.raises(ValidationError, match="unknown skill 'Juggling'.*Self-Awareness"):
        actions.assign_target(
            demo_store, student_id="S001", skill_name="Juggling", target_level=3, teacher_id=TEACHER
        )


def test_badges_and_suggestions(demo_store: LocalStore) -> None:
    with demo_store.read() as conn:
        assert actions.badge_suggestions(conn, student_id="S004") == []  # nothing confirmed
        ids = [
            int(r[0])
            for r in conn.exec_driver_sql(
                "SELECT id FROM assessments WHERE student_id = 'S004' AND level != 'Emerging'"
            )
        ]
    for aid in ids[:3]:
        actions.accept(demo_store, assessment_id=aid, teacher_id=TEACHER)
    with demo_store.read() as conn:
        before = actions.badge_suggestions(conn, student_id="S004")
    assert before and all(s.student_id == "S004" for s in before)
    first = before[0]
    b = actions.grant_badge(
        demo_store,
        student_id="S004",
        skill_name=first.skill_name,
        badge_type=first.badge_type,
        teacher_id=TEACHER,
    ).value
    assert b.level_achieved == first.level and b.earned_date == dt.date.today()
    with demo_store.read() as conn:
        after = actions.badge_suggestions(conn, student_id="S004")
    assert len(after) == len(before) - 1
    with pytest.raises(ConflictError, match="already has the"):
        actions.grant_badge(
            demo_store,
            student_id="S004",
            skill_name=first.skill_name,
            badge_type=first.badge_type,
            teacher_id=TEACHER,
        )


def test_add_entry_validates(demo_store: LocalStore) -> None:
    with pytest.raises(ValidationError, match="entry type must be one of"):
        actions.add_entry(
            demo_store, student_id="S001", teacher_id=TEACHER, entry_type="email", content="x"
        )
    with pytest.raises(ValidationError, match="the text is empty"):
        actions.add_entry(
            demo_store,
            student_id="S001",
            teacher_id=TEACHER,
            entry_type="parent_note",
            content="  \n ",
        )
    with pytest.raises(NotFoundError, match="no student S999"):
        actions.add_entry(
            demo_store,
            student_id="S999",
            teacher_id=TEACHER,
            entry_type="parent_note",
            content="hello",
        )
    e = actions.add_entry(
        demo_store,
        student_id="S001",
        teacher_id=TEACHER,
        entry_type="teacher_observation_note",
        content=" Eva helped. ",
    ).value
    assert e.content == "Eva helped." and e.id == "DE033"


def test_cli_writes_through_the_same_path(tmp_path: Path) -> None:
    assert flourish("demo", "--no-window", data_dir=tmp_path).returncode == 0
    ok = flourish(
        "correct", "5", "--level", "Advanced", "--notes", "Saw it twice", data_dir=tmp_path
    )
    assert ok.returncode == 0, ok.stderr
    assert "corrected" in ok.stdout
    target = flourish("target", "S003", "Collaboration", "--level", "Advanced", data_dir=tmp_path)
    assert target.returncode == 0, target.stderr
    badge = flourish("badge", "S003", "Organization", "--type", "bronze", data_dir=tmp_path)
    assert badge.returncode == 0, badge.stderr
    status = json.loads(flourish("status", "--json", data_dir=tmp_path).stdout)
    assert status["pending"] == 3
    bad = flourish("correct", "5", "--level", "Great", data_dir=tmp_path)
    assert bad.returncode == 1 and "unknown level 'Great'" in bad.stderr
    with LocalStore.open(tmp_path / "flourish.sqlite3") as store, store.read() as conn:
        assert TARGETS.count(conn) == 1


def test_a_decision_is_one_transaction_that_returns_what_undo_needs(
    demo_store: LocalStore,
) -> None:
    """Deciding reads the proposal and the decision it replaces in its own write: one
    transaction per key press, and ``previous`` is exactly what an undo puts back."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement.strip().split()[0].upper())

    first = actions.decide(demo_store, assessment_id=1, teacher_id=TEACHER)
    assert first.value.previous is None and first.value.accepted
    event.listen(demo_store.engine, "before_cursor_execute", seen)
    try:
        second = actions.decide(demo_store, assessment_id=1, teacher_id=TEACHER, level=1)
    finally:
        event.remove(demo_store.engine, "before_cursor_execute", seen)
    assert statements.count("BEGIN") == 1, statements
    assert second.value.previous == first.value.stored
    assert not second.value.accepted or second.value.stored.original_level == "Emerging"
    undone = actions.restore_decision(demo_store, assessment_id=1, previous=second.value.previous)
    assert undone.value is not None
    assert undone.value.corrected_level == first.value.stored.corrected_level


@pytest.mark.parametrize("chosen", [None, "same"])
def test_the_proposed_level_is_an_acceptance_for_every_caller(
    demo_store: LocalStore, chosen: str | None
) -> None:
    with demo_store.read() as conn:
        proposed = ASSESSMENTS.require(conn, 2).level
    level = proposed if chosen == "same" else None
    result = actions.decide(demo_store, assessment_id=2, teacher_id=TEACHER, level=level)
    assert result.value.accepted
    assert actions.is_acceptance(proposed, level)
    assert result.value.stored.corrected_justification == actions.ACCEPTED_TEXT
    assert not actions.is_acceptance(proposed, "Advanced" if proposed != "Advanced" else "Emerging")
