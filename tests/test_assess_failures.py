"""Every bad response kind: nothing invalid is stored, the entry is left in a clear state
with its reason visible (``assessment_jobs`` / :func:`awaiting_entries`), calls are recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time

import pytest

from desktop.assess import awaiting_entries, run_assessment
from desktop.assess._capabilities import (
    PROBE_VERSION,
    Capabilities,
    load_capabilities,
    save_capabilities,
)
from desktop.assess._jobs import due_entries, utcnow
from sync.store.local import LocalStore
from tests.support.fake_openai import (
    FakeOpenAI,
    Reply,
    content,
    http_error,
    malformed,
    proposals,
    rate_limited,
    refusal,
    server_error,
    slow,
    truncated,
)
from tests.test_assess_pipeline import (
    DE008_QUOTE,
    DE008_QUOTE_2,
    calls,
    fake_server,  # noqa: F401  (the `fake` fixture)
    item,
    job,
    new_assessments,
    settings_for,
)

E = "DE008"  # Eva's reflection journal ([STUDENT_1]), awaiting assessment in the demo
VALID = proposals([item("[STUDENT_1]", "Self-Awareness", DE008_QUOTE)])


def run(store: LocalStore, fake: FakeOpenAI, **kw: object) -> object:
    return run_assessment(store, settings_for(fake, **kw), entry_ids=[E])


def awaiting(store: LocalStore) -> dict[str, object]:
    with store.read() as conn:
        return {a.data_entry_id: a for a in awaiting_entries(conn)}


# -- malformed replies ---------------------------------------------------------------------


def test_malformed_json_twice_fails_the_entry(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(malformed(), content("still { not json"))
    report = run(demo_store, fake)
    assert report.failed == 1 and report.proposals_stored == 0  # type: ignore[attr-defined]
    assert new_assessments(demo_store, E) == []
    state = job(demo_store, E)
    assert state["status"] == "failed" and "unusable reply twice" in state["reason"]
    assert "not valid JSON" in state["reason"] and state["next_attempt_at"] is not None
    shown = awaiting(demo_store)[E]
    assert shown.status == "failed" and "unusable reply twice" in shown.reason  # type: ignore[attr-defined]
    assert [c["outcome"] for c in calls(demo_store, E)] == ["ok", "ok"]
    # the retry fed the error back after echoing the bad reply
    second = fake.requests[1].json["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert "not valid JSON" in second[-1]["content"]
    # a failed entry is not retried at once (back-off), but is listed as awaiting
    with demo_store.read() as conn:
        assert E not in due_entries(conn, now=utcnow(), limit=None, entry_ids=None)


def test_malformed_then_valid_is_repaired(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(malformed(), VALID)
    report = run(demo_store, fake)
    assert report.entries_done == 1 and report.proposals_stored == 1  # type: ignore[attr-defined]
    [stored] = new_assessments(demo_store, E)
    assert stored.provenance and stored.provenance["repaired"] is True
    assert stored.provenance["call_id"] == calls(demo_store, E)[1]["id"]


@pytest.mark.parametrize(
    "reply, why",
    [
        (content('{"answer": "Proficient"}'), 'expected one JSON object with a "proposals" list'),
        (content("[]"), 'expected one JSON object with a "proposals" list'),
        (truncated(), "cut off at the model's output limit"),
    ],
)
def test_wrong_shapes_are_unusable(
    demo_store: LocalStore, fake: FakeOpenAI, reply: Reply, why: str
) -> None:
    fake.script(reply, reply)
    run(demo_store, fake)
    assert new_assessments(demo_store, E) == []
    assert job(demo_store, E)["status"] == "failed" and why in job(demo_store, E)["reason"]


# -- invalid proposals -----------------------------------------------------------------------


def test_wrong_skill_names_are_dropped_with_a_reason(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    bad = item("[STUDENT_1]", "Leadership", DE008_QUOTE_2)
    fake.script(
        proposals([bad, item("[STUDENT_1]", "self-awareness", DE008_QUOTE)]),
        proposals([bad]),  # the repair request does not fix it
    )
    report = run(demo_store, fake)
    assert report.proposals_stored == 1 and report.proposals_dropped == 1  # type: ignore[attr-defined]
    [stored] = new_assessments(demo_store, E)
    assert stored.skill_name == "Self-Awareness" and stored.skill_category == "SEL"
    state = job(demo_store, E)
    assert state["status"] == "done"
    assert (
        "1 dropped" in state["reason"]
        and "'Leadership' is not in the curriculum" in state["reason"]
    )
    repair = fake.requests[1].json["messages"][-1]["content"]
    assert "Leadership" in repair and "not in the curriculum" in repair


def test_ungrounded_quote_is_dropped_then_recovered_by_the_repair(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    invented = "I was the best presenter in the whole school and everyone clapped for me."
    fake.script(
        proposals([item("[STUDENT_1]", "Communication", invented)]),
        proposals([item("[STUDENT_1]", "Communication", DE008_QUOTE_2)]),
    )
    report = run(demo_store, fake)
    assert report.proposals_stored == 1 and report.proposals_dropped == 0  # type: ignore[attr-defined]
    [stored] = new_assessments(demo_store, E)
    assert stored.source_quote == DE008_QUOTE_2
    assert "does not occur in the entry text" in fake.requests[1].json["messages"][-1]["content"]


def test_only_invalid_proposals_fail_the_entry(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    bad = [
        item("[STUDENT_1]", "Self-Awareness", "Words that were never written in this journal."),
        item("[STUDENT_9]", "Self-Awareness", DE008_QUOTE),
        item("[STUDENT_1]", "Creativity", DE008_QUOTE, level="Expert"),
        item("[STUDENT_1]", "Organization", DE008_QUOTE, confidence=1.7),
        item("[STUDENT_1]", "Time Management", "so nervous"),
        {"student": "[STUDENT_1]", "skill_name": "Metacognition"},
    ]
    fake.script(proposals(bad), proposals(bad))
    report = run(demo_store, fake, use_llm_confidence=True)  # the model's confidence counts
    assert report.failed == 1 and report.proposals_dropped == 6  # type: ignore[attr-defined]
    assert new_assessments(demo_store, E) == []
    reason = job(demo_store, E)["reason"]
    assert job(demo_store, E)["status"] == "failed" and "6 dropped" in reason
    repair = fake.requests[1].json["messages"][-1]["content"]
    for why in (
        "does not occur in the entry text",
        "is not one of [STUDENT_1]",
        "level 'Expert' is not one of",
        "outside 0-1",
        "shorter than 3 words",
        "missing field(s) level",
    ):
        assert why in repair


def test_out_of_range_confidence_drops_nothing_when_it_is_ignored(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    odd = [
        item("[STUDENT_1]", "Organization", DE008_QUOTE, confidence=10),
        item("[STUDENT_1]", "Self-Awareness", DE008_QUOTE_2, confidence="high"),
    ]
    del odd[1]["confidence"]  # and a missing one
    fake.script(proposals(odd))
    report = run(demo_store, fake)  # USE_LLM_CONFIDENCE=false: the product ignores the figure
    assert report.proposals_stored == 2 and report.proposals_dropped == 0  # type: ignore[attr-defined]
    stored = {a.skill_name: a for a in new_assessments(demo_store, E)}
    assert set(stored) == {"Organization", "Self-Awareness"}
    for a in stored.values():
        assert 0 <= (a.confidence_score or 0) <= 1
        assert (a.provenance or {})["confidence"]["method"] == "signals"
    assert (stored["Organization"].provenance or {})["confidence"]["model"] is None
    assert len(fake.requests) == 1  # nothing to repair


def test_duplicate_pairs_keep_the_first(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(
        proposals(
            [
                item("[STUDENT_1]", "Self-Awareness", DE008_QUOTE, level="Developing"),
                item("[STUDENT_1]", "Self-Awareness", DE008_QUOTE_2, level="Advanced"),
            ]
        ),
        proposals([]),
    )
    run(demo_store, fake)
    [stored] = new_assessments(demo_store, E)
    assert stored.level == "Developing"


# -- transport failures ----------------------------------------------------------------------


def test_429_is_retried_after_retry_after(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(rate_limited(0.4), VALID)
    report = run(demo_store, fake)
    assert report.proposals_stored == 1  # type: ignore[attr-defined]
    gap = fake.requests[1].at - fake.requests[0].at
    assert 0.35 <= gap < 2.0  # honoured Retry-After, did not use its own longer back-off
    assert [c["outcome"] for c in calls(demo_store, E)] == ["rate_limited", "ok"]


def test_long_retry_after_leaves_the_entry_waiting_until_then(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    fake.script(rate_limited(3600))
    started = time.monotonic()
    report = run_assessment(demo_store, settings_for(fake, concurrency=1))
    assert time.monotonic() - started < 3  # did not sit out the hour
    assert report.waiting == 4 and len(fake.requests) == 1  # the run stopped sending
    state = job(demo_store, "DE008")
    assert state["status"] == "waiting" and "asked to wait 3600 s" in state["reason"]
    later = dt.datetime.fromisoformat(state["next_attempt_at"])
    assert later > utcnow() + dt.timedelta(minutes=59)
    with demo_store.read() as conn:
        assert due_entries(conn, now=utcnow(), limit=None, entry_ids=None) == []
        assert due_entries(conn, now=later, limit=None, entry_ids=None)


def test_500_is_retried_with_backoff(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(server_error(500), server_error(503), VALID)
    report = run(demo_store, fake)
    assert report.proposals_stored == 1  # type: ignore[attr-defined]
    assert [c["outcome"] for c in calls(demo_store, E)] == ["server_error", "server_error", "ok"]
    first_gap = fake.requests[1].at - fake.requests[0].at
    second_gap = fake.requests[2].at - fake.requests[1].at
    assert 0.3 <= first_gap and second_gap > first_gap  # 0.5 s, then 1 s (with jitter)


def test_persistent_5xx_leaves_the_entry_waiting(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    quick = Reply(status=502, error="bad gateway", headers={"Retry-After": "0.05"})
    fake.script(quick, quick, quick, quick)
    report = run(demo_store, fake)
    assert report.waiting == 1 and len(fake.requests) == 4  # type: ignore[attr-defined]
    state = job(demo_store, E)
    assert state["status"] == "waiting" and "gave up after 4 tries" in state["reason"]
    assert new_assessments(demo_store, E) == []


def test_timeout_leaves_the_entry_waiting(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(slow(2.0, VALID))
    report = run(demo_store, fake, timeout_s=0.3)
    assert report.waiting == 1  # type: ignore[attr-defined]
    state = job(demo_store, E)
    assert state["status"] == "waiting" and "timed out after 0.3 s" in state["reason"]
    assert calls(demo_store, E)[0]["outcome"] == "timeout"
    assert awaiting(demo_store)[E].reason == state["reason"]  # type: ignore[attr-defined]
    assert new_assessments(demo_store, E) == []


def test_slow_but_in_time_is_fine(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(slow(0.3, VALID))
    assert run(demo_store, fake, timeout_s=2).proposals_stored == 1  # type: ignore[attr-defined]


def test_refusal_leaves_the_entry_waiting(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(refusal("I can't assess children."))
    report = run(demo_store, fake)
    assert report.waiting == 1  # type: ignore[attr-defined]
    state = job(demo_store, E)
    assert state["status"] == "waiting" and state["reason"] == (
        "the model refused: I can't assess children."
    )
    assert calls(demo_store, E)[0]["outcome"] == "refused"


def test_bad_request_fails_the_entry(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(http_error(400, "context_length_exceeded"))
    run(demo_store, fake)
    state = job(demo_store, E)
    assert state["status"] == "failed" and "context_length_exceeded" in state["reason"]


def test_a_model_without_temperature_zero_is_asked_again_without_it(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    fake.script(http_error(400, "Unsupported value: 'temperature' does not support 0"), VALID)
    assert run(demo_store, fake).proposals_stored == 1  # type: ignore[attr-defined]
    first, second = (r.json for r in fake.requests)
    assert first["temperature"] == 0 and "temperature" not in second


def test_an_endpoint_that_refuses_structured_output_mid_run_switches_mode(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    fake.script(http_error(400, "Invalid parameter: 'response_format' of type 'json_schema'"))
    report = run_assessment(demo_store, settings_for(fake, concurrency=1))
    assert report.entries_done == 4 and report.failed == report.waiting == 0
    # each refused once, not retried: json_schema, then JSON mode with a schema (OpenAI's 400
    # "Unknown parameter: 'response_format.schema'."), then JSON mode
    assert report.mode == "json_object" and len(fake.requests) == 6
    first, second, third = (r.json for r in fake.requests[:3])
    assert first["response_format"]["type"] == "json_schema"
    assert (
        second["response_format"]["type"] == "json_object" and "schema" in second["response_format"]
    )
    assert third["response_format"] == {"type": "json_object"}
    assert '{"type":"object"' in third["messages"][-1]["content"]  # the schema in the prompt
    with demo_store.read() as conn:
        outcomes = [r[0] for r in conn.exec_driver_sql("SELECT outcome FROM llm_calls")]
    assert outcomes.count("rejected") == 2 and "server_error" not in outcomes
    caps = load_capabilities(demo_store, settings_for(fake))
    assert caps is not None and caps.mode == "json_object"  # remembered for the next run
    assert caps.notes[-2].startswith("json_schema: ")
    assert caps.notes[-1].startswith("json_object_schema: ")


def test_an_endpoint_that_refuses_every_mode_stops_the_run_and_says_why(
    demo_store: LocalStore, fake: FakeOpenAI
) -> None:
    fake.script(http_error(400, "Invalid parameter: 'response_format' of type 'json_schema'"))
    fake.script(*[http_error(400, "Invalid parameter: 'tools' is not supported")] * 4)
    save_capabilities(  # as a probe would have found: text is not offered either
        demo_store,
        settings_for(fake),
        Capabilities(
            settings_for(fake).endpoint,
            "fake-model",
            modes=("json_schema", "tools"),
            probe_version=PROBE_VERSION,
        ),
    )
    report = run_assessment(demo_store, settings_for(fake, concurrency=1))
    assert report.entries_done == 0 and report.waiting == 4
    reason = job(demo_store, "DE008")["reason"]
    assert "127.0.0.1" in reason and "none of the output modes" in reason and "tools" in reason


def test_rejected_key_stops_the_run(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    fake.script(http_error(401, "Incorrect API key provided"))
    report = run_assessment(demo_store, settings_for(fake, concurrency=1))
    assert report.waiting == 4 and len(fake.requests) == 1
    for entry in ("DE008", "DE016", "DE024", "DE032"):
        assert "rejected the API key" in job(demo_store, entry)["reason"]


def test_offline_entries_wait_and_the_run_stops_sending(demo_store: LocalStore) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    report = run_assessment(demo_store, settings_for(f"http://127.0.0.1:{port}/v1"))
    assert report.waiting == 4 and report.proposals_stored == 0
    with demo_store.read() as conn:
        shown = awaiting_entries(conn)
    assert {a.status for a in shown} == {"waiting"}
    assert {a.reason for a in shown} == {f"offline: cannot reach 127.0.0.1:{port}"}
    assert len(calls(demo_store)) <= 4  # at most one try per worker, then it stopped
    assert all(c["outcome"] == "offline" for c in calls(demo_store))
    with demo_store.read() as conn:  # and they are due again for the next run
        assert len(due_entries(conn, now=utcnow(), limit=None, entry_ids=None)) == 4


def test_proposals_that_are_not_objects_are_dropped(demo_store: LocalStore) -> None:
    with FakeOpenAI(default=content(json.dumps({"proposals": [1, 2]}))) as fake:
        report = run_assessment(demo_store, settings_for(fake))
    assert report.failed == 4 and report.proposals_dropped == 8
