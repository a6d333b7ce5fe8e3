"""The AI pipeline end to end: real openai client, real HTTP fake, real SQLite store.

Shared helpers for the other ``test_assess_*`` files live here too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from desktop.assess import (
    AssessmentBusyError,
    AssessmentConfigError,
    AssessmentSettings,
    awaiting_entries,
    run_assessment,
)
from desktop.assess._jobs import due_entries, utcnow
from desktop.assess._pipeline import _run_lock
from sync import actions
from sync.model.crud import ASSESSMENTS, CORRECTIONS
from sync.model.curriculum import load_curriculum
from sync.store.local import LocalStore
from tests.support.fake_openai import FakeOpenAI, proposals

DEMO_AWAITING = ["DE008", "DE016", "DE024", "DE032"]


@pytest.fixture(name="fake")
def fake_server() -> Iterator[FakeOpenAI]:
    """A fresh fake endpoint per test (import ``fake_server`` to use it in another file)."""
    with FakeOpenAI() as server:
        yield server


def settings_for(fake: FakeOpenAI | str, **changes: Any) -> AssessmentSettings:
    base = fake if isinstance(fake, str) else fake.base_url
    values: dict[str, Any] = {
        "base_url": base,
        "model": "fake-model",
        "api_key": "test-key",
        "use_llm_confidence": False,
        "concurrency": 4,
        "timeout_s": 5.0,
    }
    values.update(changes)
    return AssessmentSettings(**values)


def job(store: LocalStore, entry_id: str) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT status, reason, attempts, next_attempt_at FROM assessment_jobs "
            "WHERE data_entry_id = ?",
            (entry_id,),
        ).first()
    assert row is not None, f"no job row for {entry_id}"
    return dict(zip(("status", "reason", "attempts", "next_attempt_at"), row, strict=True))


def calls(store: LocalStore, entry_id: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM llm_calls" + (" WHERE data_entry_id = ?" if entry_id else "")
    with store.read() as conn:
        result = conn.exec_driver_sql(sql + " ORDER BY id", (entry_id,) if entry_id else ())
        return [dict(r._mapping) for r in result]


def new_assessments(store: LocalStore, entry_id: str) -> list[Any]:
    with store.read() as conn:
        return ASSESSMENTS.list(conn, where={"data_entry_id": entry_id})


def item(student: str, skill: str, quote: str, **kw: Any) -> dict[str, Any]:
    return {
        "student": student,
        "skill_name": skill,
        "level": kw.get("level", "Proficient"),
        "confidence": kw.get("confidence", 0.8),
        "justification": kw.get("justification", f"{student} shows {skill} in the quote."),
        "source_quote": quote,
    }


# DE008 is Eva's (S001 = [STUDENT_1]) reflection journal, awaiting assessment in the demo.
DE008_QUOTE = "I was so nervous that morning that I couldn't eat breakfast."
DE008_QUOTE_2 = (
    "I started my board two weeks early this time instead of waiting for the perfect layout"
)


# -- the happy path ------------------------------------------------------------------------


def test_demo_awaiting_entries_are_assessed_and_captured(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    with demo_store.read() as conn:
        waiting = awaiting_entries(conn)
        assert sorted(a.data_entry_id for a in waiting) == DEMO_AWAITING
        assert {(a.status, a.reason) for a in waiting} == {("waiting", "not assessed yet")}
        before = ASSESSMENTS.count(conn)
    seen: list[tuple[int, int]] = []
    report = run_assessment(
        demo_store, settings_for(fake), progress=lambda d, t: seen.append((d, t))
    )
    assert report.entries_done == 4 and report.failed == report.waiting == 0
    assert report.proposals_stored > 0 and not report.cancelled
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert report.tokens_in > 0 and report.tokens_out > 0
    with demo_store.read() as conn:
        assert awaiting_entries(conn) == []
        added = ASSESSMENTS.list(conn, where={"corrected": False})[-report.proposals_stored :]
        assert ASSESSMENTS.count(conn) == before + report.proposals_stored
        queued = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM sync_operations WHERE table_name = 'assessments'"
        ).scalar()
    assert queued == report.proposals_stored  # written through the sync capture path
    curriculum = load_curriculum()
    for a in added:
        assert a.rubric_version == curriculum.rubric_version
        p = a.provenance or {}
        assert p["model"] == "fake-model" and p["prompt_version"] == "assess-1.3"
        assert p["rubric_version"] == curriculum.rubric_version
        assert isinstance(p["call_id"], int) and p["tokens_in"] > 0 and p["tokens_out"] > 0
        assert p["examples"] == []
        assert a.confidence_score is not None and 0 <= a.confidence_score <= 1
        assert round(a.confidence_score, 2) == a.confidence_score
        assert "[STUDENT_" not in a.justification and "[TEACHER_" not in a.justification
    for entry in DEMO_AWAITING:
        assert job(demo_store, entry)["status"] == "done"
        [call] = calls(demo_store, entry)
        assert call["outcome"] == "ok" and call["tokens_in"] > 0
        assert call["model"] == "fake-model" and call["prompt_version"] == "assess-1.3"


def test_one_request_per_entry_covers_the_types_skills_and_all_students(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    # DE024 is a group discussion of Pat (S003, the owner) and Mia (S004).
    report = run_assessment(demo_store, settings_for(fake), entry_ids=["DE024"])
    assert report.entries_done == 1
    [request] = fake.requests
    schema = request.json["response_format"]["json_schema"]
    assert request.json["response_format"]["type"] == "json_schema" and schema["strict"] is True
    props = schema["schema"]["properties"]["proposals"]["items"]["properties"]
    assert props["student"]["enum"] == ["[STUDENT_3]", "[STUDENT_4]"]
    likely = [
        "Social Awareness",
        "Relationship Skills",
        "Responsible Decision-Making",
        "Cognitive Flexibility",
        "Planning & Prioritization",
        "Critical Thinking",
        "Collaboration",
        "Communication",
    ]  # resources/curriculum/entry_skills.json, group_discussion_transcript
    assert props["skill_name"]["enum"] == likely
    # the prompt carries the rubric of exactly those skills
    system = request.json["messages"][0]["content"]
    assert [line.split(" (")[0] for line in system.split("\n## ")[1:]] == likely
    students = {a.student_id for a in new_assessments(demo_store, "DE024")}
    assert students == {"S003", "S004"}  # one transcript, proposals for two students
    assert (
        "the 8 skills likely in a group discussion transcript" in job(demo_store, "DE024")["reason"]
    )


def test_the_teachers_choice_of_skills_replaces_the_types(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE024"], skills=["EF", "Creativity"])
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE016"], skills=["all"])
    ef_and_creativity, everything = (
        r.json["response_format"]["json_schema"]["schema"]["properties"]["proposals"]["items"][
            "properties"
        ]["skill_name"]["enum"]
        for r in fake.requests
    )
    curriculum = load_curriculum()
    assert ef_and_creativity == [
        k.name for k in curriculum.skills if k.category == "EF" or k.name == "Creativity"
    ]
    assert everything == list(curriculum.skill_names)
    assert "the teacher's choice of 9 skill(s)" in job(demo_store, "DE024")["reason"]
    with pytest.raises(AssessmentConfigError, match="'Kindness' is not a skill or category"):
        run_assessment(demo_store, settings_for(fake), skills=["SEL", "Kindness"])


def test_a_schools_skill_map_overrides_the_shipped_one(
    demo_store: LocalStore,
    fake: FakeOpenAI,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "map.json"
    path.write_text('{"entry_types": {"group_discussion_transcript": ["Metacognition", "SEL"]}}')
    monkeypatch.setenv("FLOURISH_AI_SKILL_MAP", str(path))
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE024"])
    props = fake.requests[0].json["response_format"]["json_schema"]["schema"]["properties"]
    enum = props["proposals"]["items"]["properties"]["skill_name"]["enum"]
    sel = [k.name for k in load_curriculum().skills if k.category == "SEL"]
    assert enum == [*sel, "Metacognition"]  # curriculum order
    path.write_text('{"entry_types": {"lab_report": ["Metacognition"]}}')
    with pytest.raises(AssessmentConfigError, match=r"entry_types\.lab_report: not an evidence"):
        run_assessment(demo_store, settings_for(fake), entry_ids=["DE016"])


def test_reassessment_only_adds_missing_pairs_and_never_touches_decisions(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    # DE001 already has 4 proposals for Eva; the teacher decided one of them.
    actions.correct(demo_store, assessment_id=1, teacher_id="T001", level="Advanced", notes="x")
    with demo_store.read() as conn:
        old = {a.id: a for a in ASSESSMENTS.list(conn, where={"data_entry_id": "DE001"})}
        decision = CORRECTIONS.list(conn, where={"assessment_id": 1})[0]
    taken = {(o.student_id, o.skill_name) for o in old.values()}
    quote = "My strength is that I notice things."
    fake.script(
        proposals(
            [
                item("[STUDENT_1]", "Self-Awareness", quote, level="Emerging"),  # exists
                item("[STUDENT_1]", "Planning & Prioritization", "I also like to plan my work"),
            ]
        )
    )
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE001"], skills=["all"])
    enum = fake.requests[0].json["response_format"]["json_schema"]["schema"]
    skills = enum["properties"]["proposals"]["items"]["properties"]["skill_name"]["enum"]
    assert len(skills) == 17 - len(taken)  # only skills Eva lacks from this entry
    with demo_store.read() as conn:
        now = {a.id: a for a in ASSESSMENTS.list(conn, where={"data_entry_id": "DE001"})}
        assert CORRECTIONS.list(conn, where={"assessment_id": 1})[0] == decision
    for pk, row in old.items():
        assert now[pk] == row  # byte-for-byte the same rows, decision included
    added = [a for pk, a in now.items() if pk not in old]
    assert [(a.skill_name, a.source_quote) for a in added] == [
        ("Planning & Prioritization", "I also like to plan my work")
    ]
    assert "1 already had a proposal" in job(demo_store, "DE001")["reason"]


def test_nothing_due_is_a_quiet_no_op(store: LocalStore, fake: FakeOpenAI) -> None:
    report = run_assessment(store, settings_for(fake))
    assert report.entries_done == 0 and report.proposals_stored == 0
    assert fake.requests == []


def test_too_long_entries_are_skipped_not_sent(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    entry = actions.add_entry(
        demo_store,
        student_id="S001",
        teacher_id="T001",
        entry_type="reflection_journal",
        content="I kept writing. " * 3000,
    ).value
    report = run_assessment(demo_store, settings_for(fake), entry_ids=[str(entry.id)])
    assert report.skipped == 1 and fake.requests == []
    state = job(demo_store, str(entry.id))
    assert state["status"] == "skipped" and "too long for one request" in state["reason"]
    with demo_store.read() as conn:
        assert str(entry.id) not in {a.data_entry_id for a in awaiting_entries(conn)}


def test_a_run_that_died_is_taken_over_after_a_while(demo_store: LocalStore) -> None:
    with demo_store.write() as txn:  # assessment_jobs is local-only: plain SQL is the way
        txn.conn.exec_driver_sql(
            "INSERT INTO assessment_jobs (data_entry_id, status, reason, updated_at) VALUES "
            "('DE008', 'running', 'being assessed', datetime('now', '-1 hour')), "
            "('DE016', 'running', 'being assessed', datetime('now'))"
        )
    with demo_store.read() as conn:
        due = due_entries(conn, now=utcnow(), limit=None, entry_ids=None)
        shown = {a.data_entry_id: a.status for a in awaiting_entries(conn)}
    assert "DE008" in due and "DE016" not in due  # another process may still be on DE016
    assert shown["DE016"] == "running"


# -- settings, busy ------------------------------------------------------------------------


def test_default_endpoint_without_a_key_is_a_clear_error(demo_store: LocalStore) -> None:
    settings = AssessmentSettings(
        base_url=None, model="gpt-4o", api_key=None, use_llm_confidence=False
    )
    with pytest.raises(AssessmentConfigError, match="no API key"):
        run_assessment(demo_store, settings)
    assert "api_key=missing" in repr(settings)


def test_a_second_concurrent_run_is_refused(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    lock = _run_lock(demo_store.path)
    lock.acquire()
    try:
        with pytest.raises(AssessmentBusyError):
            run_assessment(demo_store, settings_for(fake))
    finally:
        lock.release()


# -- concurrency and cancellation ------------------------------------------------------------


def _add_entries(store: LocalStore, n: int) -> list[str]:
    ids = []
    for k in range(n):
        entry = actions.add_entry(
            store,
            student_id="S001" if k % 2 else "S002",
            teacher_id="T001",
            entry_type="teacher_observation_note",
            content=f"Observation {k}. The student planned the lab steps before starting "
            f"and checked each one off the list without being asked, number {k}.",
        ).value
        ids.append(str(entry.id))
    return ids


def test_forty_entries_with_200ms_latency_run_four_at_a_time(demo_store: LocalStore) -> None:
    ids = _add_entries(demo_store, 40)
    with FakeOpenAI(latency=0.2) as fake:
        started = time.monotonic()
        report = run_assessment(demo_store, settings_for(fake), entry_ids=ids)
        elapsed = time.monotonic() - started
        assert fake.max_in_flight == 4
    assert report.entries_done == 40 and report.failed == report.waiting == 0
    # Four calls in flight at once is the proof; the time is reported, not asserted (a
    # loaded machine stretches it): ideal 40 / 4 * 0.2 = 2.0 s, serial 8.0 s.
    print(f"40 entries, 200 ms latency, concurrency 4: {elapsed:.2f} s (serial: 8.0 s)")


def test_cancel_stops_the_run_and_leaves_entries_waiting(demo_store: LocalStore) -> None:
    ids = _add_entries(demo_store, 6)
    cancel = threading.Event()
    with FakeOpenAI(latency=10) as fake:
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        report = run_assessment(
            demo_store, settings_for(fake, concurrency=2), entry_ids=ids, cancel=cancel
        )
        elapsed = time.monotonic() - started
    assert elapsed < 8.0 and report.cancelled  # each call would take 10 s
    assert report.waiting == 6 and report.proposals_stored == 0
    with demo_store.read() as conn:
        waiting = {a.data_entry_id: a for a in awaiting_entries(conn)}
    for entry_id in ids:
        assert waiting[entry_id].status == "waiting"
        assert "cancelled" in waiting[entry_id].reason
        assert new_assessments(demo_store, entry_id) == []
