"""A fake OpenAI-compatible chat-completions server: real HTTP on 127.0.0.1, scripted replies.

The AI pipeline's tests run the real ``openai`` client and the real pipeline against it, so
what is tested is the bytes on the wire, not a patched client. It speaks exactly the part of
the protocol the pipeline uses: ``POST /v1/chat/completions`` with a JSON body, answered by a
``chat.completion`` object (``choices[0].message.content`` / ``.refusal``, ``finish_reason``,
``usage``) or by an error object with an HTTP status (and ``Retry-After`` for 429).

Usage (or ``python -m tests.support.fake_openai`` to serve it for a manual run)::

    with FakeOpenAI(latency=0.2) as fake:
        fake.script(malformed(), match="DE005 marker phrase")   # next request containing it
        fake.script(rate_limited(0.2))                          # next request of any kind
        ...  # point the client at fake.base_url
        fake.requests                                           # every request, recorded

Replies are taken first from the queue whose ``match`` text occurs in the request body (so a
test can script one entry while others run concurrently), then from the unmatched queue,
then ``default`` (:func:`auto`: valid proposals grounded in the request's own evidence).

Like the real service in strict mode, a ``response_format`` schema that is not strict-valid
(an object without ``additionalProperties: false`` or with optional properties) gets a 400.

``FakeOpenAI(server=LLAMA_CPP_PYTHON)`` (see :mod:`tests.support.local_servers`) answers as
that local server does: its ``/v1/models``, its own metadata and tokenizer endpoints, its
refusal of output modes it lacks and of prompts beyond its context (status codes and bodies
as the server sends them), one request at a time where the server has one slot. Output
modes: a reply goes into ``content`` (``json_schema``, ``json_object``), into a forced tool
call (``tools``), or — with no ``response_format`` — into prose with a code fence (``text``),
the way small models answer. The capabilities probe's questions are answered by the server's
rules, never from the scripted queues, and are kept in ``probes``, not ``requests``.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.fake_requests import (
    evidence_of,
    is_probe,
    level_for,
    own_lines,
    schema_enums,
    schema_instance,
    schema_problems,
    sentences,
    skill_for,
    strict_problems,
)
from tests.support.local_servers import OPENAI, Server, fake_tokens

__all__ = [
    "FakeOpenAI",
    "Recorded",
    "Reply",
    "auto",
    "content",
    "evidence_of",
    "hang",
    "http_error",
    "malformed",
    "prompt_tokens",
    "proposals",
    "rate_limited",
    "refusal",
    "server_error",
    "schema_enums",
    "slow",
    "trickle",
    "truncated",
]


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request."""

    status: int = 200
    content: str | None = None  # assistant message content (status 200)
    make: Callable[[dict[str, Any]], str] | None = None  # content built from the request
    refusal: str | None = None
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    delay: float = 0.0
    hang: bool = False  # wait until the server closes (a call that never answers)
    token_delay: float = 0.0  # streamed: seconds between chunks (a slow CPU server)
    cut_stream: bool = False  # streamed: the connection ends halfway (a crashed server)


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived: raw body text and parsed JSON."""

    path: str
    headers: dict[str, str]
    body: str
    json: dict[str, Any]
    at: float


def content(text: str) -> Reply:
    return Reply(content=text)


def proposals(items: list[dict[str, Any]]) -> Reply:
    return Reply(content=json.dumps({"proposals": items}))


def malformed() -> Reply:
    return Reply(content='{"proposals": [{"student": "[STUDENT_1]", "skill_name": ')


def truncated() -> Reply:
    return Reply(content='{"proposals": [{"student"', finish_reason="length")


def refusal(text: str = "I'm sorry, I can't help with that request.") -> Reply:
    return Reply(refusal=text)


def rate_limited(retry_after: float = 0.2) -> Reply:
    return Reply(status=429, headers={"Retry-After": f"{retry_after:g}"}, error="Rate limit")


def server_error(status: int = 500) -> Reply:
    return Reply(status=status, error="The server had an error while processing your request.")


def http_error(status: int, message: str) -> Reply:
    return Reply(status=status, error=message)


def slow(seconds: float, then: Reply | None = None) -> Reply:
    base = then or auto()
    return Reply(**{**base.__dict__, "delay": seconds})


def hang() -> Reply:
    return Reply(hang=True)


def trickle(seconds_per_token: float, then: Reply | None = None) -> Reply:
    """Streamed one fake token (4 characters) every ``seconds_per_token``."""
    base = then or auto()
    return Reply(**{**base.__dict__, "token_delay": seconds_per_token})


def auto(*, per_student: int = 2, confidence: float = 0.9) -> Reply:
    """Valid proposals: for each student, ``per_student`` skills, quoting the evidence."""

    def make(body: dict[str, Any]) -> str:
        students, skills = schema_enums(body)
        text = evidence_of(body)
        items = []
        for s_index, student in enumerate(students):
            pool = own_lines(text, student) or sentences(text)
            for k in range(min(per_student, len(skills), len(pool))):
                quote = pool[k]
                skill = (
                    skill_for(quote, skills)
                    or skills[(len(quote) + s_index * 7 + k * 3) % len(skills)]
                )
                if any(i["skill_name"] == skill and i["student"] == student for i in items):
                    continue
                items.append(
                    {
                        "student": student,
                        "skill_name": skill,
                        "level": level_for(quote),
                        "confidence": confidence,
                        "justification": f"{student} shows this: the quoted words fit the level.",
                        "source_quote": quote,
                    }
                )
        return json.dumps({"proposals": items})

    return Reply(make=make)


# -- the server ------------------------------------------------------------------------------


def request_mode(body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    if body.get("tools"):
        return "tools"
    if fmt.get("type") in ("json_schema", "json_object"):
        return str(fmt["type"])
    return "text"


def prompt_tokens(body: dict[str, Any]) -> int:
    return sum(fake_tokens(str(m.get("content") or "")) + 4 for m in body.get("messages", []))


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client closed its connection (a cancel, a timeout, its pool closing)
        super().handle_error(request, client_address)


class FakeOpenAI:
    """The server. Thread-safe; start with ``with FakeOpenAI() as fake:``."""

    def __init__(
        self, *, latency: float = 0.0, default: Reply | None = None, server: Server = OPENAI
    ) -> None:
        self.latency = latency
        self.default = default or auto()
        self.server = server
        self.requests: list[Recorded] = []  # chat completions, the capability probe's excepted
        self.probes: list[Recorded] = []  # the capability probe's chat completions
        self.other: list[Recorded] = []  # everything else (metadata, tokenizer)
        self.max_in_flight = 0
        self.truncated = 0  # prompts cut to the context, as Ollama does silently
        self.disconnects = 0  # calls the client closed before the answer
        self.streams: list[tuple[int, int]] = []  # streamed replies: (chunks sent, of)
        self._in_flight = 0
        self._slots = threading.Semaphore(server.slots) if server.slots else None
        self._queues: dict[str | None, list[Reply]] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._counter = 0
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle --
    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # -- scripting --
    def script(self, *replies: Reply, match: str | None = None) -> None:
        with self._lock:
            self._queues.setdefault(match, []).extend(replies)

    def bodies(self) -> list[str]:
        with self._lock:
            return [r.body for r in self.requests]

    def _next_reply(self, body: str) -> Reply:
        with self._lock:
            for match, queue in self._queues.items():
                if match is not None and queue and match in body:
                    return queue.pop(0)
            unmatched = self._queues.get(None)
            if unmatched:
                return unmatched.pop(0)
            return self.default

    # -- HTTP --
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                with fake._lock:
                    fake.other.append(Recorded(self.path, dict(self.headers), "", {}, 0.0))
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, fake.server.models("fake-model"))
                    return
                found = fake.server.route("GET", self.path.rstrip("/"), {}, "fake-model")
                if found is None:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                else:
                    self._send(200, found)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode("utf-8")
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "invalid JSON body"}})
                    return
                record = Recorded(self.path, dict(self.headers), raw, body, time.monotonic())
                if self.path.rstrip("/") != "/v1/chat/completions":
                    with fake._lock:
                        fake.other.append(record)
                    found = fake.server.route("POST", self.path.rstrip("/"), body, "fake-model")
                    if found is None:
                        self._send(404, {"error": {"message": f"no route {self.path}"}})
                    else:
                        self._send(200, found)
                    return
                probe = is_probe(body)
                with fake._lock:
                    (fake.probes if probe else fake.requests).append(record)
                    fake._in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
                try:
                    if fake._slots is not None:
                        with fake._slots:  # a server with N slots works on N at a time
                            self._answer(raw, body, probe)
                    else:
                        self._answer(raw, body, probe)
                finally:
                    with fake._lock:
                        fake._in_flight -= 1

            def _wait_or_disconnect(self, seconds: float) -> bool:
                """Wait; True when the client closed the connection (or the server stops)."""
                deadline = time.monotonic() + seconds
                while not fake._closing.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    readable, _w, _x = select.select([self.connection], [], [], min(left, 0.2))
                    if not readable:
                        continue
                    try:
                        gone = self.connection.recv(1, socket.MSG_PEEK) == b""
                    except OSError:
                        gone = True
                    if gone:
                        with fake._lock:
                            fake.disconnects += 1
                        return True
                    time.sleep(min(left, 0.05))  # a pipelined request waits its turn
                return True

            def _answer(self, raw: str, body: dict[str, Any], probe: bool) -> None:
                server = fake.server
                mode = request_mode(body)
                if mode not in server.modes:
                    self._send(*server.refuse_mode(mode))
                    return
                fmt = body.get("response_format") or {}
                enforced = None
                if mode == "json_object" and "schema" in fmt:
                    if server.object_schema == "reject":
                        self._send(*server.refuse_object_schema())
                        return
                    if server.object_schema == "enforce":
                        enforced = fmt["schema"]
                streaming = bool(body.get("stream"))
                if streaming and "stream_options" in body and server.stream_options == "reject":
                    self._send(*server.refuse_stream_options())
                    return
                max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)
                tokens = prompt_tokens(body)
                refused = server.refuse_context(tokens, max_tokens)
                if refused is not None:
                    if streaming and server.name == "llama-cpp-python":
                        self._broken_stream()  # the ValueError is raised inside the stream
                    else:
                        self._send(*refused)
                    return
                if server.n_ctx is not None and tokens > server.n_ctx:
                    with fake._lock:
                        fake.truncated += 1  # Ollama: the start of the prompt is dropped
                reply = Reply(content='{"ok": true}') if probe else fake._next_reply(raw)
                if probe and enforced is not None:  # the grammar allows nothing else
                    reply = Reply(content=json.dumps(schema_instance(enforced)))
                if reply.hang:
                    self._wait_or_disconnect(30)
                    return
                if self._wait_or_disconnect(fake.latency + reply.delay):
                    return
                if reply.status != 200:
                    self._send(
                        reply.status,
                        {"error": {"message": reply.error, "type": "fake", "code": None}},
                        reply.headers,
                    )
                    return
                if server.strict_only and fmt.get("type") == "json_schema":
                    problems = strict_problems(fmt["json_schema"].get("schema"))
                    if not fmt["json_schema"].get("strict"):
                        problems.append("response_format must be a strict json_schema")
                    if problems:
                        self._send(400, {"error": {"message": "; ".join(problems)}})
                        return
                text = reply.make(body) if reply.make else reply.content
                finish = reply.finish_reason
                if enforced is not None and text is not None and finish != "length":
                    problems = _grammar_problems(text, enforced)
                    if problems:  # a test scripted what this server cannot produce
                        self._send(500, {"error": {"message": "fake: " + problems}})
                        return
                if text is not None and max_tokens and fake_tokens(text) > max_tokens:
                    text, finish = text[: max_tokens * 4], "length"  # the output limit
                message: dict[str, Any] = {
                    "role": "assistant",
                    "content": None if reply.refusal else text,
                    "refusal": reply.refusal,
                }
                if mode == "tools" and text is not None and not reply.refusal:
                    name = body["tools"][0]["function"]["name"]
                    message["content"] = None
                    message["tool_calls"] = [
                        {
                            "id": "call_fake",
                            "type": "function",
                            "function": {"name": name, "arguments": text},
                        }
                    ]
                    finish = "tool_calls" if finish == "stop" else finish
                elif mode == "text" and text is not None and not probe:
                    message["content"] = f"Here is the assessment:\n```json\n{text}\n```\n"
                with fake._lock:
                    fake._counter += 1
                    n = fake._counter
                out_tokens = fake_tokens(text or reply.refusal or "") + 1
                completion = {
                    "id": f"chatcmpl-fake-{n}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "system_fingerprint": None,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": finish,
                            "logprobs": None,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": tokens,
                        "completion_tokens": out_tokens,
                        "total_tokens": tokens + out_tokens,
                    },
                }
                if streaming:
                    usage = completion["usage"] if server.stream_options == "usage" else None
                    wants = (body.get("stream_options") or {}).get("include_usage")
                    self._stream(completion, usage if wants else None, reply)
                    return
                self._send(200, completion, reply.headers)

            def _broken_stream(self) -> None:
                """200 and the event-stream headers, then the connection ends: no event."""
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _stream(
                self, completion: dict[str, Any], usage: dict[str, Any] | None, reply: Reply
            ) -> None:
                """The completion as server-sent ``chat.completion.chunk`` events: the role,
                one fake token (4 characters) a chunk, the finish reason, usage when asked
                for and given, ``[DONE]``. Stops when the client goes (counted)."""
                message = completion["choices"][0]["message"]
                base = {k: completion[k] for k in ("id", "created", "model")}
                base |= {"object": "chat.completion.chunk", "system_fingerprint": None}

                def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
                    choice = {"index": 0, "delta": delta, "logprobs": None}
                    return {**base, "choices": [{**choice, "finish_reason": finish}]}

                def pieces(text: str) -> list[str]:
                    return [text[i : i + 4] for i in range(0, len(text), 4)]

                events = [chunk({"role": "assistant", "content": ""})]
                if message.get("tool_calls"):
                    call = message["tool_calls"][0]
                    head = {"index": 0, "id": call["id"], "type": "function"}
                    name = call["function"]["name"]
                    events.append(
                        chunk(
                            {"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]}
                        )
                    )
                    events += [
                        chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
                        for p in pieces(call["function"]["arguments"])
                    ]
                elif message.get("refusal"):
                    events += [chunk({"refusal": p}) for p in pieces(message["refusal"])]
                else:
                    events += [chunk({"content": p}) for p in pieces(message["content"] or "")]
                events.append(chunk({}, completion["choices"][0]["finish_reason"]))
                if usage is not None:
                    events.append({**base, "choices": [], "usage": usage})
                sent = 0
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                    self.send_header("Cache-Control", "no-store")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for event in [*events, "[DONE]"]:
                        if reply.cut_stream and sent == len(events) // 2:
                            break  # no terminating chunk: the body is incomplete
                        data = event if isinstance(event, str) else json.dumps(event)
                        self._chunk(f"data: {data}\n\n".encode())
                        sent += 1
                        if reply.token_delay and self._wait_or_disconnect(reply.token_delay):
                            break
                    else:
                        self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    with fake._lock:
                        fake.disconnects += 1
                with fake._lock:
                    fake.streams.append((sent, len(events) + 1))
                self.close_connection = sent < len(events) + 1

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _send(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout, cancel)

        return Handler


def _grammar_problems(text: str, schema: dict[str, Any]) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return "the scripted reply is not JSON, which a schema grammar cannot produce"
    problems = schema_problems(value, schema)
    return "; ".join(problems[:3]) and (
        "the scripted reply breaks the schema this server enforces: " + "; ".join(problems[:3])
    )


def main() -> None:
    """``python -m tests.support.fake_openai``: serve (auto replies) until interrupted."""
    with FakeOpenAI() as fake:
        print(f"fake OpenAI-compatible endpoint at {fake.base_url} (Ctrl-C stops it)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
