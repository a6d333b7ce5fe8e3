"""Retry timing for a queue that must never stall: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """``base_s * 2**n`` seconds, capped at ``cap_s``, spread by ``±jitter`` (a fraction).

    Call :meth:`next_delay` after each failure and :meth:`reset` after a success. The
    jitter keeps a classroom of laptops that lost the network together from all knocking
    at the server in the same second when it comes back.
    """

    base_s: float = 5.0
    cap_s: float = 300.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        raw = min(self.cap_s, self.base_s * (2 ** min(self.failures, 30)))
        self.failures += 1
        spread = raw * self.jitter
        return float(max(0.0, raw + self.rng.uniform(-spread, spread)))

    def reset(self) -> None:
        self.failures = 0
