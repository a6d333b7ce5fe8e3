"""A sync loop that never lets the queue stall: retries on a timer, with backoff and jitter.

:class:`SyncLoop` owns one :class:`~sync.replication.engine.SyncEngine` and one background thread.
It syncs when asked (:meth:`request` — e.g. right after a local change), and on its own
when the last attempt failed: the next try comes after :class:`~sync.replication.retry.Backoff`'s
delay, so a laptop that comes back online catches up without waiting for the next local
write. After a success it also syncs every ``interval_s`` to bring other laptops' changes.

It reports through plain callbacks (called on the loop's thread; a GUI must hand them over
to its own thread — ``desktop/syncui/worker.py`` does that with Qt signals). ``flourish sync
--watch`` runs it headless. Thread rules: call :meth:`request`, :meth:`stop` and
:meth:`status` from any thread; never touch the engine from outside the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sync.errors import FlourishError, TransientError
from sync.replication.engine import NotConfigured, SyncEngine, SyncReport
from sync.replication.pull import Cancelled
from sync.replication.retry import Backoff
from sync.replication.status import queue_status
from sync.store.local import LocalStore

__all__ = ["SyncLoop", "SyncStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncStatus:
    state: str  # idle | syncing | offline | error | not_configured
    pending: int = 0
    quarantined: int = 0
    oldest_pending_age_s: float | None = None
    conflicts: int = 0
    last_success: float | None = None  # time.time() of the last complete sync
    last_error: str | None = None
    next_attempt_in_s: float | None = None
    phase: str | None = None
    done: int = 0
    total: int | None = None


class SyncLoop:
    def __init__(
        self,
        store: LocalStore,
        *,
        engine_factory: Callable[[LocalStore], SyncEngine] = SyncEngine.from_store,
        backoff: Backoff | None = None,
        interval_s: float = 120.0,
        on_status: Callable[[SyncStatus], Any] | None = None,
        on_report: Callable[[SyncReport], Any] | None = None,
    ) -> None:
        self.store = store
        self.engine_factory = engine_factory
        self.backoff = backoff or Backoff()
        self.interval_s = interval_s
        self.on_status = on_status
        self.on_report = on_report
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = SyncStatus(state="idle")
        self._lock = threading.Lock()
        self.attempts = 0

    # -- control (any thread) ------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="flourish-sync", daemon=True)
            self._thread.start()

    def request(self) -> None:
        """Sync soon (a local change was made, or the user asked)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    # -- the loop ------------------------------------------------------------------------
    def _publish(self, **changes: Any) -> None:
        try:
            queue = queue_status(self.store)
        except FlourishError:
            queue = {}
        with self._lock:
            self._status = replace(self._status, **queue, **changes)
            status = self._status
        if self.on_status is not None:
            self.on_status(status)

    def _run(self) -> None:
        engine: SyncEngine | None = None
        delay: float | None = 0.0  # sync right away on start
        try:
            while not self._stop.is_set():
                if delay is None or delay > 0:
                    self._wake.wait(timeout=delay)
                self._wake.clear()
                if self._stop.is_set():
                    break
                self.attempts += 1
                try:
                    if engine is None:
                        engine = self.engine_factory(self.store)
                    self._publish(
                        state="syncing", phase=None, done=0, total=None, next_attempt_in_s=None
                    )
                    report = engine.sync_once(
                        progress=lambda phase, done, total: self._publish(
                            state="syncing", phase=phase, done=done, total=total
                        ),
                        cancel=self._cancel,
                    )
                except Cancelled:
                    break  # stop() was called in the middle of a pull
                except NotConfigured as exc:
                    self._publish(state="not_configured", last_error=str(exc))
                    delay = None  # wait until asked again
                    continue
                except TransientError as exc:
                    delay = self.backoff.next_delay()
                    self._publish(state="offline", last_error=str(exc), next_attempt_in_s=delay)
                    continue
                except FlourishError as exc:
                    delay = self.backoff.next_delay()
                    self._publish(state="error", last_error=str(exc), next_attempt_in_s=delay)
                    if engine is not None:
                        engine.close()
                        engine = None
                    continue
                except Exception as exc:  # never let the loop die silently
                    log.exception("sync failed unexpectedly")
                    delay = self.backoff.next_delay()
                    self._publish(
                        state="error", last_error=f"unexpected: {exc}", next_attempt_in_s=delay
                    )
                    continue
                self.backoff.reset()
                delay = self.interval_s
                self._publish(
                    state="idle",
                    last_success=time.time(),
                    last_error=None,
                    phase=None,
                    next_attempt_in_s=delay,
                )
                if self.on_report is not None:
                    self.on_report(report)
        finally:
            if engine is not None:
                engine.close()
