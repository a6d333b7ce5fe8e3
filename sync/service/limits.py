"""Limits the service applies before a handler runs: request size and sign-in attempts.

* Bodies over :data:`MAX_BODY_BYTES` are refused with 413 (by ``Content-Length``, and
  while reading when a client sends more than it announced or streams it chunked).
* Sign-in attempts are counted per login and per client address in a sliding minute;
  over the limit the answer is 429 with ``Retry-After`` — password guessing costs time.
  The counts live in the process (each process behind a load balancer counts its own).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "AttemptLimiter", "BodyLimit"]

MAX_BODY_BYTES = 8 * 1024 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes with a JSON 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"error": f"request body over {self.limit} bytes", "code": "too_large"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AttemptLimiter:
    """At most ``limit`` attempts per key in a sliding ``window`` of seconds."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> float | None:
        """Count an attempt for every key; seconds to wait if any is over, else None."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            if len(self._seen) > 100_000:  # bounded memory under a flood of new keys
                self._seen.clear()
            for key in keys:
                times = self._seen.setdefault(key, deque())
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.limit:
                    wait = max(wait, times[0] + self.window - now)
                else:
                    times.append(now)
        return wait if wait > 0 else None
