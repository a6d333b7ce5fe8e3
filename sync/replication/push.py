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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from sync.model.ids import device_of
from sync.model.rules import NATURAL_KEYS, owner_path, untracked_columns
from sync.replication.wire import (
    INT_ID_TABLES,
    Op,
    converters,
    exchanged_columns,
    jsonable,
    pk_value,
    server_row,
    server_value,
    settable_columns,
    update_only,
)
from sync.store import hlc as hlclock

__all__ = ["MAX_SKEW_MS", "BatchResult", "OpResult", "apply_batch"]

MAX_SKEW_MS = 120_000
_AI_FIELDS = (
    "data_entry_id",
    "student_id",
    "skill_name",
    "skill_category",
    "level",
    "confidence_score",
    "justification",
    "source_quote",
)


@dataclass
class OpResult:
    op_id: int
    status: str  # applied | lost | rejected | duplicate
    reason: str | None = None
    version: int | None = None  # new server version (applied)
    hlc: int | None = None  # stamp the server stored (after clock adjustment)
    server_row: dict[str, Any] | None = None  # the winner (lost)
    server_table: str | None = None
    drop_local: bool = False  # the laptop's row lost to a different row: delete it


@dataclass
class BatchResult:
    results: list[OpResult]
    skew_ms: int
    conflicts: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Conflict:
    table: str
    pk: str
    student_id: str | None
    kind: str
    reason: str
    losing: dict[str, Any]
    losing_hlc: int
    losing_origin: int
    winning: dict[str, Any] | None
    winning_hlc: int | None
    winning_origin: int | None


def _when(stamp: int) -> str:
    return hlclock.to_datetime(stamp).strftime("%Y-%m-%d %H:%M:%S UTC")


def _who(origin: int) -> str:
    return "the server" if origin == 0 else f"laptop {origin}"


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
                    "stamped": _when(stamp),
                    "server_time": _when(hlclock.from_millis(server_now_ms)),
                }
            )
            stamp = hlclock.from_millis(server_now_ms)
        if stamp != op.hlc:
            op = Op(op.op_id, op.table, op.pk, op.kind, op.row, stamp, op.origin, op.base_version)
        out.append(op)
    return out, skew, events


# -- reading current server state --------------------------------------------------------


def _select(
    cur: Any, table: str, where: sql.Composable, params: Sequence[Any]
) -> list[dict[str, Any]]:
    cols = exchanged_columns(table)
    query = sql.SQL("SELECT {cols} FROM {t} WHERE {w} FOR UPDATE").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)), t=sql.Identifier(table), w=where
    )
    cur.execute(query, params)
    return [server_row(cols, row) for row in cur.fetchall()]


def _existing(cur: Any, table: str, pks: list[Any]) -> dict[str, dict[str, Any]]:
    rows = _select(cur, table, sql.SQL("id = ANY(%s)"), (pks,))
    return {str(r["id"]): r for r in rows}


def _tombstones(cur: Any, table: str, pks: list[str]) -> dict[str, tuple[int, int]]:
    cur.execute(
        "SELECT row_pk, sync_hlc, sync_origin FROM sync_tombstones "
        "WHERE table_name = %s AND row_pk = ANY(%s)",
        (table, pks),
    )
    return {pk: (h, o) for pk, h, o in cur.fetchall()}


def _natural_key(table: str, row: dict[str, Any]) -> tuple[Any, ...] | None:
    spec = NATURAL_KEYS.get(table)
    return None if spec is None else spec.key(row)


def _rivals(cur: Any, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = {k for r in rows if (k := _natural_key(table, r)) is not None}
    if not keys:
        return []
    spec = NATURAL_KEYS[table]
    columns, condition = spec.columns, spec.condition(central=True)
    if len(columns) == 1:  # = ANY(array) plans better than a long IN list of rows
        where: sql.Composable = sql.SQL("{} = ANY(%s)").format(sql.Identifier(columns[0]))
        params: tuple[Any, ...] = ([k[0] for k in keys],)
    else:
        where = sql.SQL("({cols}) IN %s").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        params = (tuple(keys),)
    if condition:
        where = sql.SQL("{} AND {}").format(where, sql.SQL(condition))
    return _select(cur, table, where, params)


def _student_of(cur: Any, table: str, row: dict[str, Any]) -> str | None:
    """The student a row is about (:func:`sync.model.rules.owner_path`)."""
    path = owner_path(table)
    if path is None:
        return None
    if path.column is not None:
        value = row.get(path.column)
        return None if value is None else str(value)
    if row.get(path.via or "") is None:
        return None
    cur.execute(
        sql.SQL("SELECT student_id FROM {} WHERE id = %s").format(sql.Identifier(path.parent)),
        (row[path.via or ""],),
    )
    found = cur.fetchone()
    return None if found is None else found[0]


# -- the batch ------------------------------------------------------------------------


class _Batch:
    def __init__(self, cur: Any, device_no: int) -> None:
        self.cur = cur
        self.device_no = device_no
        self.results: dict[int, OpResult] = {}
        self.conflicts: list[_Conflict] = []

    def conflict(
        self,
        op_table: str,
        pk: str,
        kind: str,
        reason: str,
        losing: dict[str, Any],
        losing_key: tuple[int, int],
        winning: dict[str, Any] | None,
        winning_key: tuple[int, int] | None,
    ) -> None:
        self.conflicts.append(
            _Conflict(
                table=op_table,
                pk=pk,
                student_id=_student_of(self.cur, op_table, winning or losing),
                kind=kind,
                reason=reason,
                losing=losing,
                losing_hlc=losing_key[0],
                losing_origin=losing_key[1],
                winning=winning,
                winning_hlc=None if winning_key is None else winning_key[0],
                winning_origin=None if winning_key is None else winning_key[1],
            )
        )

    def lose(
        self,
        op: Op,
        table: str,
        kind: str,
        reason: str,
        losing: dict[str, Any],
        winner: dict[str, Any] | None,
        winner_key: tuple[int, int] | None,
        why: str,
        *,
        drop_local: bool = False,
    ) -> None:
        """``op`` lost to ``winner``: log the losing version and answer ``lost``."""
        self.conflict(table, op.pk, kind, reason, losing, op.key, winner, winner_key)
        self.results[op.op_id] = OpResult(
            op.op_id, "lost", why, server_row=winner, server_table=table, drop_local=drop_local
        )

    # upserts -------------------------------------------------------------------------
    def upserts(self, table: str, ops: list[Op]) -> None:
        cur = self.cur
        pks = [pk_value(table, op.pk) for op in ops]
        state: dict[str, dict[str, Any] | None] = dict(_existing(cur, table, pks))
        tombs = _tombstones(cur, table, [op.pk for op in ops])
        rivals: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in _rivals(cur, table, [op.row or {} for op in ops]):
            rival_key = _natural_key(table, r)
            if rival_key is not None:
                rivals.setdefault(rival_key, []).append(r)
        reviewed: set[str] = set()
        if table == "assessments":
            cur.execute(
                "SELECT assessment_id FROM teacher_corrections WHERE assessment_id = ANY(%s)",
                (pks,),
            )
            reviewed = {str(r[0]) for r in cur.fetchall()}
        winners: dict[str, tuple[Op, dict[str, Any]]] = {}
        applied: dict[str, list[Op]] = {}
        displaced: list[tuple[str, Op]] = []
        for op in ops:
            row = dict(op.row or {}, sync_hlc=op.hlc, sync_origin=op.origin)
            current = state.get(op.pk)
            if current is not None:
                current_key = (current["sync_hlc"], current["sync_origin"])
                if op.key == current_key or (
                    op.key < current_key and _same_content(table, current, row)
                ):  # the server holds this version, or a newer one saying the same
                    self.results[op.op_id] = OpResult(
                        op.op_id,
                        "applied",
                        version=current["sync_version"],
                        hlc=current_key[0] if op.key < current_key else op.hlc,
                    )
                    continue
                if op.key <= current_key:
                    self.lose(
                        op,
                        table,
                        "stale_write",
                        f"This change ({_who(op.origin)}, {_when(op.hlc)}) arrived after a newer "
                        f"one ({_who(current_key[1])}, {_when(current_key[0])}).",
                        row,
                        current,
                        current_key,
                        "a newer change to this row exists",
                    )
                    continue
                if op.pk in reviewed and any(
                    _differs(current.get(f), row.get(f)) for f in _AI_FIELDS
                ):
                    self.lose(
                        op,
                        table,
                        "human_decision",
                        "An AI re-assessment tried to change a proposal a teacher has already "
                        "decided on; the teacher's decision stands.",
                        row,
                        current,
                        current_key,
                        "a teacher has decided on this assessment",
                    )
                    continue
                if (
                    current["sync_version"] != op.base_version
                    and current_key[1] != op.origin
                    and not _same_content(table, current, row)
                ):
                    self.conflict(
                        table,
                        op.pk,
                        "stale_write",
                        f"Replaced by a newer change ({_who(op.origin)}, {_when(op.hlc)}) made "
                        "without seeing this version.",
                        current,
                        current_key,
                        row,
                        op.key,
                    )
            else:
                if update_only(table):  # the row is another teacher's, or none at all
                    self.results[op.op_id] = OpResult(op.op_id, "rejected", _not_allowed(op))
                    continue
                tomb = tombs.get(op.pk)
                if tomb is not None and op.key <= tomb:
                    self.lose(
                        op,
                        table,
                        "deleted_row",
                        f"This change ({_who(op.origin)}, {_when(op.hlc)}) was made to a row that "
                        f"was deleted later ({_who(tomb[1])}, {_when(tomb[0])}).",
                        row,
                        None,
                        tomb,
                        "the row was deleted by a newer change",
                    )
                    continue
            key = _natural_key(table, row)
            rival = (
                next(
                    (
                        r
                        for r in rivals.get(key, ())
                        if str(r["id"]) != op.pk and state.get(str(r["id"]), r) is not None
                    ),
                    None,
                )
                if key is not None
                else None
            )
            if rival is not None:
                rival_key = (rival["sync_hlc"], rival["sync_origin"])
                what = NATURAL_KEYS[table].words
                if op.key <= rival_key:
                    self.lose(
                        op,
                        table,
                        "natural_key",
                        f"Two {what}; the newer one ({_who(rival_key[1])}, {_when(rival_key[0])}) "
                        f"was kept.",
                        row,
                        rival,
                        rival_key,
                        f"another of the {what} is newer",
                        drop_local=True,
                    )
                    continue
                self.conflict(
                    table,
                    str(rival["id"]),
                    "natural_key",
                    f"Two {what}; the newer one ({_who(op.origin)}, {_when(op.hlc)}) was kept.",
                    rival,
                    rival_key,
                    row,
                    op.key,
                )
                displaced.append((str(rival["id"]), op))
                state[str(rival["id"])] = None
            state[op.pk] = row
            winners[op.pk] = (op, row)
            applied.setdefault(op.pk, []).append(op)
        for pk, op in displaced:
            self._delete(table, pk_value(table, pk), op)
        if winners:
            self._write(table, list(winners.values()), applied)

    def _write(
        self,
        table: str,
        winners: list[tuple[Op, dict[str, Any]]],
        applied: dict[str, list[Op]],
    ) -> None:
        cols = settable_columns(table)
        if update_only(table):
            for op, row in winners:
                self.cur.execute(
                    sql.SQL(
                        "UPDATE {t} SET {sets} WHERE id = %s RETURNING id, sync_version, sync_hlc"
                    ).format(
                        t=sql.Identifier(table),
                        sets=sql.SQL(", ").join(
                            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in cols
                        ),
                    ),
                    [server_value(table, c, row.get(c)) for c in cols] + [pk_value(table, op.pk)],
                )
                self._written(table, applied[op.pk], self.cur.fetchall())
            return
        all_cols = ("id", *cols)
        statement = (
            sql.SQL(
                "INSERT INTO {t} ({cols}) VALUES %s ON CONFLICT (id) DO UPDATE SET {sets} "
                "RETURNING id, sync_version, sync_hlc"
            )
            .format(
                t=sql.Identifier(table),
                cols=sql.SQL(", ").join(map(sql.Identifier, all_cols)),
                sets=sql.SQL(", ").join(
                    sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in cols
                ),
            )
            .as_string(self.cur)
        )
        convert = converters(table, cols)
        int_id = table in INT_ID_TABLES
        values = [
            (
                int(op.pk) if int_id else op.pk,
                *(f(row.get(c)) for c, f in zip(cols, convert, strict=True)),
            )
            for op, row in winners
        ]
        returned = execute_values(self.cur, statement, values, page_size=len(values), fetch=True)
        self._written(table, [o for op, _row in winners for o in applied[op.pk]], returned)

    def _written(self, table: str, ops: list[Op], returned: list[tuple[Any, ...]]) -> None:
        versions = {str(pk): (version, stamp) for pk, version, stamp in returned}
        for op in ops:
            version, stamp = versions.get(op.pk, (None, None))
            if version is None:
                self.results[op.op_id] = OpResult(op.op_id, "rejected", _not_allowed(op))
            else:
                self.results[op.op_id] = OpResult(op.op_id, "applied", version=version, hlc=stamp)

    # deletes ----------------------------------------------------------------------------
    def _delete(self, table: str, pk: Any, op: Op) -> bool:
        self.cur.execute(
            "SELECT set_config('flourish.delete_stamp', %s, true)", (f"{op.hlc}:{op.origin}",)
        )
        self.cur.execute(
            sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(table)), (pk,)
        )
        deleted = bool(self.cur.rowcount)
        self.cur.execute("SELECT set_config('flourish.delete_stamp', '', true)")
        return deleted

    def _gone(self, table: str, ops: list[Op]) -> set[str]:
        """Of ``ops`` (rows this login cannot see), those known to be gone for it."""
        if not ops:
            return set()
        gone = set(_tombstones(self.cur, table, [op.pk for op in ops]))
        if table not in ("teachers", "students"):  # ids a laptop mints
            self.cur.execute("SELECT device_no FROM sync_devices")  # this teacher's laptops
            own = {int(r[0]) for r in self.cur.fetchall()}
            gone |= {op.pk for op in ops if device_of(pk_value(table, op.pk)) in own}
        return gone

    def deletes(self, table: str, ops: list[Op]) -> None:
        state: dict[str, dict[str, Any] | None] = dict(
            _existing(self.cur, table, [pk_value(table, op.pk) for op in ops])
        )
        known_gone = self._gone(table, [op for op in ops if state.get(op.pk) is None])
        for op in ops:
            current = state.get(op.pk)
            if current is None:
                # Already deleted (a tombstone addressed to this teacher), or a row only
                # this teacher's laptops could have made that never reached the server:
                # applied. Anything else may be another teacher's row: not allowed.
                self.results[op.op_id] = (
                    OpResult(op.op_id, "applied")
                    if op.pk in known_gone
                    else OpResult(op.op_id, "rejected", _not_allowed(op))
                )
                continue
            if update_only(table):
                self.results[op.op_id] = OpResult(
                    op.op_id, "rejected", f"{table}: rows cannot be deleted from a laptop"
                )
                continue
            current_key = (current["sync_hlc"], current["sync_origin"])
            gone = {"id": current["id"], "_deleted": True}
            if op.key <= current_key:
                self.lose(
                    op,
                    table,
                    "stale_write",
                    f"This deletion ({_who(op.origin)}, {_when(op.hlc)}) was older than a change "
                    f"to the row ({_who(current_key[1])}, {_when(current_key[0])}); the row stays.",
                    gone,
                    current,
                    current_key,
                    "the row was changed after this deletion",
                )
                continue
            if current["sync_version"] != op.base_version and current_key[1] != op.origin:
                self.conflict(
                    table,
                    op.pk,
                    "stale_write",
                    f"Deleted ({_who(op.origin)}, {_when(op.hlc)}) without seeing this version.",
                    current,
                    current_key,
                    gone,
                    op.key,
                )
            self._delete(table, pk_value(table, op.pk), op)
            state[op.pk] = None
            self.results[op.op_id] = OpResult(op.op_id, "applied")

    # conflicts ------------------------------------------------------------------------------
    def flush_conflicts(self) -> int:
        if not self.conflicts:
            return 0
        rows = [
            (
                c.table,
                c.pk,
                c.student_id,
                c.kind,
                c.reason,
                Json(c.losing),
                c.losing_hlc,
                c.losing_origin,
                None if c.winning is None else Json(c.winning),
                c.winning_hlc,
                c.winning_origin,
            )
            for c in self.conflicts
        ]
        execute_values(
            self.cur,
            "INSERT INTO sync_conflicts (table_name, row_pk, student_id, kind, reason, "
            "losing_row, losing_hlc, losing_origin, winning_row, winning_hlc, winning_origin, "
            "teacher_id, created_at) VALUES %s",
            rows,
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, current_teacher_id(), "
            "(now() AT TIME ZONE 'UTC'))",
        )
        count = len(self.conflicts)
        self.conflicts = []
        return count


def _same_content(table: str, server: dict[str, Any], laptop: dict[str, Any]) -> bool:
    """Do two versions of a row say the same, leaving out what the server derives itself?"""
    derived = untracked_columns(table)
    return not any(
        _differs(server.get(c), laptop.get(c))
        for c in settable_columns(table)
        if c not in derived and c not in ("sync_hlc", "sync_origin")
    )


def _differs(server: Any, laptop: Any) -> bool:
    if server is None or laptop is None:
        return server is not laptop
    if isinstance(server, float | int) or isinstance(laptop, float | int):
        try:
            return round(float(server), 2) != round(float(laptop), 2)
        except (TypeError, ValueError):
            return True
    return str(server) != str(laptop)


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


def _not_allowed(op: Op) -> str:
    """The one answer for a change refused because it touches a row, an id or evidence
    that is not this teacher's — whether that row exists or not, and whatever the database
    said (a hidden row, a taken id, a missing parent), so that nothing about other
    teachers' rows can be read from it."""
    return f"not allowed for this teacher: {op.table} {op.pk} (a row, id or evidence not its own)"


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
        return _not_allowed(op)
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
    batch = _Batch(cur, device_no)
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
