"""Limits the service applies before a handler runs: request size, request rate, sign-ins.

* Bodies over :data:`MAX_BODY_BYTES` are refused with 413 (by ``Content-Length``, and
  while reading when a client sends more than it announced or streams it chunked).
* Every signed-in request is counted against its device token in a token bucket
  (:class:`DeviceRate`: ``burst`` requests at once, refilled at ``per_second``); over it
  the answer is 429 with ``Retry-After`` before the database is touched.
* Sign-in attempts are counted per login and per client address in a sliding minute;
  over the limit the answer is 429 with ``Retry-After`` — password guessing costs time.

The counts live in the process: each process behind a load balancer counts its own, so a
device spread over N processes may send up to N times the limit (a load balancer with
sticky connections, or fewer processes, tightens it).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "AttemptLimiter", "BodyLimit", "DeviceRate", "Limits"]

MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request and one device may ask of the service (``flourish server serve``).

    ``device_per_second``/``device_burst``: the token bucket of each device token;
    ``batch_ops``/``batch_bytes``: the operations of one push and their payloads' total
    size (the laptop splits its queue below both); ``login_per_minute``: sign-in attempts
    per login (twenty times that per client address)."""

    device_per_second: float = 20.0
    device_burst: int = 120
    batch_ops: int = 2000
    batch_bytes: int = 4 * 1024 * 1024
    login_per_minute: int = 10


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


class DeviceRate:
    """A token bucket per device token: ``burst`` requests at once, ``per_second`` after.

    Keys are the SHA-256 of the token (the limiter keeps no token). Unknown tokens get a
    bucket too, so a flood of forged tokens is limited by the sign-in check's own cost
    and by the memory bound below, not by this limiter."""

    def __init__(self, per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("the device rate needs per_second > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = float(burst)
        self._buckets: dict[bytes, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, token: str) -> float | None:
        """Spend one request of ``token``'s bucket; None, or the seconds until one is back."""
        key = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > 200_000:  # bounded memory: forget the full buckets
                full = now - self.burst / self.per_second
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > full}
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.per_second
            self._buckets[key] = (tokens - 1.0, now)
        return None
