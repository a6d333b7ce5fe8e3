"""Streamed replies: an abandoned call closes its stream (the server sees the client go and
stops generating), the chunks add up to exactly what a whole reply holds, and the servers'
different ways with ``stream_options`` and usage are handled.

The fakes speak server-sent events as the servers do (``tests/support/local_servers.py``);
``FakeOpenAI.streams`` records, per streamed reply, how many events went out of how many.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from desktop.assess import run_assessment
from desktop.assess._capabilities import load_capabilities
from desktop.assess._client import Attempt, CallFailed, LLMClient
from desktop.assess._pipeline import capabilities
from desktop.assess._prompts import response_schema
from desktop.assess._stream import Assembled
from sync.model.crud import ASSESSMENTS
from sync.store.local import LocalStore
from tests.support.fake_openai import FakeOpenAI, auto, content, proposals, trickle
from tests.support.local_servers import AZURE_OLD, LLAMA_CPP_PYTHON
from tests.test_assess_pipeline import DE008_QUOTE_2, item, job, settings_for

# llama-cpp-python as a school runs it: an 8,192-token context
LLAMA_8K = replace(LLAMA_CPP_PYTHON, n_ctx=8192)


def calls(store: LocalStore, entry_id: str) -> list[tuple[str, int, int, str | None]]:
    with store.read() as conn:
        return [
            (str(r[0]), int(r[1]), int(r[2]), r[3])
            for r in conn.exec_driver_sql(
                "SELECT outcome, tokens_in, tokens_out, detail FROM llm_calls "
                "WHERE data_entry_id = ? ORDER BY id",
                (entry_id,),
            )
        ]


def test_a_cancel_closes_the_stream_and_the_server_stops_sending(demo_store: LocalStore) -> None:
    # a slow CPU server: one token every 50 ms, a reply of several hundred tokens (~20 s)
    with FakeOpenAI(server=LLAMA_8K, default=trickle(0.05, auto(per_student=6))) as fake:
        settings = settings_for(fake, concurrency=None)
        assert capabilities(demo_store, settings).mode == "json_object_schema"  # found before
        cancel = threading.Event()
        threading.Timer(1.0, cancel.set).start()
        clock = time.monotonic()
        report = run_assessment(demo_store, settings, entry_ids=["DE008"], cancel=cancel)
        elapsed = time.monotonic() - clock
        deadline = time.monotonic() + 5
        while not fake.streams and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the disconnect at its next chunk
        assert report.cancelled and report.waiting == 1 and elapsed < 8
        [(sent, total)] = fake.streams
        assert fake.disconnects == 1 and 1 <= sent < total / 4  # stopped early, not finished
    assert [c[0] for c in calls(demo_store, "DE008")] == ["cancelled"]
    assert "cancelled" in job(demo_store, "DE008")["reason"]


def test_a_timeout_closes_the_stream_however_steadily_chunks_arrive(
    demo_store: LocalStore,
) -> None:
    # every chunk comes in time (no read times out), but the whole reply would take ~20 s
    with FakeOpenAI(server=LLAMA_8K, default=trickle(0.05, auto(per_student=6))) as fake:
        settings = settings_for(fake, concurrency=None, timeout_s=1.5)
        capabilities(demo_store, settings)
        clock = time.monotonic()
        report = run_assessment(demo_store, settings, entry_ids=["DE008"])
        assert time.monotonic() - clock < 8 and report.waiting == 1
        deadline = time.monotonic() + 5
        while not fake.streams and time.monotonic() < deadline:
            time.sleep(0.05)
        [(sent, total)] = fake.streams
        assert fake.disconnects == 1 and sent < total
    assert [c[0] for c in calls(demo_store, "DE008")] == ["timeout"]
    assert "timed out after 1.5 s" in job(demo_store, "DE008")["reason"]


def test_streamed_chunks_add_up_to_the_whole_reply(demo_store: LocalStore) -> None:
    quote = DE008_QUOTE_2
    reply = proposals([item("[STUDENT_1]", "Planning & Prioritization", quote)])
    with FakeOpenAI(server=LLAMA_8K) as fake:
        fake.script(reply, match="Science Fair")
        run_assessment(demo_store, settings_for(fake, concurrency=None), entry_ids=["DE008"])
        [request] = fake.requests
        assert request.json["stream"] is True
        [(sent, total)] = fake.streams
        assert sent == total > 10  # role, one event per 4 characters, finish, [DONE]
    with demo_store.read() as conn:
        [stored] = ASSESSMENTS.list(conn, where={"data_entry_id": "DE008"})
    assert (stored.skill_name, stored.source_quote) == ("Planning & Prioritization", quote)
    # llama-cpp-python sends no usage while streaming: estimated, and marked so
    [(outcome, tokens_in, tokens_out, detail)] = calls(demo_store, "DE008")
    assert outcome == "ok" and detail == "usage estimated (the server sent none)"
    assert tokens_out == total - 3  # the events that carried text (not role, finish, [DONE])
    assert len(reply.content or "") / 4 <= tokens_out
    assert tokens_in > 500  # the prompt, by the server's tokenizer ratio


def test_usage_comes_from_the_stream_where_the_server_sends_it(
    demo_store: LocalStore,
) -> None:
    with FakeOpenAI() as fake:  # OpenAI: stream_options.include_usage gets a last usage chunk
        run_assessment(demo_store, settings_for(fake), entry_ids=["DE008"])
        [request] = fake.requests
        assert request.json["stream_options"] == {"include_usage": True}
    [(outcome, tokens_in, tokens_out, detail)] = calls(demo_store, "DE008")
    assert outcome == "ok" and detail is None and tokens_in > 500 and tokens_out > 10


def test_a_server_that_refuses_stream_options_is_asked_without_them_and_remembers(
    demo_store: LocalStore,
) -> None:
    with FakeOpenAI(server=AZURE_OLD) as fake:
        settings = settings_for(fake, concurrency=1)
        report = run_assessment(demo_store, settings, entry_ids=["DE008", "DE016"])
        assert report.entries_done == 2 and report.failed == report.waiting == 0
        first, *rest = (r.json for r in fake.requests)
        assert "stream_options" in first and rest and all("stream_options" not in r for r in rest)
        assert all(r["stream"] for r in rest)  # still streamed
        caps = load_capabilities(demo_store, settings)
        assert caps is not None and caps.stream_options is False
    outcomes = [c[0] for c in calls(demo_store, "DE008")]
    assert outcomes == ["rejected", "ok"]  # refused once, at once: not a retry


def test_a_stream_that_breaks_off_is_tried_again(demo_store: LocalStore) -> None:
    with FakeOpenAI(server=LLAMA_8K) as fake:
        fake.script(replace(auto(), cut_stream=True))
        report = run_assessment(
            demo_store, settings_for(fake, concurrency=None), entry_ids=["DE008"]
        )
        assert report.entries_done == 1 and report.proposals_stored > 0
    outcomes = [(c[0], c[3] or "") for c in calls(demo_store, "DE008")]
    assert outcomes[0][0] == "server_error" and "broke off" in outcomes[0][1]
    assert outcomes[1][0] == "ok"


def test_assembled_tool_call_and_refusal_deltas() -> None:
    """The client adds tool-call argument deltas and refusal deltas as the SDK hands them."""
    from openai.types.chat import ChatCompletionChunk

    def chunk(delta: dict[str, object], finish: str | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk.model_validate(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    got = Assembled()
    head = {"index": 0, "id": "call_1", "type": "function"}
    got.add(chunk({"tool_calls": [{**head, "function": {"name": "f", "arguments": ""}}]}))
    for piece in ('{"propo', 'sals": ', "[]}"):
        got.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    got.add(chunk({}, "tool_calls"))
    assert got.tool_arguments == '{"proposals": []}' and got.finish_reason == "tool_calls"
    assert got.chunks == 3 and got.text is None
    refused = Assembled()
    for piece in ("I can", "not help"):
        refused.add(chunk({"refusal": piece}))
    assert refused.refusal_text == "I cannot help"


def test_without_a_cancel_event_the_deadline_still_holds() -> None:
    with FakeOpenAI(default=trickle(0.05, content("x" * 2000))) as fake:
        client = LLMClient(settings_for(fake, timeout_s=1.0), None)
        attempts: list[Attempt] = []
        clock = time.monotonic()
        try:
            with pytest.raises(CallFailed, match="timed out after 1 s"):
                client.complete(
                    [{"role": "user", "content": "x"}],
                    response_schema(["[STUDENT_1]"], ["Planning & Prioritization"]),
                    attempts,
                )
        finally:
            client.close()
        assert time.monotonic() - clock < 4 and [a.outcome for a in attempts] == ["timeout"]
        deadline = time.monotonic() + 5
        while not fake.streams and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.disconnects == 1 and fake.streams[0][0] < fake.streams[0][1]


def test_json_mode_with_a_schema_bounds_the_list_and_the_strings(demo_store: LocalStore) -> None:
    with FakeOpenAI(server=LLAMA_8K, default=content('{"proposals": []}')) as fake:
        run_assessment(demo_store, settings_for(fake, concurrency=None), entry_ids=["DE024"])
        [request] = fake.requests
    fmt = request.json["response_format"]
    assert fmt["type"] == "json_object"
    proposals_schema = fmt["schema"]["properties"]["proposals"]
    fields = proposals_schema["items"]["properties"]
    pairs = len(fields["student"]["enum"]) * len(fields["skill_name"]["enum"])
    assert proposals_schema["maxItems"] == pairs == 2 * 8
    assert fields["source_quote"]["minLength"] == 10 and fields["source_quote"]["maxLength"] == 450
    assert fields["justification"]["maxLength"] == 350
    assert "JSON schema" not in request.json["messages"][-1]["content"]  # enforced, not told
