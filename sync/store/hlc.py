"""Hybrid logical clock timestamps, packed in one 64-bit integer.

``hlc = physical_milliseconds << 16 | counter``. Comparing two packed values compares
physical time first and the counter second, which is all timestamp-wins needs; ties between
devices are broken by the writing device number (``sync_origin``).

:func:`advance` is the clock's one rule: a new stamp is greater than every stamp this
device has issued or seen, and never behind the (offset-corrected) wall clock.
"""

from __future__ import annotations

import datetime as dt
import time

__all__ = [
    "COUNTER_BITS",
    "advance",
    "from_millis",
    "now_millis",
    "physical_millis",
    "to_datetime",
]

COUNTER_BITS = 16


def now_millis() -> int:
    return time.time_ns() // 1_000_000


def from_millis(ms: int) -> int:
    return ms << COUNTER_BITS


def physical_millis(hlc: int) -> int:
    return hlc >> COUNTER_BITS


def to_datetime(hlc: int) -> dt.datetime:
    """The physical part as a UTC datetime (for display and logs)."""
    return dt.datetime.fromtimestamp(physical_millis(hlc) / 1000, tz=dt.UTC)


def advance(last: int, *, wall_ms: int | None = None, offset_ms: int = 0) -> int:
    """Next stamp after ``last`` given the wall clock corrected by ``offset_ms``."""
    physical = from_millis((now_millis() if wall_ms is None else wall_ms) + offset_ms)
    return max(physical, last + 1)
