"""Background operations: slow work off the GUI thread, results back on it.

Modelled on Anki's ``QueryOp``: the GUI creates an operation with a function to run in the
background and callbacks for success and failure; the callbacks run on the GUI thread. The
background function must never touch a widget; it gets no Qt objects, only its arguments.

Database reads and writes go through one :class:`TaskRunner` per window. Writes are
serialised by the store itself (one writer), reads run concurrently.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

__all__ = ["TaskRunner"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object, str)


class _Job(QRunnable, Generic[T]):
    def __init__(self, fn: Callable[[], T], signals: _Signals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # reported on the GUI thread, never swallowed
            self.signals.failed.emit(exc, traceback.format_exc())
        else:
            self.signals.done.emit(result)


class TaskRunner(QObject):
    """Runs callables on a thread pool and calls back on the GUI thread."""

    error = Signal(str)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._live: set[_Signals] = set()

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        signals = _Signals()  # lives on the GUI thread: its slots run there
        self._live.add(signals)

        def finished(result: object) -> None:
            self._live.discard(signals)
            if on_done is not None:
                on_done(result)  # type: ignore[arg-type]

        def failed(exc: object, trace: str) -> None:
            self._live.discard(signals)
            log.error("background task failed: %s\n%s", exc, trace)
            if on_error is not None:
                on_error(exc)  # type: ignore[arg-type]
            else:
                self.error.emit(str(exc))

        signals.done.connect(finished)
        signals.failed.connect(failed)
        self.pool.start(_Job(fn, signals))

    def wait(self, msecs: int = 10_000) -> bool:
        return bool(self.pool.waitForDone(msecs))
