"""Sending the laptop's queue: batches out, the server's answers applied locally.

Push in batches (one server transaction each, run by the service): the batch's operations
are first marked as sent (``attempts + 1``) so later edits of the same rows queue new
operations instead of changing ones the server may already have applied; after the server
commits, the results are applied locally and the batch leaves the queue. A crash anywhere
in between only means the batch is sent again, and the server answers ``duplicate`` for
what it already has.

The local work runs beside the server's: while the server applies batch k, a helper
thread acknowledges batch k-1 locally and reads batch k+1 from the queue. Operation ids
only grow (AUTOINCREMENT), so "ids above the last batch" is the rest of the queue; what is
queued during the push has higher ids and goes in a later batch. Acknowledgements are
applied in batch order, and all of them before :func:`send_queue` returns.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sync.replication.push import MAX_SKEW_MS, BatchResult, OpResult
from sync.replication.wire import BadOp, Op, exchanged_columns, local_value, parse_op, pk_value
from sync.store import hlc as hlclock
from sync.store import queue
from sync.store.local import LocalStore, sqlite_of
from sync.store.state import CLOCK_OFFSET_MS, HLC

__all__ = ["PushCounts", "Send", "send_queue"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
#: Sends one batch (operations, the laptop's corrected clock in ms) and returns the answers.
Send = Callable[[list[Op], int], BatchResult]


@dataclass
class PushCounts:
    pushed: int = 0
    lost: int = 0
    rejected: int = 0
    duplicates: int = 0
    conflicts: int = 0
    clock_events: int = 0

    def add(self, result: BatchResult) -> None:
        for r in result.results:
            if r.status == "applied":
                self.pushed += 1
            elif r.status == "lost":
                self.lost += 1
            elif r.status == "rejected":
                self.rejected += 1
            else:
                self.duplicates += 1
        self.conflicts += result.conflicts
        self.clock_events += len(result.events)


def send_queue(
    store: LocalStore,
    send: Send,
    *,
    batch_size: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> PushCounts:
    """Send every pending operation in batches (see the module docstring)."""
    counts = PushCounts()
    sender = _Sender(store, batch_size)
    total = sender.pending() if progress is not None else 0
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flourish-push") as local:
        ahead: Future[tuple[list[Op], bool, int]] | None = None
        acked: Future[None] | None = None
        ops, more, last = sender.next_batch(0)
        while ops or more:
            if cancel is not None and cancel.is_set():
                break
            if not ops:  # a whole batch was quarantined
                ops, more, last = sender.next_batch(last)
                continue
            if more:
                ahead = local.submit(sender.next_batch, last)
            offset = int(store.state(CLOCK_OFFSET_MS, "0") or 0)
            result = send(ops, store.clock() + offset)
            if acked is not None:
                acked.result()  # the previous batch's (raises what it raised)
            acked = local.submit(sender.acknowledge, ops, result)
            counts.add(result)
            done += len(ops)
            if progress is not None:
                progress("push", done, max(total, done))
            if ahead is not None:
                (ops, more, last), ahead = ahead.result(), None
            else:
                ops, more = [], False
        if acked is not None:
            acked.result()
    return counts


class _Sender:
    def __init__(self, store: LocalStore, batch_size: int) -> None:
        self.store = store
        self.batch_size = batch_size
        self.device = store.device_no

    def pending(self) -> int:
        with self.store.read() as conn:
            return queue.pending_count(sqlite_of(conn))

    def next_batch(self, after: int) -> tuple[list[Op], bool, int]:
        """The next batch of pending operations with ids above ``after``: the operations,
        whether more may be waiting, and the last id looked at."""
        ops: list[Op] = []
        with self.store.write() as txn:
            raw = sqlite_of(txn.conn)
            rows = queue.next_pending(raw, after=after, limit=self.batch_size)
            bad: list[tuple[int, str]] = []
            for op_id, table, pk, kind, payload, stamp in rows:
                try:
                    ops.append(parse_op(op_id, table, pk, kind, payload, stamp, self.device))
                except BadOp as exc:
                    bad.append((op_id, f"not sent: {exc}"))
            queue.quarantine(raw, bad)
            queue.mark_sent(raw, [op.op_id for op in ops])
        last = rows[-1][0] if rows else after
        return ops, len(rows) == self.batch_size, last

    def acknowledge(self, ops: list[Op], result: BatchResult) -> None:
        """Apply the server's answers locally and take the batch off the queue."""
        by_id = {op.op_id: op for op in ops}
        with self.store.apply_remote() as conn:
            raw = sqlite_of(conn)
            applied: dict[str, list[tuple[Any, ...]]] = {}
            for r in result.results:
                op = by_id[r.op_id]
                if r.status == "applied" and r.version is not None:
                    applied.setdefault(op.table, []).append(
                        (r.version, op.hlc, r.hlc, pk_value(op.table, op.pk))
                    )
                else:
                    _apply_result(raw, op, r)
            for table, rows in applied.items():
                # The server's version becomes the row's base; its stamp (clock-adjusted)
                # too, unless the row has changed again here since.
                raw.executemany(
                    f"UPDATE {table} SET sync_version = ?, "
                    "sync_hlc = CASE WHEN sync_hlc = ? THEN ? ELSE sync_hlc END WHERE id = ?",
                    rows,
                )
            queue.remove(raw, [r.op_id for r in result.results if r.status != "rejected"])
            queue.quarantine(
                raw,
                [
                    (r.op_id, f"refused by the server: {r.reason}")
                    for r in result.results
                    if r.status == "rejected"
                ],
            )
            if abs(result.skew_ms) > MAX_SKEW_MS:
                self._correct_clock(raw, result.skew_ms)

    def _correct_clock(self, raw: sqlite3.Connection, skew_ms: int) -> None:
        row = raw.execute(
            "SELECT value FROM sync_state WHERE key = ?", (CLOCK_OFFSET_MS,)
        ).fetchone()
        offset = (int(row[0]) if row else 0) - skew_ms
        raw.execute(
            "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)",
            (CLOCK_OFFSET_MS, str(offset)),
        )
        # The clock state may have run ahead with the wrong clock; bring it back.
        corrected = hlclock.from_millis(self.store.clock() + offset)
        raw.execute(
            "UPDATE sync_state SET value = ? WHERE key = ? AND CAST(value AS INTEGER) > ?",
            (str(corrected), HLC, corrected + hlclock.from_millis(MAX_SKEW_MS)),
        )
        log.warning("clock corrected by %d ms after the server reported a skew", -skew_ms)


def _apply_result(raw: sqlite3.Connection, op: Op, r: OpResult) -> None:
    """A change the server did not apply as sent: take the server's row if it lost."""
    key = pk_value(op.table, op.pk)
    if r.status != "lost":
        return
    newer_local = queue.has_newer_pending(raw, op.table, op.pk, op.op_id)
    if newer_local and not r.drop_local:
        return  # a newer local change is queued; the server will judge it
    if r.drop_local or r.server_row is None:
        raw.execute(f"DELETE FROM {op.table} WHERE id = ?", (key,))
    if r.server_row is not None and r.server_table:
        cols = exchanged_columns(r.server_table)
        raw.execute(
            f"INSERT INTO {r.server_table} ({', '.join(cols)}) VALUES "
            f"({', '.join('?' * len(cols))}) ON CONFLICT(id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id"),
            [local_value(r.server_table, c, r.server_row.get(c)) for c in cols],
        )
