"""The one sync loop: the app and ``flourish sync --watch`` both run it.

A queue must never stall: :class:`SyncLoop` owns one :class:`~sync.replication.engine.SyncEngine`
and one background thread, and syncs

* when asked (:meth:`SyncLoop.request` — "Sync now", or a local change, usually with a
  short delay so that a burst of changes shares one round);
* after a failure that may pass, on its own, after :class:`~sync.replication.retry.Backoff`'s
  delay (5 s doubling to 5 min, ±20 % jitter), so a laptop that comes back online catches
  up without waiting for the next local write;
* every ``interval_s`` after a success, to bring other laptops' changes;
* at once when the service says something this teacher can see has changed (**live
  updates**): after a successful round through the service the loop keeps one
  :class:`~sync.replication.client.live.ChangeWatcher` long-polling it on a thread of its
  own; a failed round, a new sign-in or :meth:`SyncLoop.stop` ends it, the next success
  starts another, and the ``interval_s`` timer stays as the fallback.

**One retry policy** (:func:`outcome_of`): a :class:`~sync.errors.TransientError`
(unreachable, timeout, connection dropped) is *offline* and retried with backoff; a
rejected sign-in, an incompatible schema or wrong server settings *need attention* and wait
until the teacher acts (a new request or :meth:`SyncLoop.reconfigured`) — retrying them
only fills the log; a store with no server is *local only* and waits likewise; anything
else is an error, retried with backoff, with a fresh engine.

The loop reports a :class:`SyncStatus` through ``on_status`` and each finished round
through ``on_round``, both **called on the loop's thread** (or, for counts, on the thread
that called :meth:`SyncLoop.count_now`): a GUI hands them to its own thread (the desktop's
``desktop/syncui/worker.py`` does it with Qt signals). Thread rules: :meth:`start`,
:meth:`request`, :meth:`reconfigured`, :meth:`stop`, :meth:`status` and :meth:`count_now`
may be called from any thread and never block on a round; never touch the engine from
outside the loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sync.errors import (
    AuthError,
    ConfigurationError,
    FlourishError,
    SchemaVersionError,
    TransientError,
)
from sync.replication.client.live import ChangeWatcher, watcher_for
from sync.replication.client.pull import Cancelled
from sync.replication.engine import NotConfigured, SyncEngine, SyncReport
from sync.replication.retry import Backoff
from sync.replication.status import queue_status
from sync.replication.syncstatus import SyncState, SyncStatus, _utcnow, format_age
from sync.store.local import LocalStore
from sync.store.state import LAST_SYNC

__all__ = ["SyncLoop", "SyncState", "SyncStatus", "format_age", "outcome_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a failed round means for the loop: its state, its message and whether the
    loop retries on its own (with backoff) or waits to be asked."""

    state: SyncState
    message: str
    retry: bool
    fresh_engine: bool = False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 140 else text[:137] + "…"


def outcome_of(exc: BaseException) -> Outcome:
    """The retry policy, in one place (see the module docstring)."""
    if isinstance(exc, NotConfigured):
        return Outcome(SyncState.LOCAL_ONLY, "", retry=False, fresh_engine=True)
    if isinstance(exc, TransientError):
        return Outcome(SyncState.OFFLINE, _short(exc), retry=True)
    if isinstance(exc, SchemaVersionError):
        return Outcome(SyncState.NEEDS_ATTENTION, f"Update required: {_short(exc)}", False, True)
    if isinstance(exc, AuthError):
        return Outcome(SyncState.NEEDS_ATTENTION, f"Sign-in needed: {_short(exc)}", False, True)
    if isinstance(exc, ConfigurationError):
        message = f"Server settings wrong: {_short(exc)}"
        return Outcome(SyncState.NEEDS_ATTENTION, message, retry=False, fresh_engine=True)
    if isinstance(exc, FlourishError):
        return Outcome(SyncState.NEEDS_ATTENTION, _short(exc), retry=True, fresh_engine=True)
    return Outcome(SyncState.NEEDS_ATTENTION, f"unexpected: {_short(exc)}", True, True)


class SyncLoop:
    """Sync rounds on one background thread (see the module docstring)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        engine_factory: Callable[[LocalStore], SyncEngine] = SyncEngine.from_store,
        backoff: Backoff | None = None,
        interval_s: float = 180.0,
        on_status: Callable[[SyncStatus], Any] | None = None,
        on_round: Callable[[bool, str, SyncReport | None], Any] | None = None,
        live_updates: bool = True,
    ) -> None:
        self.store = store
        self.live_updates = live_updates
        self.watcher: ChangeWatcher | None = None  # set and cleared on the loop's thread
        self.engine_factory = engine_factory
        self.backoff = backoff or Backoff(base_s=5, cap_s=300, jitter=0.2)
        self.interval_s = interval_s
        self.on_status = on_status
        self.on_round = on_round
        self._cond = threading.Condition()
        self._due: float | None = 0.0  # monotonic time of the next round; None: when asked
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = SyncStatus()
        self._lock = threading.Lock()
        self.attempts = 0  # rounds started
        self.rounds = 0  # rounds finished, either way
        self.failures = 0
        self.configured: bool | None = None  # unknown until the first round

    # -- control (any thread) ------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._cancel.clear()
            self._thread = threading.Thread(target=self._run, name="flourish-sync", daemon=True)
            self._thread.start()

    def request(self, delay_s: float = 0.0, *, force: bool = True) -> None:
        """Sync in ``delay_s`` seconds (or sooner, if a round is already due sooner).

        With ``force=False`` (a local change) nothing happens while the loop waits for the
        teacher (local only, sign-in or update needed): the change stays queued.
        """
        if not force and self._status.state in (SyncState.LOCAL_ONLY, SyncState.NEEDS_ATTENTION):
            if not self._status.retrying:
                return
        with self._cond:
            due = time.monotonic() + max(0.0, delay_s)
            self._due = due if self._due is None else min(self._due, due)
            self._cond.notify_all()

    def reconfigured(self) -> None:
        """The server settings changed (a sign-in): forget the backoff and try now."""
        self._stop_watching(wait=False)
        self.configured = None
        self.backoff.reset()
        self.request()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to stop (a running pull stops at its next page); ``timeout``
        waits that long for the thread. Without it, :attr:`idle` tells when it has gone."""
        self._stop.set()
        self._cancel.set()
        with self._cond:
            self._cond.notify_all()
        self._stop_watching(wait=False)
        if timeout is not None and self._thread is not None:
            self._thread.join(timeout)

    @property
    def idle(self) -> bool:
        """No round is running and the threads have ended (after :meth:`stop`)."""
        watcher = self.watcher
        if watcher is not None and watcher.alive:
            return False
        return self._thread is None or not self._thread.is_alive()

    # -- live updates --------------------------------------------------------------------
    def _watch(self, engine: SyncEngine) -> None:
        """After a success: keep one watcher waiting on the service (loop thread)."""
        if not self.live_updates or self._stop.is_set():
            return
        watcher = self.watcher
        if watcher is not None and watcher.alive:
            return
        try:
            self.watcher = watcher_for(
                engine.url, engine.token, engine.ca_file, lambda: self.request(0.0)
            )
        except Exception:  # noqa: BLE001 - the timer still syncs; say why in the log
            log.exception("live updates could not start")
            self.watcher = None
        if self._stop.is_set():  # stop() ran meanwhile
            self._stop_watching(wait=False)

    def _stop_watching(self, *, wait: bool) -> None:
        watcher = self.watcher
        if watcher is not None:
            watcher.stop(timeout=5.0 if wait else None)

    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def count_now(self) -> SyncStatus:
        """Re-read the queue's counts (a SQLite read on the calling thread) and publish."""
        return self._publish(**self._counts())

    # -- the loop ------------------------------------------------------------------------
    def _counts(self) -> dict[str, Any]:
        try:
            q = queue_status(self.store)
        except FlourishError:
            return {}
        last = self.store.state(LAST_SYNC)
        counts: dict[str, Any] = {
            "pending": int(q["pending"]),
            "quarantined": int(q.get("quarantined", 0)),
            "oldest_pending_age_s": q.get("oldest_pending_age_s"),
            "conflicts": int(q.get("conflicts", 0)),
            "counted_at": _utcnow(),
        }
        if last:
            try:
                counts["last_sync"] = dt.datetime.fromisoformat(str(last).rstrip("Z"))
            except ValueError:
                pass
        return counts

    def _publish(self, **changes: Any) -> SyncStatus:
        with self._lock:
            self._status = replace(self._status, **changes)
            status = self._status
        if self.on_status is not None:
            self.on_status(status)
        return status

    def _wait(self) -> bool:
        """Wait until a round is due; False when stopping."""
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._due is not None and self._due <= now:
                    self._due = None
                    return True
                self._cond.wait(None if self._due is None else self._due - now)
        return False

    def _schedule(self, delay_s: float | None) -> None:
        with self._cond:
            self._due = None if delay_s is None else time.monotonic() + delay_s

    def _run(self) -> None:
        engine: SyncEngine | None = None
        try:
            while self._wait():
                self.attempts += 1
                self._publish(state=SyncState.SYNCING, progress=None, message="")
                try:
                    if engine is None:
                        engine = self.engine_factory(self.store)
                    report = engine.sync_once(progress=self._progress, cancel=self._cancel)
                except Cancelled:
                    break  # stop() was called in the middle of a pull
                except Exception as exc:  # noqa: BLE001 - every failure goes through the policy
                    engine = self._failed(exc, engine)
                    continue
                self._succeeded(report)
                self._watch(engine)
        finally:
            self._stop_watching(wait=True)
            if engine is not None:
                engine.close()

    def _progress(self, phase: str, done: int, total: int | None) -> None:
        self._publish(progress=(phase, done, total))

    def _succeeded(self, report: SyncReport) -> None:
        self.rounds += 1
        self.configured = True
        self.backoff.reset()
        self._schedule(self.interval_s)
        counts = self._counts()
        counts["last_sync"] = _utcnow()
        self._publish(state=SyncState.IDLE, progress=None, message="", next_retry_at=None, **counts)
        if self.on_round is not None:
            self.on_round(True, report.summary(), report)

    def _failed(self, exc: Exception, engine: SyncEngine | None) -> SyncEngine | None:
        outcome = outcome_of(exc)
        if not isinstance(exc, FlourishError):
            log.exception("sync failed unexpectedly")
        self.rounds += 1
        self.failures += 1
        self.configured = outcome.state is not SyncState.LOCAL_ONLY
        self._stop_watching(wait=False)  # it would fail too; the next success restarts it
        if outcome.fresh_engine and engine is not None:
            engine.close()
            engine = None
        retry_at = None
        if outcome.retry:
            delay = self.backoff.next_delay()
            self._schedule(delay)
            retry_at = _utcnow() + dt.timedelta(seconds=delay)
        else:
            self._schedule(None)
        self._publish(
            state=outcome.state,
            progress=None,
            message=outcome.message,
            next_retry_at=retry_at,
            **self._counts(),
        )
        if self.on_round is not None:
            text = outcome.message or "this laptop is not signed in to a server"
            self.on_round(False, text, None)
        return engine
