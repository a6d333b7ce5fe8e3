"""The school's own model server: llama.cpp, llama-cpp-python, vLLM, Ollama, LM Studio.

Each runs against :class:`FakeOpenAI` answering as that server does (``local_servers``):
its metadata endpoints, its refusals of output modes and of prompts beyond its context, its
slots. What must hold everywhere: the capabilities are found (not assumed) and remembered,
every request carries an output limit and fits the context, no more calls run at once than
the server has slots, and every stored quote occurs verbatim in its entry.
"""

from __future__ import annotations

import json

import pytest

from desktop.assess import run_assessment
from desktop.assess._budget import Budget, chunks
from desktop.assess._capabilities import (
    PROBE_VERSION,
    Capabilities,
    context_from_error,
    load_capabilities,
    unsupported_feature,
)
from desktop.assess._pipeline import capabilities, waiting_text
from sync import actions
from sync.model.crud import ASSESSMENTS, DATA_ENTRIES
from sync.store.local import LocalStore
from tests.support.fake_openai import FakeOpenAI, content, evidence_of, prompt_tokens
from tests.support.local_servers import (
    AZURE_OLD,
    JSON_ONLY,
    LLAMA_CPP,
    LLAMA_CPP_OLD,
    LLAMA_CPP_PYTHON,
    LM_STUDIO,
    OLLAMA,
    TEXT_ONLY,
    TOOLS_ONLY,
    VLLM,
    Server,
)
from tests.test_assess_pipeline import DEMO_AWAITING, job, settings_for

# server, the kind found, the mode used, the context found by the probe (None: learnt later)
EXPECTED = [
    (LLAMA_CPP_PYTHON, "llama-cpp-python", "json_object_schema", None),
    (LLAMA_CPP, "llama.cpp", "json_schema", 4096),
    (LLAMA_CPP_OLD, "llama.cpp", "json_object_schema", None),
    (JSON_ONLY, "unknown", "json_object", None),
    (AZURE_OLD, "unknown", "json_schema", None),
    (VLLM, "vLLM", "json_schema", 4096),
    (OLLAMA, "Ollama", "json_schema", 4096),
    (LM_STUDIO, "LM Studio", "json_schema", 4096),
    (TOOLS_ONLY, "unknown", "tools", None),
    (TEXT_ONLY, "unknown", "text", None),
]


def last_user(body: dict[str, object]) -> str:
    return str(body["messages"][-1]["content"])  # type: ignore[index]


def local_settings(fake: FakeOpenAI, **kw: object) -> object:
    values: dict[str, object] = {"concurrency": None, "timeout_s": 10.0}
    values.update(kw)
    return settings_for(fake, **values)


@pytest.mark.parametrize(
    ("server", "kind", "mode", "context"), EXPECTED, ids=[e[0].name for e in EXPECTED]
)
def test_each_server_is_found_out_and_assesses_the_demo(
    demo_store: LocalStore, server: Server, kind: str, mode: str, context: int | None
) -> None:
    with FakeOpenAI(server=server) as fake:
        settings = local_settings(fake)
        report = run_assessment(demo_store, settings)  # type: ignore[arg-type]
        caps = load_capabilities(demo_store, settings)  # type: ignore[arg-type]
        assert caps is not None and caps.kind == kind and caps.mode == mode, caps
        if context is not None:
            assert caps.context_tokens == context
        assert report.entries_done == 4 and report.failed == report.waiting == 0, report
        assert report.proposals_stored > 0 and report.mode == mode
        # an output limit on every call; every prompt within the context the server runs with
        over = []
        for r in fake.requests:
            limit = r.json.get("max_tokens")
            assert isinstance(limit, int) and limit > 0
            if server.n_ctx and prompt_tokens(r.json) + limit > server.n_ctx:
                over.append(r.json)
        if server is LLAMA_CPP_PYTHON:  # it names its context only when refusing a prompt:
            # streamed, the refusal is a stream without events; unstreamed, a 400 that names it
            assert [r.get("stream") for r in over] == [True, None], over
            assert over[0]["messages"] == over[1]["messages"]
        else:
            assert not over
        assert all(r.json.get("stream") for r in fake.requests if r.json not in over)
        assert fake.truncated == 0  # Ollama would have cut a longer prompt silently
        assert fake.max_in_flight <= (server.slots or 4)  # one at a time on one slot
        if mode == "json_schema":
            assert all(r.json["response_format"]["type"] == "json_schema" for r in fake.requests)
        elif mode == "json_object_schema":  # the server enforces it: not in the prompt
            for r in fake.requests:
                fmt = r.json["response_format"]
                assert fmt["type"] == "json_object" and fmt["schema"]["required"] == ["proposals"]
                assert '{"type":"object"' not in last_user(r.json)
        else:  # the schema travels in the prompt
            assert all('{"type":"object"' in last_user(r.json) for r in fake.requests)
    with demo_store.read() as conn:
        for entry_id in DEMO_AWAITING:
            entry = DATA_ENTRIES.require(conn, entry_id)
            for a in ASSESSMENTS.list(conn, where={"data_entry_id": entry_id}):
                assert a.source_quote in entry.content  # verbatim, whatever the mode
                assert (a.provenance or {})["mode"] == mode
            assert job(demo_store, entry_id)["status"] == "done"


def test_llama_cpp_python_teaches_its_context_with_its_first_refusal(
    demo_store: LocalStore,
) -> None:
    with FakeOpenAI(server=LLAMA_CPP_PYTHON) as fake:
        settings = local_settings(fake)
        report = run_assessment(demo_store, settings)  # type: ignore[arg-type]
        caps = load_capabilities(demo_store, settings)  # type: ignore[arg-type]
        assert caps is not None and caps.context_tokens == 2048 and caps.chars_per_token == 4.0
        assert report.entries_done == 4
        first, again = fake.requests[0].json, fake.requests[1].json
        # the type's rubric at full length: refused, once (streamed, a stream without events;
        # then without streaming, the 400 that names the context)
        assert prompt_tokens(first) > 2048 and first["stream"] and "stream" not in again
        assert all(prompt_tokens(r.json) <= 2048 for r in fake.requests[2:])
        # the rebuilt requests carry only part of the rubric each
        systems = [r.json["messages"][0]["content"] for r in fake.requests[2:]]
        assert all(s.count("\n## ") < 17 for s in systems)
        assert fake.max_in_flight == 1  # one slot, one call at a time
    with demo_store.read() as conn:
        outcomes = [r[0] for r in conn.exec_driver_sql("SELECT outcome FROM llm_calls ORDER BY id")]
    assert outcomes[:2] == ["server_error", "rejected"] and "server_error" not in outcomes[2:]


def test_the_refusal_of_json_schema_by_llama_cpp_python_is_not_a_temporary_failure(
    demo_store: LocalStore,
) -> None:
    # the run starts with the cloud's assumption (json_schema), as before the probe existed
    with FakeOpenAI(server=LLAMA_CPP_PYTHON) as fake:
        settings = local_settings(fake)
        caps = Capabilities(
            settings.endpoint,  # type: ignore[attr-defined]
            "fake-model",
            context_tokens=2048,
            chars_per_token=4.0,
            probe_version=PROBE_VERSION,
        )
        from desktop.assess._capabilities import save_capabilities

        save_capabilities(demo_store, settings, caps)  # type: ignore[arg-type]
        report = run_assessment(demo_store, settings, entry_ids=["DE008"])  # type: ignore[arg-type]
        assert report.entries_done == 1
        formats = [(r.json.get("response_format") or {}).get("type") for r in fake.requests]
        assert formats[0] == "json_schema" and set(formats[1:]) == {"json_object"}
        assert formats.count("json_schema") == 1  # switched at once, not tried four times


def test_a_long_transcript_goes_in_overlapping_chunks_and_quotes_match_the_whole_entry(
    demo_store: LocalStore,
) -> None:
    lines = [
        f"Eva: I planned step {k} of the experiment before we started and I checked it twice."
        if k % 2
        else f"Lucas: Step {k} looked fine to me so I wrote the result in our shared table."
        for k in range(160)
    ]
    text = "Group lab transcript\n" + "\n".join(lines)
    assert len(text) > 12_000
    entry = actions.add_entry(
        demo_store,
        student_id="S001",
        teacher_id="T001",
        entry_type="group_discussion_transcript",
        content=text,
    ).value
    with FakeOpenAI(server=LLAMA_CPP) as fake:
        report = run_assessment(demo_store, local_settings(fake), entry_ids=[str(entry.id)])  # type: ignore[arg-type]
        assert report.entries_done == 1 and report.proposals_stored > 0
        assert len(fake.requests) > 1
        seen = ""
        for r in fake.requests:
            assert prompt_tokens(r.json) + r.json["max_tokens"] <= LLAMA_CPP.n_ctx  # type: ignore[operator]
            piece = evidence_of(r.json)
            assert (
                piece
                and len(piece) < len(text)
                and piece in text.replace("Eva", "[STUDENT_1]").replace("Lucas", "[STUDENT_2]")
            )
            seen += piece
        assert "step 159 " in seen and "Step 0 " in seen  # the whole transcript was read
    with demo_store.read() as conn:
        stored = ASSESSMENTS.list(conn, where={"data_entry_id": str(entry.id)})
    assert stored and all(a.source_quote in text for a in stored)
    assert {(a.student_id, a.skill_name) for a in stored}.__len__() == len(stored)


def test_chunks_overlap_and_cover_the_text() -> None:
    text = "\n".join(f"line {k}: " + "word " * 12 for k in range(200))
    pieces = chunks(text, 1000)
    assert all(len(p) <= 1000 for p in pieces) and len(pieces) > 10
    assert pieces[0] == text[: len(pieces[0])]
    position = 0
    for a, b in zip(pieces, pieces[1:], strict=False):
        start = text.index(b, position)
        assert start < position + len(a)  # overlaps (or touches) the previous piece
        position = start
    assert text.endswith(pieces[-1])
    budget = Budget(context=2048, max_tokens=512, chars_per_token=4.0)
    assert budget.limit == 2048 - 512 - 64
    assert budget.tokens("x" * 4000) > 1000  # never under-counts the server's 1,000


def test_what_error_bodies_say() -> None:
    assert (
        context_from_error(
            "This model's maximum context length is 2048 tokens. However, you requested 3459 tokens"
        )
        == 2048
    )
    assert (
        context_from_error(
            json.dumps(
                {
                    "error": {
                        "message": "request (4476 tokens) exceeds the available context "
                        "size (4096 tokens), try increasing it",
                        "n_ctx": 4096,
                    }
                }
            )  # fmt: skip
        )
        == 4096
    )
    assert context_from_error("The server had an error") is None
    pydantic = "[{'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}]"
    assert unsupported_feature("json_schema", 500, pydantic)
    assert unsupported_feature(
        "json_object", 400, "{'error': \"'response_format.type' must be 'json_schema' or 'text'\"}"
    )
    assert unsupported_feature(
        "json_schema",
        500,
        'response_format type must be one of "text" or "json_object", but '
        "got: json_schema",  # fmt: skip
    )
    assert not unsupported_feature("json_schema", 500, "The server had an error")
    assert not unsupported_feature("json_schema", 503, "json_schema backend loading")


def test_no_evidence_is_not_final_a_new_model_or_prompt_offers_it_again(
    demo_store: LocalStore,
) -> None:
    with FakeOpenAI(default=content('{"proposals": []}')) as fake:
        settings = settings_for(fake)
        report = run_assessment(demo_store, settings, entry_ids=["DE008"])
        assert report.entries_done == 1 and report.proposals_stored == 0
        reason = job(demo_store, "DE008")["reason"]
        assert "no evidence" in reason and "fake-model" in reason and "assess-1.3" in reason
        # the same model and prompt: not offered again
        assert run_assessment(demo_store, settings).entries_done == 3  # the other three
        again = run_assessment(demo_store, settings)
        assert again.entries_done == 0
        # another model: offered again
        better = settings_for(fake, model="better-model")
        before = len(fake.requests)
        report = run_assessment(demo_store, better)
        assert report.entries_done == 4 and len(fake.requests) > before


def test_waiting_text_names_the_server_and_its_pace() -> None:
    caps = Capabilities("http://127.0.0.1:11434/v1", "m", kind="Ollama", cpu_only=True,
                        seconds_per_call=61.2)  # fmt: skip
    assert waiting_text(caps) == "waiting for the model (CPU server, ~61 s per entry)"
    cloud = Capabilities("https://api.openai.com/v1", "gpt-4o", kind="OpenAI")
    assert waiting_text(cloud) == "waiting for the model"


def test_ollama_reports_its_context_and_cpu(demo_store: LocalStore) -> None:
    with FakeOpenAI(server=OLLAMA) as fake:
        caps = capabilities(demo_store, local_settings(fake), refresh=True)  # type: ignore[arg-type]
        paths = [r.path for r in fake.other]
    assert caps.kind == "Ollama" and caps.context_tokens == 4096 and caps.cpu_only is True
    assert "/api/show" in paths and "/api/ps" in paths
    assert caps.chars_per_token is None  # Ollama does not tokenize: the safe estimate is used
