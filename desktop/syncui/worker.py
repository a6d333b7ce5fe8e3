"""The Qt side of sync: rounds of ``SyncEngine.sync_once`` on a worker thread, retried on a
timer with backoff, and an honest status for the status bar.

* **Never waits for the next local write.** After a failure that may pass (server
  unreachable, connection dropped) the next round is scheduled on a QTimer with
  :class:`sync.replication.retry.Backoff` (5 s doubling to 5 min, ±20 % jitter); a success
  resets it.
  A local change schedules a round 2 s later (changes made in a burst share one round), and
  a round runs every few minutes to pull other laptops' changes.
* **Status** (:class:`SyncStatus`): local only (no server configured), offline (with the
  next retry), syncing (phase and progress), synced N min ago, K changes pending (oldest
  age), quarantined changes, unresolved conflicts, sign-in or update required. The counts
  come from :func:`sync.replication.status.queue_status`, re-read after every change and
  every round.
* Works with no server and without the sync modules: then the status is "local only".

Threading rules: the engine is created, used and closed inside one background job per
round (it is not thread-safe and holds a network connection); this object and its timers
live on the GUI thread and only ever see the round's result. At most one round runs at a
time; a request during a round runs one more round right after it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.shell.context import AppContext, ChangeSet
from desktop.shell.tasks import Task, TaskContext
from sync.errors import AuthError, ConfigurationError, SchemaVersionError, TransientError

__all__ = ["SyncPhase", "SyncStatus", "SyncWorker", "format_age"]


_NOT_CONFIGURED = object()  # what a round returns when no server is set up


class SyncPhase(StrEnum):
    LOCAL_ONLY = "local"
    IDLE = "idle"
    SYNCING = "syncing"
    OFFLINE = "offline"
    NEEDS_ATTENTION = "attention"


def format_age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return "just now" if seconds < 10 else f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


@dataclass(frozen=True)
class SyncStatus:
    phase: SyncPhase = SyncPhase.LOCAL_ONLY
    pending: int = 0
    quarantined: int = 0
    oldest_pending_age_s: float | None = None
    conflicts: int = 0
    last_sync: dt.datetime | None = None
    message: str = ""
    progress: tuple[str, int, int | None] | None = None
    next_retry_at: dt.datetime | None = None
    counted_at: dt.datetime | None = None

    def state_text(self, now: dt.datetime | None = None) -> str:
        now = now or _utcnow()
        if self.phase is SyncPhase.SYNCING:
            if self.progress is not None:
                phase, done, total = self.progress
                of = f" {done} of {total}" if total else (f" {done}" if done else "")
                return f"Syncing: {phase}{of}…"
            return "Syncing…"
        if self.phase is SyncPhase.LOCAL_ONLY:
            return "Local only (no server)"
        if self.phase is SyncPhase.OFFLINE:
            retry = ""
            if self.next_retry_at is not None:
                left = max(0.0, (self.next_retry_at - now).total_seconds())
                retry = f", retrying in {int(left)} s" if left >= 1 else ", retrying now"
            return f"Offline{retry}"
        if self.phase is SyncPhase.NEEDS_ATTENTION:
            return self.message or "Sync needs attention"
        if self.last_sync is None:
            return "Not synced yet"
        age = (now - self.last_sync).total_seconds()
        return "Synced just now" if age < 60 else f"Synced {format_age(age)} ago"

    def pending_text(self, now: dt.datetime | None = None) -> str:
        if not self.pending:
            text = "All changes saved" if self.phase is SyncPhase.LOCAL_ONLY else "Nothing to send"
        else:
            noun = "change" if self.pending == 1 else "changes"
            text = f"{self.pending} {noun} pending"
            if self.oldest_pending_age_s is not None:
                age = self.oldest_pending_age_s
                if self.counted_at is not None:
                    age += max(0.0, ((now or _utcnow()) - self.counted_at).total_seconds())
                text += f" (oldest {format_age(age)})"
        if self.quarantined:
            text += f" · {self.quarantined} refused"
        return text


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=None)
    except ValueError:
        return None


class SyncWorker(QObject):
    """Runs sync rounds and reports :class:`SyncStatus` (see the module docstring)."""

    status_changed = Signal(object)  # SyncStatus
    round_finished = Signal(bool, str)  # success, message

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        after_change_ms: int = 2000,
        periodic_ms: int = 180_000,
        backoff: Any = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.status = SyncStatus()
        self.configured: bool | None = None  # unknown until the first round
        self.available = _engine_available()
        if backoff is None and self.available:
            from sync.replication.retry import Backoff

            backoff = Backoff(base_s=5, cap_s=300, jitter=0.2)
        self.backoff = backoff
        self.retry_timer = QTimer(self)
        self.retry_timer.setSingleShot(True)
        self.retry_timer.timeout.connect(self.sync_now)
        self.change_timer = QTimer(self)
        self.change_timer.setSingleShot(True)
        self.change_timer.setInterval(after_change_ms)
        self.change_timer.timeout.connect(self.sync_now)
        self.periodic_timer = QTimer(self)
        self.periodic_timer.setInterval(periodic_ms)
        self.periodic_timer.timeout.connect(self._periodic)
        self.rounds = 0
        self.failures = 0
        self._task: Task[Any] | None = None
        self._again = False
        self._counting = False
        self._count_again = False
        self._stopped = False
        ctx.bus.changed.connect(self._changes)

    # -- control -------------------------------------------------------------------------
    def start(self) -> None:
        """Count the queue and try a first round (no-op rounds when not configured)."""
        self.refresh_counts()
        if self.available:
            self.periodic_timer.start()
            self.sync_now()

    def stop(self) -> None:
        """Stop timers and ask a running round to stop (it finishes its current batch)."""
        self._stopped = True
        for timer in (self.retry_timer, self.change_timer, self.periodic_timer):
            timer.stop()
        if self._task is not None:
            self._task.cancel()

    def detach(self) -> None:
        """Stop, and stop listening to the app's change bus (before this worker is dropped)."""
        self.stop()
        self.ctx.bus.changed.disconnect(self._changes)

    @property
    def running(self) -> bool:
        return self._task is not None

    def reconfigured(self) -> None:
        """The server settings changed (sign-in): forget the old verdict and try now."""
        self.configured = None
        if self.backoff is not None:
            self.backoff.reset()
        self.available = _engine_available()
        self.sync_now()

    def sync_now(self) -> None:
        if self._stopped or not self.available:
            return
        if self._task is not None:
            self._again = True
            return
        self.retry_timer.stop()
        self.change_timer.stop()
        store = self.ctx.store
        phase_box: dict[str, str] = {"phase": "connecting"}

        def work(tc: TaskContext) -> Any:
            from sync.replication.engine import NotConfigured, SyncEngine

            try:
                engine = SyncEngine.from_store(store)
            except NotConfigured:
                return _NOT_CONFIGURED
            try:

                def cb(phase: str, done: int, total: int | None) -> None:
                    phase_box["phase"] = phase
                    tc.progress(done, total)

                return engine.sync_once(progress=cb, cancel=tc.cancel_event)
            finally:
                engine.close()

        def on_progress(done: int, total: int | None) -> None:
            self._set(progress=(phase_box["phase"], done, total))

        self._set(phase=SyncPhase.SYNCING, progress=None, message="")
        self._task = self.ctx.tasks.job(
            work, self._succeeded, self._failed, on_progress, name="sync"
        )

    # -- results -------------------------------------------------------------------------
    def _succeeded(self, report: Any) -> None:
        if report is _NOT_CONFIGURED:
            self._not_configured()
            return
        self._task = None
        self.rounds += 1
        self.configured = True
        if self.backoff is not None:
            self.backoff.reset()
        self._set(
            phase=SyncPhase.IDLE,
            progress=None,
            message="",
            next_retry_at=None,
            last_sync=_utcnow(),
        )
        pulled = getattr(getattr(report, "pull", None), "rows", 0) or 0
        deleted = getattr(getattr(report, "pull", None), "deleted", 0) or 0
        conflicts = getattr(report, "conflicts", 0) or 0
        lost = getattr(report, "lost", 0) or 0
        if pulled or deleted or conflicts or lost:
            self.ctx.bus.publish_everything(source="sync")
        summary = report.summary() if hasattr(report, "summary") else "synced"
        self.refresh_counts()
        self.round_finished.emit(True, summary)
        self._next()

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.rounds += 1
        message = str(exc)
        self.failures += 1
        self.configured = True
        if isinstance(exc, TransientError) or not isinstance(
            exc, AuthError | SchemaVersionError | ConfigurationError
        ):
            delay = self.backoff.next_delay() if self.backoff is not None else 30.0
            self._schedule_retry(delay)
            phase = (
                SyncPhase.OFFLINE if isinstance(exc, TransientError) else SyncPhase.NEEDS_ATTENTION
            )
            self._set(phase=phase, progress=None, message=_short(exc))
        else:
            label = "Update required" if isinstance(exc, SchemaVersionError) else "Sign-in needed"
            if isinstance(exc, ConfigurationError):
                label = "Server settings wrong"
            self._set(
                phase=SyncPhase.NEEDS_ATTENTION, progress=None, message=f"{label}: {_short(exc)}"
            )
        self.refresh_counts()
        self.round_finished.emit(False, message)
        if self._again:
            self._again = False

    def _not_configured(self) -> None:
        self._task = None
        self.rounds += 1
        self.configured = False
        self._again = False
        self._set(phase=SyncPhase.LOCAL_ONLY, progress=None, message="")
        self.periodic_timer.stop()
        self.refresh_counts()
        self.round_finished.emit(False, "this laptop is not signed in to a server")

    def _schedule_retry(self, delay_s: float) -> None:
        if self._stopped:
            return
        self.retry_timer.start(max(100, int(delay_s * 1000)))
        self._set(next_retry_at=_utcnow() + dt.timedelta(seconds=delay_s))

    def _next(self) -> None:
        if self._again and not self._stopped:
            self._again = False
            self.sync_now()

    def _periodic(self) -> None:
        if self.configured is not False and not self.retry_timer.isActive():
            self.sync_now()

    # -- counts and changes ----------------------------------------------------------------
    def _changes(self, change: ChangeSet) -> None:
        if change.source == "sync":
            return
        self.refresh_counts()
        if (
            self.available
            and self.configured is not False
            and change.touches_synced_data()
            and not self.retry_timer.isActive()
        ):
            self.change_timer.start()

    def refresh_counts(self) -> None:
        """Re-read the queue counts in the background (coalesced)."""
        if self._counting:
            self._count_again = True
            return
        self._counting = True
        store = self.ctx.store

        def work() -> tuple[dict[str, Any], str | None]:
            from sync.replication.status import queue_status

            return queue_status(store), store.state("last_sync")

        def done(result: tuple[dict[str, Any], str | None]) -> None:
            self._counting = False
            counts, last = result
            self._set(
                pending=int(counts["pending"]),
                quarantined=int(counts.get("quarantined", 0)),
                oldest_pending_age_s=counts.get("oldest_pending_age_s"),
                conflicts=int(counts.get("conflicts", 0)),
                last_sync=_parse_time(last) or self.status.last_sync,
                counted_at=_utcnow(),
            )
            if self._count_again:
                self._count_again = False
                self.refresh_counts()

        def failed(exc: BaseException) -> None:
            self._counting = False
            self.ctx.tasks.error.emit(exc)

        self.ctx.tasks.read(work, done, failed, name="queue-status")

    def _set(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)
        self.status_changed.emit(self.status)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 140 else text[:137] + "…"


def _engine_available() -> bool:
    """Whether this build has the sync modules (found, not imported: the engine and its
    driver load on the first round's worker thread, not during start-up)."""
    try:
        return all(
            importlib.util.find_spec(m) is not None
            for m in ("sync.replication.engine", "sync.replication.retry")
        )
    except (ImportError, ValueError):
        return False
