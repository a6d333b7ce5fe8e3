"""The Qt side of sync: the one :class:`~sync.replication.worker.SyncLoop`, its status on
the GUI thread, and local changes turned into sync requests.

* The loop (its own thread, its one retry policy — see :mod:`sync.replication.worker`)
  syncs on request, retries on its own after a failure that may pass, and every few
  minutes pulls other laptops' changes; a local change asks for a round 2 s later, so a
  burst of changes shares one round.
* **Live updates**: when the laptop syncs through the Flourish service, the loop also waits
  on the service (its own thread, never the GUI's) and syncs as soon as another of the
  teacher's laptops changes something; :meth:`SyncWorker.stop` ends that wait at once.
* **Status** (:class:`~sync.replication.worker.SyncStatus`): local only, offline (with the
  next retry), syncing (phase and progress), synced N min ago, K changes pending (oldest
  age), refused changes, unresolved conflicts, sign-in or update required. The counts are
  re-read after every local change (on a reader thread) and after every round.

Threading rules: the loop's callbacks arrive on the loop's thread (or a reader thread) and
are handed to the GUI thread by Qt signals; this object, its signals' receivers and
:attr:`status` live on the GUI thread. :meth:`stop` never blocks: :attr:`idle` says when
the loop's thread has finished.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from desktop.core.context import AppContext, ChangeSet
from sync.replication.syncstatus import SyncState, SyncStatus, format_age

if TYPE_CHECKING:
    from sync.replication.retry import Backoff
    from sync.replication.worker import SyncLoop

__all__ = ["SyncState", "SyncStatus", "SyncWorker", "format_age"]


class SyncWorker(QObject):
    """Runs the sync loop for the app and reports :class:`SyncStatus` (see the module
    docstring)."""

    status_changed = Signal(object)  # SyncStatus
    round_finished = Signal(bool, str)  # success, message
    _status_from_loop = Signal(object)
    _round_from_loop = Signal(bool, str, bool)  # success, message, pulled anything

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        after_change_s: float = 2.0,
        interval_s: float = 180.0,
        backoff: Backoff | None = None,
        live_updates: bool = True,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.after_change_s = after_change_s
        self.status = SyncStatus()
        self._backoff = backoff
        self._interval_s = interval_s
        self._live_updates = live_updates
        self._loop: SyncLoop | None = None
        self._status_from_loop.connect(self._set_status)
        self._round_from_loop.connect(self._round_on_gui)
        self.rounds = 0  # rounds finished, as seen on the GUI thread (after their status)
        self.failures = 0
        self._started = False
        self._stopped = False
        self._counting = False
        self._count_again = False
        ctx.bus.changed.connect(self._changes)

    @property
    def loop(self) -> SyncLoop:
        """The sync loop, made on first use: the sync machinery (HTTP client, engine) is
        imported then, not before the window's first paint."""
        if self._loop is None:
            from sync.replication.worker import SyncLoop

            self._loop = SyncLoop(
                self.ctx.store,
                backoff=self._backoff,
                interval_s=self._interval_s,
                on_status=self._status_from_loop.emit,
                on_round=self._round_done,
                live_updates=self._live_updates,
            )
        return self._loop

    # -- control (GUI thread) ------------------------------------------------------------
    def start(self) -> None:
        """Count the queue and start the loop (its first round runs at once); a stopped
        worker stays stopped."""
        if self._stopped:
            return
        self._started = True
        self.refresh_counts()
        self.loop.start()

    def stop(self) -> None:
        """Stop the loop (a running round stops at its next page); does not wait."""
        self._stopped = True
        if self._loop is not None:
            self._loop.stop()

    def stop_and_wait(self, timeout: float) -> None:
        """Stop the loop and wait up to ``timeout`` seconds for its thread to end."""
        self._stopped = True
        if self._loop is not None:
            self._loop.stop(timeout=timeout)

    def detach(self) -> None:
        """Stop, and stop listening to the app's change bus (before this worker is dropped)."""
        self.stop()
        self.ctx.bus.changed.disconnect(self._changes)

    @property
    def idle(self) -> bool:
        return self._loop is None or self._loop.idle

    @property
    def running(self) -> bool:
        return self.status.state is SyncState.SYNCING

    @property
    def configured(self) -> bool | None:
        return self.loop.configured

    def sync_now(self) -> None:
        """Sync at once (the loop starts if it was not running yet)."""
        if self._stopped:
            return
        self.loop.start()
        self.loop.request()

    def reconfigured(self) -> None:
        """The server settings changed (sign-in): forget the old verdict and try now."""
        self.loop.reconfigured()

    # -- from the loop -------------------------------------------------------------------
    def _round_done(self, ok: bool, message: str, report: Any) -> None:  # loop thread
        pull = getattr(report, "pull", None)
        touched = bool(
            getattr(pull, "rows", 0)
            or getattr(pull, "deleted", 0)
            or getattr(report, "conflicts", 0)
            or getattr(report, "lost", 0)
        )
        self._round_from_loop.emit(ok, message, touched)

    def _round_on_gui(self, ok: bool, message: str, touched: bool) -> None:
        self.rounds += 1
        self.failures += 0 if ok else 1
        if touched:
            self.ctx.bus.publish_everything(source="sync")
        self.round_finished.emit(ok, message)

    def _set_status(self, status: SyncStatus) -> None:
        self.status = status
        self.status_changed.emit(status)

    # -- counts and changes ----------------------------------------------------------------
    def _changes(self, change: ChangeSet) -> None:
        if change.source == "sync":
            return
        self.refresh_counts()
        if self._started and change.touches_synced_data():
            self.loop.request(self.after_change_s, force=False)

    def refresh_counts(self) -> None:
        """Re-read the queue counts on a reader thread (coalesced)."""
        if self._counting:
            self._count_again = True
            return
        self._counting = True

        def done(_status: SyncStatus) -> None:
            self._counting = False
            if self._count_again:
                self._count_again = False
                self.refresh_counts()

        def failed(exc: BaseException) -> None:
            self._counting = False
            self.ctx.tasks.error.emit(exc)

        self.ctx.tasks.read(self.loop.count_now, done, failed, name="queue-status")
