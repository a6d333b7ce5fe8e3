"""The sync queue's counts, with one meaning for each word.

* **pending** — changes waiting to be sent (``status = 'pending'``);
* **quarantined** — changes held back with a reason (refused by the server, or unreadable);
* **unsent** — both together: what a restore or a sign-out would lose.

``flourish status``, the status bar, the sync loop and local backups all count through
:func:`counts`. The queue rows themselves are written by the capture triggers
(:mod:`sync.store.capture`) and sent by :mod:`sync.replication.engine`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

__all__ = ["QueueCounts", "counts"]

_COUNTS = (
    "SELECT COUNT(CASE WHEN status = 'pending' THEN 1 END), "
    "COUNT(CASE WHEN status = 'quarantined' THEN 1 END), "
    "MIN(CASE WHEN status = 'pending' THEN created_at END) "
    "FROM sync_operations"
)


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    quarantined: int
    oldest_pending_age_s: float | None

    @property
    def unsent(self) -> int:
        return self.pending + self.quarantined


def counts(db: sqlite3.Connection, *, now: dt.datetime | None = None) -> QueueCounts:
    """Count the queue on a driver connection (sqlite3's or SQLCipher's; see
    :func:`sync.store.local.sqlite_of` for a store connection)."""
    pending, quarantined, oldest = db.execute(_COUNTS).fetchone()
    age = None
    if oldest:
        then = dt.datetime.fromisoformat(str(oldest))
        now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        age = round(max(0.0, (now - then).total_seconds()), 1)
    return QueueCounts(int(pending), int(quarantined), age)
