"""What the sync loop reports: its state and the queue's counts, in words for the teacher.

Kept apart from :mod:`sync.replication.worker` (which re-exports both) so that a window can
show the status before the sync machinery — HTTP client, engine — is even imported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["SyncState", "SyncStatus", "format_age"]


class SyncState(StrEnum):
    LOCAL_ONLY = "local"  # no server to sync with
    IDLE = "idle"  # the last round succeeded
    SYNCING = "syncing"
    OFFLINE = "offline"  # the server could not be reached; retrying with backoff
    NEEDS_ATTENTION = "attention"  # sign-in, update or settings needed; or retrying an error


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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
    """What the loop knows: its state, the queue's counts and the last round's outcome.

    Times are naive UTC. ``retrying`` says whether a retry is scheduled (``next_retry_at``).
    """

    state: SyncState = SyncState.LOCAL_ONLY
    pending: int = 0
    quarantined: int = 0
    oldest_pending_age_s: float | None = None
    conflicts: int = 0
    last_sync: dt.datetime | None = None
    message: str = ""
    progress: tuple[str, int, int | None] | None = None
    next_retry_at: dt.datetime | None = None
    counted_at: dt.datetime | None = None

    @property
    def retrying(self) -> bool:
        return self.next_retry_at is not None

    def state_text(self, now: dt.datetime | None = None) -> str:
        now = now or _utcnow()
        if self.state is SyncState.SYNCING:
            if self.progress is not None:
                phase, done, total = self.progress
                of = f" {done} of {total}" if total else (f" {done}" if done else "")
                return f"Syncing: {phase}{of}…"
            return "Syncing…"
        if self.state is SyncState.LOCAL_ONLY:
            return "Local only (no server)"
        if self.state is SyncState.OFFLINE:
            retry = ""
            if self.next_retry_at is not None:
                left = max(0.0, (self.next_retry_at - now).total_seconds())
                retry = f", retrying in {int(left)} s" if left >= 1 else ", retrying now"
            return f"Offline{retry}"
        if self.state is SyncState.NEEDS_ATTENTION:
            return self.message or "Sync needs attention"
        if self.last_sync is None:
            return "Not synced yet"
        age = (now - self.last_sync).total_seconds()
        return "Synced just now" if age < 60 else f"Synced {format_age(age)} ago"

    def pending_text(self, now: dt.datetime | None = None) -> str:
        if not self.pending:
            text = "All changes saved" if self.state is SyncState.LOCAL_ONLY else "Nothing to send"
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
