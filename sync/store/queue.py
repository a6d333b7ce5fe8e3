"""The sync queue's counts, with one meaning for each word.

* **pending** — changes waiting to be sent (``status = 'pending'``);
* **quarantined** — changes held back with a reason (refused by the server, or unreadable);
* **unsent** — both together: what a restore or a sign-out would lose.

``flourish status``, the status bar, the sync loop and local backups all count through
:func:`counts`. The queue rows themselves are written by the capture triggers
(:mod:`sync.store.capture`); every other statement on ``sync_operations`` is a function
here, used by the sync engine (:mod:`sync.replication.engine`, which sends the queue) and
the pull (:mod:`sync.replication.client.pull`, which must not overwrite a newer queued
change). The functions take a driver connection (:func:`sync.store.local.sqlite_of`) and
run in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "QueueCounts",
    "QueuedRow",
    "counts",
    "discard_all",
    "has_newer_pending",
    "mark_sent",
    "next_pending",
    "pending_count",
    "pending_stamps",
    "quarantine",
    "quarantine_student",
    "remove",
    "resend_all",
]

#: One pending row as it is sent: (op_id, table_name, row_pk, op, payload, sync_hlc).
QueuedRow = tuple[int, str, str, str, str, int]

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


def pending_count(db: sqlite3.Connection) -> int:
    return int(
        db.execute("SELECT COUNT(*) FROM sync_operations WHERE status = 'pending'").fetchone()[0]
    )


def next_pending(db: sqlite3.Connection, *, after: int, limit: int) -> list[QueuedRow]:
    """Up to ``limit`` pending operations with ids above ``after``, oldest first."""
    rows = db.execute(
        "SELECT op_id, table_name, row_pk, op, payload, sync_hlc FROM sync_operations "
        "WHERE status = 'pending' AND op_id > ? ORDER BY op_id LIMIT ?",
        (after, limit),
    ).fetchall()
    return [(int(a), str(b), str(c), str(d), str(e), int(f)) for a, b, c, d, e, f in rows]


def mark_sent(db: sqlite3.Connection, op_ids: Iterable[int]) -> None:
    """Count one more attempt: from now on a local edit of the row queues a new operation
    instead of changing one the server may already have applied."""
    db.executemany(
        "UPDATE sync_operations SET attempts = attempts + 1 WHERE op_id = ?",
        [(op_id,) for op_id in op_ids],
    )


def remove(db: sqlite3.Connection, op_ids: Iterable[int]) -> None:
    """Take operations the server has answered off the queue."""
    db.executemany("DELETE FROM sync_operations WHERE op_id = ?", [(op_id,) for op_id in op_ids])


def quarantine(db: sqlite3.Connection, reasons: Iterable[tuple[int, str]]) -> None:
    """Hold operations back, each with its reason: ``(op_id, reason)`` pairs."""
    db.executemany(
        "UPDATE sync_operations SET status = 'quarantined', last_error = ? WHERE op_id = ?",
        [(reason, op_id) for op_id, reason in reasons],
    )


def quarantine_student(db: sqlite3.Connection, student_id: str, reason: str) -> None:
    """Hold back every pending change about a student this teacher no longer sees."""
    db.execute(
        "UPDATE sync_operations SET status = 'quarantined', last_error = ? "
        "WHERE student_id = ? AND status = 'pending'",
        (reason, student_id),
    )


def has_newer_pending(db: sqlite3.Connection, table: str, row_pk: str, op_id: int) -> bool:
    """Is a later change of the same row still waiting to be sent?"""
    return (
        db.execute(
            "SELECT 1 FROM sync_operations WHERE table_name = ? AND row_pk = ? "
            "AND status = 'pending' AND op_id > ?",
            (table, row_pk, op_id),
        ).fetchone()
        is not None
    )


def pending_stamps(db: sqlite3.Connection, table: str) -> dict[str, int]:
    """For each row of ``table`` with pending changes, the newest change's stamp."""
    rows = db.execute(
        "SELECT row_pk, max(sync_hlc) FROM sync_operations "
        "WHERE status = 'pending' AND table_name = ? GROUP BY row_pk",
        (table,),
    ).fetchall()
    return {str(pk): int(stamp) for pk, stamp in rows}


def resend_all(db: sqlite3.Connection) -> None:
    """Forget that pending operations were sent (the server lost them with a restore)."""
    db.execute("UPDATE sync_operations SET attempts = 0 WHERE status = 'pending'")


def discard_all(db: sqlite3.Connection) -> None:
    """Empty the queue (its rows are queued again in another form, e.g. renumbered)."""
    db.execute("DELETE FROM sync_operations")
