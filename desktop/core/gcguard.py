"""Python's cyclic garbage collection on the GUI thread only (as Anki's ``aqt`` does).

The collector runs in whichever thread happens to allocate when a threshold is crossed.
If that is a worker thread and the garbage holds a Python-owned Qt object (a dialog in a
reference cycle with its callbacks, say), Qt destroys that object on the wrong thread and
the process crashes. While at least one :class:`~desktop.core.tasks.TaskRunner` is alive,
automatic collection is off and a timer on the GUI thread collects instead, generation by
generation when the usual thresholds are crossed. Reference counting (which frees almost
everything) is unaffected.

GUI thread only: :func:`acquire` and :func:`release` must be called there.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

__all__ = ["acquire", "collect_if_needed", "release"]

_INTERVAL_MS = 1000


class _Collector(QObject):
    def __init__(self) -> None:
        super().__init__(QCoreApplication.instance())
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(_INTERVAL_MS)
        self.timer.timeout.connect(collect_if_needed)
        self.timer.start()


_users = 0
_collector: _Collector | None = None


def collect_if_needed() -> int:
    """Collect the generations whose counts crossed their thresholds (GUI thread)."""
    t0, t1, t2 = gc.get_threshold() if _collector is None else _collector.thresholds
    c0, c1, c2 = gc.get_count()
    if c0 <= t0:
        return 0
    found = gc.collect(0)
    if c1 > t1:
        found += gc.collect(1)
        if c2 > t2:
            found += gc.collect(2)
    return found


def acquire() -> None:
    global _users, _collector
    _users += 1
    if _users == 1:
        gc.disable()
        if _collector is None and QCoreApplication.instance() is not None:
            _collector = _Collector()
        elif _collector is not None:
            _collector.timer.start()


def release() -> None:
    global _users
    _users = max(0, _users - 1)
    if _users == 0:
        if _collector is not None:
            _collector.timer.stop()
        gc.collect()
        gc.enable()
