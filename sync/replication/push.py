"""Applying one batch of a laptop's queued changes on the server, in one transaction.

Run by the laptop, connected as its teacher's own login (row level security applies to
every statement). :func:`apply_batch` must be called inside an open transaction; the caller
commits. The rules:

* **Exactly once.** ``sync_devices.last_op_seq`` (locked for the transaction) is the
  highest operation id of this device already applied; operations at or below it are
  answered ``duplicate`` and not applied again, so resending a batch after a crash at any
  point changes nothing. The laptop sends its pending operations in id order, so the
  mark only ever moves past operations it has sent.
* **Timestamp wins, per row**: a change applies if its ``(sync_hlc, sync_origin)`` is
  greater than the row's (or its tombstone's); otherwise it *loses*. A change that
  overwrites a version its laptop had not seen (concurrent edits) also records the
  overwritten version. Every loser goes to ``sync_conflicts`` with who, when and what.
* **Natural keys**: one correction per assessment, one active target per student and
  skill, one badge per student, skill and level. Two rows for one key: the newer stays,
  the older is deleted and logged.
* **Human over machine**: a change to the AI's fields of an assessment a teacher has
  decided on never applies, whatever its timestamp.
* **Clocks**: a laptop whose (offset-corrected) clock is off by more than
  ``MAX_SKEW_MS`` has that skew taken out of every stamp in the batch, and any stamp still
  ahead of the server is clamped to the server's clock; both are logged in ``sync_events``.
* **Bad input never blocks the queue**: an operation the database refuses (a CHECK, a
  row of another teacher, a missing parent) is answered ``rejected`` with the reason and
  the rest of the batch applies (each run is retried operation by operation under
  savepoints when the set-based fast path fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
from psycopg2.extras import Json, execute_values

from sync.replication.push_batch import BatchResult, OpResult, RunBatch
from sync.replication.push_rows import not_allowed, when
from sync.replication.wire import Op, jsonable
from sync.store import hlc as hlclock

__all__ = ["MAX_SKEW_MS", "BatchResult", "OpResult", "apply_batch"]

MAX_SKEW_MS = 120_000


# -- clocks ----------------------------------------------------------------------------


def _adjust(
    ops: list[Op], client_now_ms: int, server_now_ms: int, device_no: int
) -> tuple[list[Op], int, list[dict[str, Any]]]:
    skew = client_now_ms - server_now_ms
    events: list[dict[str, Any]] = []
    shift = hlclock.from_millis(skew) if abs(skew) > MAX_SKEW_MS else 0
    if shift:
        events.append({"kind": "clock_skew", "skew_ms": skew, "device_no": device_no})
    limit = hlclock.from_millis(server_now_ms + MAX_SKEW_MS)
    out = []
    for op in ops:
        stamp = op.hlc - shift
        if stamp > limit:
            events.append(
                {
                    "kind": "clock_clamped",
                    "op_id": op.op_id,
                    "table": op.table,
                    "row_pk": op.pk,
                    "stamped": when(stamp),
                    "server_time": when(hlclock.from_millis(server_now_ms)),
                }
            )
            stamp = hlclock.from_millis(server_now_ms)
        if stamp != op.hlc:
            op = Op(op.op_id, op.table, op.pk, op.kind, op.row, stamp, op.origin, op.base_version)
        out.append(op)
    return out, skew, events


# -- the batch ------------------------------------------------------------------------


def _runs(ops: list[Op]) -> Iterator[tuple[str, str, list[Op]]]:
    """Consecutive operations of the same table and kind (order is kept)."""
    current: list[Op] = []
    for op in ops:
        if current and (op.table, op.kind) != (current[0].table, current[0].kind):
            yield current[0].table, current[0].kind, current
            current = []
        current.append(op)
    if current:
        yield current[0].table, current[0].kind, current


# SQLSTATEs that can reveal another teacher's row: insufficient_privilege (row level
# security, the guard triggers), unique_violation (a taken id) and foreign_key_violation.
_HIDDEN_ROW_CODES = {"42501", "23505", "23503"}


def _reason(exc: psycopg2.Error, op: Op) -> str:
    from sync.model.crud import RULES

    text = (exc.pgerror or str(exc)).strip().splitlines()[0].removeprefix("ERROR:").strip()
    constraint = getattr(exc.diag, "constraint_name", None)
    if constraint and constraint in RULES:  # a rule on the teacher's own rows
        return f"{RULES[constraint]} ({constraint})"
    if exc.pgcode in _HIDDEN_ROW_CODES or "row-level security" in text:
        return not_allowed(op)
    return text


def apply_batch(cur: Any, device_no: int, ops: list[Op], *, client_now_ms: int) -> BatchResult:
    """Apply ``ops`` (in id order) inside the caller's transaction; the caller commits."""
    cur.execute(
        "SELECT last_op_seq FROM sync_devices WHERE device_no = %s FOR UPDATE", (device_no,)
    )
    found = cur.fetchone()
    if found is None:
        from sync.errors import AuthError

        raise AuthError(f"device {device_no} is not registered for this login: sign in again")
    applied_up_to = int(found[0])
    cur.execute("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint")
    server_now_ms = int(cur.fetchone()[0])
    batch = RunBatch(cur, device_no)
    fresh = [op for op in ops if op.op_id > applied_up_to]
    for op in ops:
        if op.op_id <= applied_up_to:
            batch.results[op.op_id] = OpResult(op.op_id, "duplicate")
    fresh, skew, events = _adjust(fresh, client_now_ms, server_now_ms, device_no)
    conflicts = 0
    for table, kind, run in _runs(fresh):
        cur.execute("SAVEPOINT run")
        try:
            (batch.upserts if kind == "upsert" else batch.deletes)(table, run)
            conflicts += batch.flush_conflicts()
            cur.execute("RELEASE SAVEPOINT run")
        except psycopg2.Error:
            cur.execute("ROLLBACK TO SAVEPOINT run")
            batch.conflicts = []
            for op in run:
                batch.results.pop(op.op_id, None)
                cur.execute("SAVEPOINT one")
                try:
                    (batch.upserts if kind == "upsert" else batch.deletes)(table, [op])
                    conflicts += batch.flush_conflicts()
                    cur.execute("RELEASE SAVEPOINT one")
                except psycopg2.Error as exc:
                    cur.execute("ROLLBACK TO SAVEPOINT one")
                    batch.conflicts = []
                    batch.results[op.op_id] = OpResult(op.op_id, "rejected", _reason(exc, op))
    if events:
        execute_values(
            cur,
            "INSERT INTO sync_events (device_no, teacher_id, kind, detail) VALUES %s",
            [(device_no, e["kind"], Json({k: jsonable(v) for k, v in e.items()})) for e in events],
            template="(%s, current_teacher_id(), %s, %s)",
        )
    if ops:
        cur.execute(
            "UPDATE sync_devices SET last_op_seq = greatest(last_op_seq, %s), "
            "last_seen_at = now() WHERE device_no = %s",
            (max(op.op_id for op in ops), device_no),
        )
    return BatchResult(
        results=[batch.results[op.op_id] for op in ops],
        skew_ms=skew,
        conflicts=conflicts,
        events=events,
    )
