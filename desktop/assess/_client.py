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
connection error           no retry; the run stops sending (offline)           waiting
401, 403, 404              no retry; the run stops (key or model is wrong)     waiting
other 4xx                  no retry (but a 400 about ``temperature``: once     failed
                           more without it; one about ``response_format``:
                           the endpoint cannot do structured output, the run
                           stops)
refusal, content filter    no retry                                            waiting
=========================  ==================================================  ==========

Cancellation: with a ``cancel`` event, the HTTP call runs on a daemon thread and the worker
waits for it or for the event, whichever comes first; a cancelled call is abandoned (its
late answer is discarded, it writes nothing). Retry waits are ``cancel.wait(delay)``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from desktop.assess._settings import AssessmentSettings

if TYPE_CHECKING:  # the openai package takes most of a second to import: only when calling
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

__all__ = ["Attempt", "CallFailed", "Cancelled", "LLMClient", "Reply"]

log = logging.getLogger("desktop.assess")
T = TypeVar("T")

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


class Cancelled(Exception):
    """The run was cancelled while this call was under way or waiting to retry."""


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
    """One per run; shared by its worker threads (the ``openai`` client is thread-safe)."""

    def __init__(self, settings: AssessmentSettings, cancel: threading.Event | None) -> None:
        self.settings = settings
        self.cancel = cancel
        self.host = urlsplit(settings.endpoint).netloc or settings.endpoint
        import openai

        self.client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            max_retries=0,
            timeout=settings.timeout_s,
        )
        self._temperature = True

    def close(self) -> None:
        self.client.close()

    def _sleep(self, seconds: float) -> None:
        if self.cancel is None:
            time.sleep(seconds)
        elif self.cancel.wait(seconds):
            raise Cancelled()

    def _abandonable(self, fn: Callable[[], T]) -> T:
        if self.cancel is None:
            return fn()
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed to the waiting worker
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="flourish-llm-call", daemon=True).start()
        while not done.wait(0.05):
            if self.cancel.is_set():
                raise Cancelled()
        if "error" in box:
            raise box["error"]
        return cast(T, box["value"])

    def _create(
        self, messages: list[ChatCompletionMessageParam], response_format: Any
    ) -> ChatCompletion:
        if self._temperature:
            return self.client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                response_format=response_format,
                temperature=0,
            )
        return self.client.chat.completions.create(
            model=self.settings.model, messages=messages, response_format=response_format
        )

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

    def complete(
        self,
        messages: list[ChatCompletionMessageParam],
        schema: dict[str, Any],
        attempts: list[Attempt],
    ) -> Reply:
        """One reply, after retries; appends every HTTP attempt to ``attempts``."""
        import openai

        response_format: Any = {
            "type": "json_schema",
            "json_schema": {"name": "skill_assessment", "strict": True, "schema": schema},
        }
        for retry in range(MAX_RETRIES + 1):
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled()
            started, clock = _now(), time.monotonic()

            def elapsed() -> int:
                return int((time.monotonic() - clock) * 1000)  # noqa: B023

            try:
                completion = self._abandonable(
                    lambda: self._create(messages, response_format)  # noqa: B023
                )
            except Cancelled:
                attempts.append(Attempt(started, elapsed(), "cancelled"))
                raise
            except openai.APITimeoutError:
                attempts.append(Attempt(started, elapsed(), "timeout"))
                raise CallFailed(
                    f"timed out after {self.settings.timeout_s:g} s waiting for the model"
                ) from None
            except openai.APIConnectionError as exc:
                attempts.append(Attempt(started, elapsed(), "offline", detail=str(exc)[:200]))
                raise CallFailed(f"offline: cannot reach {self.host}", stop_run=True) from None
            except openai.APIStatusError as exc:
                status = exc.status_code
                retryable = status in _RETRY_STATUS or status >= 500
                kind = "rate_limited" if status == 429 else "server_error"
                detail = f"{status} {str(exc.message)[:160]}"
                attempts.append(
                    Attempt(started, elapsed(), kind if retryable else "rejected", detail=detail)
                )
                delay = self._after_status(exc, retry)
                log.info("model call %s; trying again in %.2f s", detail, delay)
                self._sleep(delay)
                continue
            usage = completion.usage
            tokens_in = usage.prompt_tokens if usage else 0
            tokens_out = usage.completion_tokens if usage else 0
            choice = completion.choices[0] if completion.choices else None
            refusal = choice.message.refusal if choice else None
            if choice is None or refusal or choice.finish_reason == "content_filter":
                reason = refusal or ("content filter" if choice else "no choices in the reply")
                attempts.append(
                    Attempt(started, elapsed(), "refused", tokens_in, tokens_out, reason[:200])
                )
                raise CallFailed(f"the model refused: {reason[:160]}")
            attempts.append(Attempt(started, elapsed(), "ok", tokens_in, tokens_out))
            return Reply(
                content=choice.message.content,
                finish_reason=str(choice.finish_reason),
                response_id=completion.id,
                model=completion.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
            )
        raise AssertionError("unreachable")  # pragma: no cover
