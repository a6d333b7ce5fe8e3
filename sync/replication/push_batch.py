"""Deciding and writing one run of a batch (operations of one table and kind) on the
server: who wins, what is logged in ``sync_conflicts``, and the set-based writes. The rules
are told in :mod:`sync.replication.push`, which drives this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from sync.model.ids import device_of
from sync.model.rules import NATURAL_KEYS
from sync.replication.push_rows import (
    Conflict,
    differs,
    existing,
    insert_conflicts,
    natural_key,
    not_allowed,
    rivals,
    same_content,
    student_of,
    tombstones,
    when,
    who,
)
from sync.replication.wire import (
    INT_ID_TABLES,
    Op,
    converters,
    pk_value,
    server_value,
    settable_columns,
    update_only,
)

__all__ = ["BatchResult", "OpResult", "RunBatch"]

#: The fields of an assessment the AI writes; a teacher's decision freezes them.
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

Row = dict[str, Any]
Key = tuple[int, int]  # (sync_hlc, sync_origin): the greater wins


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
class _Held:
    """What the server holds for the rows one run of upserts touches (locked)."""

    state: dict[str, Row | None]  # by pk; None once deleted in this run
    tombs: dict[str, Key]
    rivals: dict[tuple[Any, ...], list[Row]]  # by natural key
    reviewed: set[str]  # assessments a teacher has decided on

    @classmethod
    def read(cls, cur: Any, table: str, ops: list[Op]) -> _Held:
        pks = [pk_value(table, op.pk) for op in ops]
        state: dict[str, Row | None] = dict(existing(cur, table, pks))
        tombs = tombstones(cur, table, [op.pk for op in ops])
        by_key: dict[tuple[Any, ...], list[Row]] = {}
        for r in rivals(cur, table, [op.row or {} for op in ops]):
            rival_key = natural_key(table, r)
            if rival_key is not None:
                by_key.setdefault(rival_key, []).append(r)
        reviewed: set[str] = set()
        if table == "assessments":
            cur.execute(
                "SELECT assessment_id FROM teacher_corrections WHERE assessment_id = ANY(%s)",
                (pks,),
            )
            reviewed = {str(r[0]) for r in cur.fetchall()}
        return cls(state=state, tombs=tombs, rivals=by_key, reviewed=reviewed)

    def rival(self, table: str, op: Op, row: Row) -> Row | None:
        """Another live row with ``row``'s natural key, if any."""
        key = natural_key(table, row)
        if key is None:
            return None
        return next(
            (
                r
                for r in self.rivals.get(key, ())
                if str(r["id"]) != op.pk and self.state.get(str(r["id"]), r) is not None
            ),
            None,
        )


def _key(row: Row) -> Key:
    return (row["sync_hlc"], row["sync_origin"])


class RunBatch:
    """The answers and conflicts of one batch, built run by run inside its transaction."""

    def __init__(self, cur: Any, device_no: int) -> None:
        self.cur = cur
        self.device_no = device_no
        self.results: dict[int, OpResult] = {}
        self.conflicts: list[Conflict] = []

    def conflict(
        self,
        table: str,
        pk: str,
        *,
        kind: str,
        reason: str,
        losing: Row,
        losing_key: Key,
        winning: Row | None,
        winning_key: Key | None,
    ) -> None:
        """Log ``losing`` (overwritten or refused) in ``sync_conflicts`` with its winner."""
        self.conflicts.append(
            Conflict(
                table=table,
                pk=pk,
                student_id=student_of(self.cur, table, winning or losing),
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
        *,
        kind: str,
        reason: str,
        why: str,
        losing: Row,
        winner: Row | None,
        winner_key: Key | None,
        drop_local: bool = False,
    ) -> None:
        """``op`` lost to ``winner``: log the losing version and answer ``lost``."""
        self.conflict(
            op.table,
            op.pk,
            kind=kind,
            reason=reason,
            losing=losing,
            losing_key=op.key,
            winning=winner,
            winning_key=winner_key,
        )
        self.results[op.op_id] = OpResult(
            op.op_id, "lost", why, server_row=winner, server_table=op.table, drop_local=drop_local
        )

    # upserts -------------------------------------------------------------------------
    def upserts(self, table: str, ops: list[Op]) -> None:
        held = _Held.read(self.cur, table, ops)
        winners: dict[str, tuple[Op, Row]] = {}
        applied: dict[str, list[Op]] = {}
        displaced: list[tuple[str, Op]] = []
        for op in ops:
            row = dict(op.row or {}, sync_hlc=op.hlc, sync_origin=op.origin)
            current = held.state.get(op.pk)
            if current is not None:
                if self._answered_by_current(op, row, current, op.pk in held.reviewed):
                    continue
            elif self._answered_without_row(op, row, held.tombs.get(op.pk)):
                continue
            rival = held.rival(table, op, row)
            if rival is not None:
                if self._lost_to_rival(op, row, rival):
                    continue
                displaced.append((str(rival["id"]), op))
                held.state[str(rival["id"])] = None
            held.state[op.pk] = row
            winners[op.pk] = (op, row)
            applied.setdefault(op.pk, []).append(op)
        for pk, op in displaced:
            self._delete(table, pk_value(table, pk), op)
        if winners:
            self._write(table, list(winners.values()), applied)

    def _answered_by_current(self, op: Op, row: Row, current: Row, reviewed: bool) -> bool:
        """Weigh ``op`` against the row the server holds; True when ``op`` is answered
        (already there, or lost) and must not be written."""
        table, current_key = op.table, _key(current)
        if op.key == current_key or (op.key < current_key and same_content(table, current, row)):
            # the server holds this version, or a newer one saying the same
            self.results[op.op_id] = OpResult(
                op.op_id,
                "applied",
                version=current["sync_version"],
                hlc=current_key[0] if op.key < current_key else op.hlc,
            )
            return True
        if op.key <= current_key:
            self.lose(
                op,
                kind="stale_write",
                reason=f"This change ({who(op.origin)}, {when(op.hlc)}) arrived after a newer "
                f"one ({who(current_key[1])}, {when(current_key[0])}).",
                why="a newer change to this row exists",
                losing=row,
                winner=current,
                winner_key=current_key,
            )
            return True
        if reviewed and any(differs(current.get(f), row.get(f)) for f in _AI_FIELDS):
            self.lose(
                op,
                kind="human_decision",
                reason="An AI re-assessment tried to change a proposal a teacher has already "
                "decided on; the teacher's decision stands.",
                why="a teacher has decided on this assessment",
                losing=row,
                winner=current,
                winner_key=current_key,
            )
            return True
        if (
            current["sync_version"] != op.base_version
            and current_key[1] != op.origin
            and not same_content(table, current, row)
        ):
            self.conflict(
                table,
                op.pk,
                kind="stale_write",
                reason=f"Replaced by a newer change ({who(op.origin)}, {when(op.hlc)}) made "
                "without seeing this version.",
                losing=current,
                losing_key=current_key,
                winning=row,
                winning_key=op.key,
            )
        return False

    def _answered_without_row(self, op: Op, row: Row, tomb: Key | None) -> bool:
        """``op`` names a row the server does not hold: True when it is answered
        (refused, or lost to a later deletion)."""
        if update_only(op.table):  # the row is another teacher's, or none at all
            self.results[op.op_id] = OpResult(op.op_id, "rejected", not_allowed(op))
            return True
        if tomb is not None and op.key <= tomb:
            self.lose(
                op,
                kind="deleted_row",
                reason=f"This change ({who(op.origin)}, {when(op.hlc)}) was made to a row that "
                f"was deleted later ({who(tomb[1])}, {when(tomb[0])}).",
                why="the row was deleted by a newer change",
                losing=row,
                winner=None,
                winner_key=tomb,
            )
            return True
        return False

    def _lost_to_rival(self, op: Op, row: Row, rival: Row) -> bool:
        """Two rows for one natural key: the newer stays. True when ``op`` lost; otherwise
        the rival is logged and the caller deletes it."""
        rival_key = _key(rival)
        what = NATURAL_KEYS[op.table].words
        if op.key <= rival_key:
            self.lose(
                op,
                kind="natural_key",
                reason=f"Two {what}; the newer one ({who(rival_key[1])}, {when(rival_key[0])}) "
                f"was kept.",
                why=f"another of the {what} is newer",
                losing=row,
                winner=rival,
                winner_key=rival_key,
                drop_local=True,
            )
            return True
        self.conflict(
            op.table,
            str(rival["id"]),
            kind="natural_key",
            reason=f"Two {what}; the newer one ({who(op.origin)}, {when(op.hlc)}) was kept.",
            losing=rival,
            losing_key=rival_key,
            winning=row,
            winning_key=op.key,
        )
        return False

    def _write(
        self,
        table: str,
        winners: list[tuple[Op, Row]],
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
                self._written(applied[op.pk], self.cur.fetchall())
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
        self._written([o for op, _row in winners for o in applied[op.pk]], returned)

    def _written(self, ops: list[Op], returned: list[tuple[Any, ...]]) -> None:
        versions = {str(pk): (version, stamp) for pk, version, stamp in returned}
        for op in ops:
            version, stamp = versions.get(op.pk, (None, None))
            if version is None:
                self.results[op.op_id] = OpResult(op.op_id, "rejected", not_allowed(op))
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
        gone = set(tombstones(self.cur, table, [op.pk for op in ops]))
        if table not in ("teachers", "students"):  # ids a laptop mints
            self.cur.execute("SELECT device_no FROM sync_devices")  # this teacher's laptops
            own = {int(r[0]) for r in self.cur.fetchall()}
            gone |= {op.pk for op in ops if device_of(pk_value(table, op.pk)) in own}
        return gone

    def deletes(self, table: str, ops: list[Op]) -> None:
        state: dict[str, Row | None] = dict(
            existing(self.cur, table, [pk_value(table, op.pk) for op in ops])
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
                    else OpResult(op.op_id, "rejected", not_allowed(op))
                )
                continue
            if update_only(table):
                self.results[op.op_id] = OpResult(
                    op.op_id, "rejected", f"{table}: rows cannot be deleted from a laptop"
                )
                continue
            current_key = _key(current)
            gone = {"id": current["id"], "_deleted": True}
            if op.key <= current_key:
                self.lose(
                    op,
                    kind="stale_write",
                    reason=f"This deletion ({who(op.origin)}, {when(op.hlc)}) was older than a "
                    f"change to the row ({who(current_key[1])}, {when(current_key[0])}); the "
                    "row stays.",
                    why="the row was changed after this deletion",
                    losing=gone,
                    winner=current,
                    winner_key=current_key,
                )
                continue
            if current["sync_version"] != op.base_version and current_key[1] != op.origin:
                self.conflict(
                    table,
                    op.pk,
                    kind="stale_write",
                    reason=f"Deleted ({who(op.origin)}, {when(op.hlc)}) without seeing this "
                    "version.",
                    losing=current,
                    losing_key=current_key,
                    winning=gone,
                    winning_key=op.key,
                )
            self._delete(table, pk_value(table, op.pk), op)
            state[op.pk] = None
            self.results[op.op_id] = OpResult(op.op_id, "applied")

    # conflicts ------------------------------------------------------------------------------
    def flush_conflicts(self) -> int:
        """Write the logged conflicts to ``sync_conflicts``; how many there were."""
        if not self.conflicts:
            return 0
        insert_conflicts(self.cur, self.conflicts)
        count = len(self.conflicts)
        self.conflicts = []
        return count
