"""One HTTP call to the model, on a thread of its own that the worker can walk away from.

:func:`call_model` sends a prepared chat-completions payload through the real ``openai``
client (see :mod:`desktop.assess._client` for the retries around it). The call runs on a
daemon thread with an HTTP connection of its own; the worker waits for it, for the
``cancel`` event or for the call's deadline (``timeout_s`` for the whole reply, however
slowly the chunks trickle in), whichever comes first. Then that connection is closed, so a
streaming server sees the disconnect and stops generating; a late answer is discarded.

A streamed payload (``stream=True``) is added up chunk by chunk
(:class:`~desktop.assess._stream.Assembled`); a stream that breaks off, or ends without a
finish reason, raises :class:`Unfinished` saying whether any chunk had arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from desktop.assess._stream import Assembled, from_completion

__all__ = ["Cancelled", "Deadline", "Unfinished", "call_model"]

T = TypeVar("T")


class Cancelled(Exception):
    """The run was cancelled while this call was under way or waiting to retry."""


class Deadline(Exception):
    """The call took longer than the timeout (its connection is closed)."""


@dataclass(eq=False)
class Unfinished(Exception):
    """A streamed reply broke off or ended without a finish reason."""

    started: bool  # whether any chunk arrived
    detail: str


def call_model(
    client: Any, payload: dict[str, Any], timeout_s: float, cancel: threading.Event | None
) -> Assembled:
    """Send ``payload`` with ``client`` (an ``openai.OpenAI``) and return the reply added up.

    Raises :class:`Cancelled`, :class:`Deadline`, :class:`Unfinished` or the ``openai``
    client's own errors (status, connection, timeout).
    """
    if payload.get("stream"):
        return _abandonable(client, timeout_s, cancel, lambda c: _stream(c, payload))
    completion = _abandonable(
        client, timeout_s, cancel, lambda c: c.chat.completions.create(**payload)
    )
    return from_completion(completion)


def _abandonable(
    client: Any, timeout_s: float, cancel: threading.Event | None, fn: Callable[[Any], T]
) -> T:
    """Run ``fn(client)`` on a thread of its own with an HTTP connection of its own (see the
    module docstring)."""
    import openai

    http = openai.DefaultHttpxClient(timeout=timeout_s)
    own = client.with_options(http_client=http)
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn(own)
        except BaseException as exc:  # handed to the waiting worker
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="flourish-llm-call", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    try:
        while not done.wait(0.05):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if time.monotonic() > deadline:
                raise Deadline()
    finally:
        http.close()  # an abandoned call's connection closes: the server can stop
    if "error" in box:
        raise box["error"]
    return cast(T, box["value"])


def _stream(client: Any, payload: dict[str, Any]) -> Assembled:
    """Send ``payload`` with ``stream=True`` and add up the chunks (on the call thread)."""
    import httpx
    import openai

    got = Assembled()
    stream = client.chat.completions.create(**payload)  # a status error raises here
    try:
        for chunk in stream:
            got.add(chunk)
    except httpx.TimeoutException:
        raise Deadline() from None
    except (httpx.HTTPError, openai.APIError) as exc:  # broken off, or an error event
        raise Unfinished(got.started, f"{type(exc).__name__}: {str(exc)[:160]}") from None
    finally:
        stream.close()
    if got.finish_reason is None:
        raise Unfinished(got.started, "the stream ended without a finish reason")
    return got
