"""Learning from teachers: few-shot examples, calibration, confidence."""

from __future__ import annotations

import pytest

from desktop.assess import calibration, examples_used, run_assessment
from desktop.assess._calibration import band_counts, band_of
from desktop.assess._confidence import Signals, calibrate, measure, round_confidence
from desktop.assess._fewshot import MAX_EXAMPLES, TOKEN_BUDGET
from desktop.assess._ground import ground
from desktop.assess._redact import Redactor
from desktop.assess._validate import Candidate
from sync import actions
from sync.errors import NotFoundError
from sync.model.curriculum import load_curriculum
from sync.store.local import LocalStore
from tests.support.fake_openai import FakeOpenAI, proposals
from tests.test_assess_pipeline import (
    DE008_QUOTE,
    fake_server,  # noqa: F401  (the `fake` fixture)
    item,
    new_assessments,
    settings_for,
)

T = "T001"
# demo assessment ids by skill (see resources/demo/dataset.json)
SELF_AWARENESS = [1, 43, 72, 86, 94]
TIME_MANAGEMENT = [23, 40, 46, 58]


# -- few-shot ---------------------------------------------------------------------------------


def test_few_shot_prefers_the_entrys_skills_skips_retired_and_is_recorded(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    # Older corrections of Self-Awareness (DE008 says "nervous", one of its rubric keywords),
    # newer ones of Time Management (no keyword in DE008); one Self-Awareness correction
    # retired; one without notes (seed query 4 takes only corrections with notes).
    sa = [
        actions.correct(
            demo_store, assessment_id=i, teacher_id=T, level="Developing", notes=f"sa note {i}"
        ).value
        for i in SELF_AWARENESS[:3]
    ]
    actions.set_example_use(demo_store, correction_id=int(sa[0].id or 0), use=False)
    actions.correct(demo_store, assessment_id=SELF_AWARENESS[3], teacher_id=T, level=1)
    later = [
        actions.correct(
            demo_store, assessment_id=i, teacher_id=T, level="Advanced", notes=f"tm note {i}"
        ).value
        for i in TIME_MANAGEMENT[:3]
    ]
    fake.script(proposals([item("[STUDENT_1]", "Self-Awareness", DE008_QUOTE)]))
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE008"])
    body = fake.requests[0].json["messages"][1]["content"]
    assert "sa note 1" not in body  # retired
    assert "sa note 86" not in body  # no notes: not an example (seed query 4)
    order = [body.index(f"{k} note {i}") for k, i in [("sa", 72), ("sa", 43), ("tm", 46)]]
    assert order == sorted(order)  # same skill first (newest first), then the newer others
    assert body.index("<<<EXAMPLE 1 ") < order[0]
    [stored] = new_assessments(demo_store, "DE008")
    used = (stored.provenance or {})["examples"]
    assert used[:2] == [sa[2].id, sa[1].id]  # same skill, newest first
    assert used[2:] == [later[2].id, later[1].id]  # at most two per skill
    assert sa[0].id not in used
    with demo_store.read() as conn:
        shown = examples_used(conn, int(stored.id or 0))
    assert [c.id for c in shown] == used and all(c.teacher_notes for c in shown)
    with demo_store.read() as conn, pytest.raises(NotFoundError):
        examples_used(conn, 999_999)


def test_few_shot_respects_count_and_token_budget(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    for i in range(1, 40):
        actions.correct(
            demo_store, assessment_id=i, teacher_id=T, level="Emerging", notes="long " * 120
        )
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE008"])
    body = fake.requests[0].json["messages"][1]["content"]
    n = body.count("<<<EXAMPLE ")
    assert 0 < n <= MAX_EXAMPLES
    section = body[body.index("<<<EXAMPLE 1 ") : body.rindex("<<<END EXAMPLE")]
    assert len(section) / 4 <= TOKEN_BUDGET


def test_retiring_an_example_keeps_it_out_of_later_prompts(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    c = actions.correct(
        demo_store, assessment_id=1, teacher_id=T, level="Advanced", notes="bad example"
    ).value
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE008"])
    assert "bad example" in fake.bodies()[-1]
    actions.set_example_use(demo_store, correction_id=int(c.id or 0), use=False)
    run_assessment(demo_store, settings_for(fake), entry_ids=["DE016"])
    assert "bad example" not in fake.bodies()[-1]


# -- calibration ------------------------------------------------------------------------------


def test_calibration_counts_decisions_per_skill_and_band(demo_store: LocalStore) -> None:
    # demo confidences: 1 -> 0.86, 43 -> 0.70, 72 -> 0.82, 94 -> 0.66, 23 -> 0.54, 40 -> 0.68
    actions.accept(demo_store, assessment_id=1, teacher_id=T)
    actions.correct(demo_store, assessment_id=43, teacher_id=T, level="Advanced")
    actions.accept(demo_store, assessment_id=72, teacher_id=T)
    actions.correct(demo_store, assessment_id=94, teacher_id=T, level="Proficient")
    actions.accept(demo_store, assessment_id=23, teacher_id=T)
    actions.accept(demo_store, assessment_id=40, teacher_id=T)
    with demo_store.read() as conn:
        rows = {(r.skill_name, r.band): r for r in calibration(conn)}
        counts = band_counts(conn)
    assert set(rows) == {
        ("Self-Awareness", "0.50-0.69"),
        ("Self-Awareness", "0.70-0.84"),
        ("Self-Awareness", "0.85-1.00"),
        ("Time Management", "0.50-0.69"),
    }
    mid = rows[("Self-Awareness", "0.70-0.84")]
    assert (mid.decided, mid.accepted, mid.acceptance_rate) == (2, 1, 0.5)
    assert mid.mean_confidence == pytest.approx(0.76)
    assert rows[("Self-Awareness", "0.50-0.69")].acceptance_rate == 0.0
    assert rows[("Time Management", "0.50-0.69")].acceptance_rate == 1.0
    assert counts[("Self-Awareness", band_of(0.75))] == (2, 1)
    # the order follows the curriculum (SEL first, then EF), bands ascending
    with demo_store.read() as conn:
        ordered = [(r.skill_name, r.band_low) for r in calibration(conn)]
    assert ordered == sorted(ordered, key=lambda r: (r[0] != "Self-Awareness", r[1]))


def test_calibration_pulls_new_confidences_toward_the_teachers_record(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    settings = settings_for(fake, use_llm_confidence=True)
    fake.script(proposals([item("[STUDENT_1]", "Self-Awareness", DE008_QUOTE, confidence=0.95)]))
    run_assessment(demo_store, settings, entry_ids=["DE008"])
    [first] = new_assessments(demo_store, "DE008")
    assert first.confidence_score == 0.95  # the model's own figure: nothing to calibrate yet
    # Teachers then rejected the Self-Awareness proposals the model was surest about.
    for i in (1, int(first.id or 0)):  # confidences 0.86 and 0.95: the top band
        actions.correct(demo_store, assessment_id=i, teacher_id=T, level="Emerging")
    with demo_store.read() as conn:
        assert band_counts(conn)[("Self-Awareness", band_of(0.95))] == (2, 0)
    lucas = "First I practiced with Lucas, then with my mom and my brother"
    fake.script(
        proposals(
            [
                item(
                    "[STUDENT_2]",
                    "Self-Awareness",
                    lucas.replace("Lucas", "[STUDENT_2]"),
                    confidence=0.95,
                )
            ]
        )
    )
    run_assessment(demo_store, settings, entry_ids=["DE008"])
    second = next(a for a in new_assessments(demo_store, "DE008") if a.student_id == "S002")
    assert second.source_quote == lucas
    assert second.confidence_score == calibrate(0.95, 2, 0) == round(9.5 / 12, 2)
    assert (second.provenance or {})["confidence"]["calibration"] == {
        "band": "0.85-1.00",
        "decided": 2,
        "accepted": 0,
    }


def test_confidence_rounding_and_blend() -> None:
    assert round_confidence(0.125) == 0.13 and round_confidence(0.124999) == 0.12
    assert round_confidence(-0.2) == 0.0 and round_confidence(1.7) == 1.0
    assert calibrate(0.9, 0, 0) == 0.9
    assert calibrate(0.9, 90, 9) == round((90 * 0.1 + 10 * 0.9) / 100, 2) == 0.18


def _candidate(text: str, quote: str, skill: str, student: str = "S001") -> Candidate:
    redactor = Redactor([("S001", "Eva"), ("S002", "Lucas")], [("T001", "Ms. Rodriguez")])
    grounded = ground(quote, redactor.redact(text))
    assert grounded is not None
    return Candidate(
        student_id=student,
        placeholder="[STUDENT_1]",
        skill=load_curriculum().skill(skill),
        level="Proficient",
        model_confidence=1.0,
        justification="x",
        grounded=grounded,
    )


def _score(text: str, quote: str, skill: str, **kw: object) -> Signals:
    redactor = Redactor([("S001", "Eva"), ("S002", "Lucas")], [("T001", "Ms. Rodriguez")])
    args: dict[str, object] = {
        "text": text,
        "entry_type": "group_discussion_transcript",
        "owner": "S001",
        "redactor": redactor,
        "reviewed_level": None,
    }
    args.update(kw)
    return measure(_candidate(text, quote, skill, str(kw.get("who", "S001"))), **args)  # type: ignore[arg-type]


TRANSCRIPT = (
    "Ms. Rodriguez: What happened?\n"
    "Eva: I felt nervous at first but I realized I was proud of myself for trying again.\n"
    "Lucas: Eva said she was nervous, we should take turns.\n"
)


def test_signals_reward_longer_keyword_rich_own_words() -> None:
    own = _score(
        TRANSCRIPT, "I felt nervous at first but I realized I was proud of myself", "Self-Awareness"
    )
    short = _score(TRANSCRIPT, "I felt nervous at first", "Self-Awareness")
    other_skill = _score(
        TRANSCRIPT,
        "I felt nervous at first but I realized I was proud of myself",
        "Time Management",
    )
    someone_else = _score(
        TRANSCRIPT, "said she was nervous, we should take turns", "Self-Awareness"
    )
    assert own.speaker == 1.0 and someone_else.speaker < own.speaker
    assert own.length > short.length and own.rubric > other_skill.rubric
    assert own.score() > short.score() > 0.05 and own.score() > other_skill.score()
    agree = _score(
        TRANSCRIPT, "I felt nervous at first", "Self-Awareness", reviewed_level="Proficient"
    )
    disagree = _score(
        TRANSCRIPT, "I felt nervous at first", "Self-Awareness", reviewed_level="Developing"
    )
    far = _score(TRANSCRIPT, "I felt nervous at first", "Self-Awareness", reviewed_level="Emerging")
    assert agree.agreement == 1.0 and disagree.agreement == 0.7 and far.agreement == 0.2
    assert short.agreement == 0.5 and agree.score() > short.score() > far.score()
    loose = _score(TRANSCRIPT, "i  FELT nervous at first", "Self-Awareness")
    assert loose.grounding == 0.85 and loose.score() < short.score()
    assert 0.05 <= own.score() <= 0.95
