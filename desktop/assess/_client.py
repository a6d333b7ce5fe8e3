"""One chat-completions call, the way a classroom laptop needs it.

The real ``openai`` client talks to any OpenAI-compatible endpoint (``base_url``). Its own
retries are switched off (``max_retries=0``) and this module retries instead, so that every
attempt is recorded (``llm_calls``), waiting can be cancelled, and a long ``Retry-After``
sends the entry back to the queue instead of blocking a worker:

=========================  ==================================================  ==========
what happened              what we do                                          entry
=========================  ==================================================  ==========
429, 408, 409, 5xx         retry up to 3 times; wait ``Retry-After`` (or       waiting if
                           ``retry-after-ms``) when given, else 0.5 s, 1 s,    retries run
                           2 s (+-25 % jitter); a wait over 30 s is not        out
                           waited for: the entry waits until then
timeout                    no retry (a slow model would be slow again)         waiting
stream broke off           retry like a 5xx; a stream that ends before its     waiting if
                           first chunk is sent once more without streaming     retries run
                           (llama-cpp-python refuses a too-long prompt so)     out
``stream_options`` refused  once more at once without it, and remember it      —
connection error           no retry; the run stops sending (offline)           waiting
401, 403, 404              no retry; the run stops (key or model is wrong)     waiting
output mode unsupported    a 400/422/500/501 naming the mode's feature         —
                           (``json_schema``, ``json_object``, tools): switch
                           to the next mode at once and remember it; none
                           left: the run stops, naming endpoint and feature
context exceeded           the reply names the context length: remember it;    —
                           the caller rebuilds the request to fit (once)
other 4xx                  no retry (but a 400 about ``temperature`` or        failed
                           ``max_tokens``: once more without it / with
                           ``max_completion_tokens``)
refusal, content filter    no retry                                            waiting
=========================  ==================================================  ==========

Output modes (see :mod:`desktop.assess._capabilities`): ``json_schema`` sends the strict
schema as ``response_format``; ``json_object_schema`` sends JSON mode with the schema in
``response_format.schema`` (llama-cpp-python and llama.cpp constrain the output to it by
grammar; the schema then also bounds the list and the strings, see
:func:`~desktop.assess._prompts.bounded_schema`); ``json_object`` sends JSON mode and the
schema in the prompt;
``tools`` forces a call of one function whose parameters are the schema (its arguments are
the reply); ``text`` sends the schema in the prompt only. Every call carries an output limit
(``max_tokens``). The reply is validated the same way in every mode.

Streaming and cancellation: every call streams (``stream=True``, and ``stream_options:
{"include_usage": true}`` unless the server refused it) and runs on a daemon thread with its
own HTTP connection; the worker waits for it, for the ``cancel`` event or for the call's
deadline (``timeout_s`` for the whole reply), whichever comes first. A cancelled or timed-out
call's connection is closed: llama.cpp, Ollama and vLLM stop generating when the client goes,
and llama-cpp-python checks for the disconnect after every streamed chunk (not while it
reads the prompt; a non-streamed reply it would finish). Its late answer is discarded; it
writes nothing (the call thread: :mod:`desktop.assess._transport`). The chunks are added up
(:mod:`desktop.assess._stream`) into exactly the text a non-streamed reply carries, so
validation is the same. Retry waits are ``cancel.wait(delay)``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from desktop.assess._capabilities import (
    SAFE_CHARS_PER_TOKEN,
    SCHEMA_MODES,
    Capabilities,
    context_from_error,
    unsupported_feature,
)
from desktop.assess._prompts import bounded_schema
from desktop.assess._settings import DEFAULT_MAX_TOKENS, DEFAULT_TIMEOUT_S, AssessmentSettings
from desktop.assess._stream import estimate_prompt_tokens
from desktop.assess._transport import Cancelled, Deadline, Unfinished, call_model

if TYPE_CHECKING:  # the openai package takes most of a second to import: only when calling
    import openai
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["Attempt", "CallFailed", "Cancelled", "ContextExceeded", "LLMClient", "Reply"]

log = logging.getLogger("desktop.assess")

MAX_RETRIES = 3
MAX_INLINE_WAIT_S = 30.0
_RETRY_STATUS = {408, 409, 429}
_STOP_STATUS = {401, 403, 404}


@dataclass(frozen=True)
class Attempt:
    """One HTTP request to the model (a row of ``llm_calls``)."""

    started_at: dt.datetime
    duration_ms: int
    outcome: str  # ok, rate_limited, server_error, timeout, offline, refused, rejected, cancelled
    tokens_in: int = 0
    tokens_out: int = 0
    detail: str | None = None


@dataclass(frozen=True)
class Reply:
    content: str | None
    finish_reason: str
    response_id: str
    model: str
    tokens_in: int
    tokens_out: int
    mode: str = "json_schema"


@dataclass(eq=False)
class ContextExceeded(Exception):
    """The prompt did not fit; ``context_tokens`` is what the server said it has (if it did)."""

    context_tokens: int | None
    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass(eq=False)
class CallFailed(Exception):
    """The call produced no usable reply; the entry goes to ``status`` with ``reason``."""

    reason: str
    status: Literal["waiting", "failed"] = "waiting"
    retry_after_s: float | None = None
    stop_run: bool = False  # every other call would fail the same way

    def __str__(self) -> str:
        return self.reason


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


class LLMClient:
    """One per run; shared by its worker threads (the ``openai`` client is thread-safe).

    ``caps`` is the endpoint's remembered capabilities; when a call teaches something new (a
    mode refused, the context length) the client updates them and calls ``on_caps``.
    """

    def __init__(
        self,
        settings: AssessmentSettings,
        cancel: threading.Event | None,
        caps: Capabilities | None = None,
        on_caps: Callable[[Capabilities], None] | None = None,
    ) -> None:
        self.settings = settings
        self.cancel = cancel
        self.host = urlsplit(settings.endpoint).netloc or settings.endpoint
        self.caps = caps or Capabilities(settings.endpoint, settings.model)
        self.on_caps = on_caps
        self.timeout_s = settings.timeout_s or DEFAULT_TIMEOUT_S
        self.max_tokens = settings.max_tokens or DEFAULT_MAX_TOKENS
        import openai

        self.client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            max_retries=0,
            timeout=self.timeout_s,
        )
        self._temperature = True
        self._limit_name = "max_tokens"
        self._lock = threading.Lock()
        self.schema_prompt: Callable[[dict[str, Any]], str] | None = None

    @property
    def mode(self) -> str:
        return self.caps.mode

    def close(self) -> None:
        self.client.close()

    def _sleep(self, seconds: float) -> None:
        if self.cancel is None:
            time.sleep(seconds)
        elif self.cancel.wait(seconds):
            raise Cancelled()

    def _payload(
        self,
        messages: list[ChatCompletionMessageParam],
        schema: dict[str, Any],
        mode: str,
        stream: bool = True,
    ) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.settings.model, self._limit_name: self.max_tokens}
        if self._temperature:
            kw["temperature"] = 0
        if stream:
            kw["stream"] = True
            if self.caps.stream_options:
                kw["stream_options"] = {"include_usage": True}
        if mode not in SCHEMA_MODES and self.schema_prompt is not None:
            extra = self.schema_prompt(schema)
            last = dict(messages[-1])
            last["content"] = f"{last['content']}\n\n{extra}"
            messages = [*messages[:-1], cast("ChatCompletionMessageParam", last)]
        kw["messages"] = messages
        if mode == "json_schema":
            kw["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "skill_assessment", "strict": True, "schema": schema},
            }
        elif mode == "json_object_schema":  # llama-cpp-python, llama.cpp: a grammar
            kw["response_format"] = {"type": "json_object", "schema": bounded_schema(schema)}
        elif mode == "json_object":
            kw["response_format"] = {"type": "json_object"}
        elif mode == "tools":
            kw["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": "skill_assessment",
                        "description": "Record the proposals for this evidence entry.",
                        "parameters": schema,
                    },
                }
            ]
            kw["tool_choice"] = {"type": "function", "function": {"name": "skill_assessment"}}
        return kw

    def _downgrade(self, mode: str, detail: str) -> None:
        """The endpoint refused ``mode``: use the next one (or stop the run)."""
        with self._lock:
            if self.caps.mode != mode:
                return  # another worker already switched
            self.caps = self.caps.without(mode, f"{mode}: {detail[:200]}")
            caps = self.caps
        log.warning("%s does not support output mode %s; now %s", self.host, mode, caps.mode)
        if self.on_caps is not None:
            self.on_caps(caps)
        if not caps.modes:
            raise CallFailed(
                f"{self.host} (model {self.settings.model!r}) supports none of the output modes "
                f"Flourish can use (last refused: {mode}: {detail[:120]}); use a server with "
                "JSON output or plain chat completions, or another model",
                stop_run=True,
            )

    def _learn_context(self, context: int) -> None:
        with self._lock:
            if self.caps.context_tokens == context:
                return
            self.caps = replace(self.caps, context_tokens=context)
            caps = self.caps
        if self.on_caps is not None:
            self.on_caps(caps)

    def _after_status(self, exc: openai.APIStatusError, retry: int) -> float:
        """The delay before the next try, or raise CallFailed."""
        status = exc.status_code
        message = f"{status} {str(exc.message)[:160]}"
        wait = retry_after(exc.response.headers)
        if status in _RETRY_STATUS or status >= 500:
            if wait is not None and wait > MAX_INLINE_WAIT_S:
                raise CallFailed(
                    f"the endpoint asked to wait {wait:.0f} s ({message})",
                    retry_after_s=wait,
                    stop_run=status == 429,
                )
            if retry == MAX_RETRIES:
                raise CallFailed(
                    f"gave up after {MAX_RETRIES + 1} tries ({message})", retry_after_s=wait
                )
            return wait if wait is not None else 0.5 * 2**retry * (1 - 0.25 * random.random())
        if status == 400 and self._temperature and "temperature" in message.lower():
            self._temperature = False  # some models only take their default temperature
            return 0.0
        if status == 400 and self._limit_name == "max_tokens" and "max_tokens" in message:
            if "max_completion_tokens" in message:  # newer OpenAI models renamed it
                self._limit_name = "max_completion_tokens"
                return 0.0
        if status in _STOP_STATUS:
            what = "the API key" if status in (401, 403) else f"model {self.settings.model!r}"
            raise CallFailed(
                f"the endpoint rejected {what} ({message}): check the AI settings",
                stop_run=True,
            )
        unsupported = "response_format" in message or "json_schema" in message
        raise CallFailed(
            f"the endpoint rejected the request ({message})", status="failed", stop_run=unsupported
        )

    def _forget_stream_options(self) -> None:
        with self._lock:
            if not self.caps.stream_options:
                return
            self.caps = replace(self.caps, stream_options=False)
            caps = self.caps
        log.info("%s refuses stream_options; token counts are estimated", self.host)
        if self.on_caps is not None:
            self.on_caps(caps)

    def complete(
        self,
        messages: list[ChatCompletionMessageParam],
        schema: dict[str, Any],
        attempts: list[Attempt],
    ) -> Reply:
        """One reply, after retries; appends every HTTP attempt to ``attempts``.

        The reply streams; a stream that ends before its first chunk (llama-cpp-python's way
        of refusing a prompt beyond its context while streaming) is asked once more without
        streaming, which gets the server's refusal as a status and body.

        Raises :class:`CallFailed`, :class:`Cancelled` or :class:`ContextExceeded`.
        """
        import openai

        retry = 0
        stream = True
        while True:
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled()
            mode = self.mode
            payload = self._payload(messages, schema, mode, stream)
            started, clock = _now(), time.monotonic()

            def elapsed() -> int:
                return int((time.monotonic() - clock) * 1000)  # noqa: B023

            try:
                got = call_model(self.client, payload, self.timeout_s, self.cancel)
            except Cancelled:
                attempts.append(Attempt(started, elapsed(), "cancelled"))
                raise
            except (Deadline, openai.APITimeoutError):
                attempts.append(Attempt(started, elapsed(), "timeout"))
                raise CallFailed(
                    f"timed out after {self.timeout_s:g} s waiting for the model at {self.host} "
                    "(a slow server needs a longer timeout: AI settings or FLOURISH_AI_TIMEOUT)"
                ) from None
            except openai.APIConnectionError as exc:
                attempts.append(Attempt(started, elapsed(), "offline", detail=str(exc)[:200]))
                raise CallFailed(f"offline: cannot reach {self.host}", stop_run=True) from None
            except Unfinished as exc:
                detail = f"the streamed reply broke off: {exc.detail}"
                attempts.append(Attempt(started, elapsed(), "server_error", detail=detail[:200]))
                if stream and not exc.started:
                    stream = False  # once without streaming: the server says what is wrong
                    continue
                if retry == MAX_RETRIES:
                    raise CallFailed(f"gave up after {MAX_RETRIES + 1} tries ({detail})") from None
                retry += 1
                self._sleep(0.5 * 2**retry)
                continue
            except openai.APIStatusError as exc:
                status = exc.status_code
                retryable = status in _RETRY_STATUS or status >= 500
                kind = "rate_limited" if status == 429 else "server_error"
                text = str(exc.message)
                detail = f"{status} {text[:160]}"
                if (
                    status in (400, 422)
                    and "stream_options" in text
                    and "stream_options" in (payload)
                ):
                    attempts.append(Attempt(started, elapsed(), "rejected", detail=detail))
                    self._forget_stream_options()
                    continue  # at once, without it; not a retry
                if unsupported_feature(mode, status, text):
                    attempts.append(Attempt(started, elapsed(), "rejected", detail=detail))
                    self._downgrade(mode, text)
                    continue  # at once, in the next mode; not a retry
                context = context_from_error(text)
                if status in (400, 413, 422, 500) and (
                    context is not None or "context" in text.lower() and "exceed" in text.lower()
                ):
                    attempts.append(Attempt(started, elapsed(), "rejected", detail=detail))
                    if context is not None:
                        self._learn_context(context)
                    raise ContextExceeded(context, detail) from None
                attempts.append(
                    Attempt(started, elapsed(), kind if retryable else "rejected", detail=detail)
                )
                delay = self._after_status(exc, retry)
                retry += 1
                log.info("model call %s; trying again in %.2f s", detail, delay)
                self._sleep(delay)
                continue
            estimated = got.prompt_tokens is None
            ratio = self.caps.chars_per_token or SAFE_CHARS_PER_TOKEN
            tokens_in = (
                estimate_prompt_tokens(list(payload["messages"]), ratio)
                if got.prompt_tokens is None
                else got.prompt_tokens
            )
            tokens_out = got.chunks if got.completion_tokens is None else got.completion_tokens
            note = "usage estimated (the server sent none)" if estimated else None
            refusal = got.refusal_text
            if refusal or got.finish_reason == "content_filter":
                reason = refusal or "content filter"
                attempts.append(
                    Attempt(started, elapsed(), "refused", tokens_in, tokens_out, reason[:200])
                )
                raise CallFailed(f"the model refused: {reason[:160]}")
            content = got.text
            if mode == "tools":
                content = got.tool_arguments if got.tool_called else content
            attempts.append(Attempt(started, elapsed(), "ok", tokens_in, tokens_out, note))
            return Reply(
                content=content,
                finish_reason=str(got.finish_reason),
                response_id=got.id,
                model=got.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                mode=mode,
            )
