"""The server rows a push reads before it decides (the current rows, locked for the
transaction; tombstones; natural-key rivals; the owning student), how two versions of a
row compare, and the ``sync_conflicts`` rows it writes. Used by
:mod:`sync.replication.push_batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from sync.model.rules import NATURAL_KEYS, owner_path, untracked_columns
from sync.replication.wire import Op, exchanged_columns, server_row, settable_columns
from sync.store import hlc as hlclock

__all__ = [
    "Conflict",
    "differs",
    "existing",
    "insert_conflicts",
    "natural_key",
    "not_allowed",
    "rivals",
    "same_content",
    "student_of",
    "tombstones",
    "when",
    "who",
]


def when(stamp: int) -> str:
    return hlclock.to_datetime(stamp).strftime("%Y-%m-%d %H:%M:%S UTC")


def who(origin: int) -> str:
    return "the server" if origin == 0 else f"laptop {origin}"


def _select(
    cur: Any, table: str, where: sql.Composable, params: Sequence[Any]
) -> list[dict[str, Any]]:
    cols = exchanged_columns(table)
    query = sql.SQL("SELECT {cols} FROM {t} WHERE {w} FOR UPDATE").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)), t=sql.Identifier(table), w=where
    )
    cur.execute(query, params)
    return [server_row(cols, row) for row in cur.fetchall()]


def existing(cur: Any, table: str, pks: list[Any]) -> dict[str, dict[str, Any]]:
    rows = _select(cur, table, sql.SQL("id = ANY(%s)"), (pks,))
    return {str(r["id"]): r for r in rows}


def tombstones(cur: Any, table: str, pks: list[str]) -> dict[str, tuple[int, int]]:
    cur.execute(
        "SELECT row_pk, sync_hlc, sync_origin FROM sync_tombstones "
        "WHERE table_name = %s AND row_pk = ANY(%s)",
        (table, pks),
    )
    return {pk: (h, o) for pk, h, o in cur.fetchall()}


def natural_key(table: str, row: dict[str, Any]) -> tuple[Any, ...] | None:
    spec = NATURAL_KEYS.get(table)
    return None if spec is None else spec.key(row)


def rivals(cur: Any, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Server rows holding the natural key of any of ``rows``."""
    keys = {k for r in rows if (k := natural_key(table, r)) is not None}
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


def student_of(cur: Any, table: str, row: dict[str, Any]) -> str | None:
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


def same_content(table: str, server: dict[str, Any], laptop: dict[str, Any]) -> bool:
    """Do two versions of a row say the same, leaving out what the server derives itself?"""
    derived = untracked_columns(table)
    return not any(
        differs(server.get(c), laptop.get(c))
        for c in settable_columns(table)
        if c not in derived and c not in ("sync_hlc", "sync_origin")
    )


def differs(server: Any, laptop: Any) -> bool:
    if server is None or laptop is None:
        return server is not laptop
    if isinstance(server, float | int) or isinstance(laptop, float | int):
        try:
            return round(float(server), 2) != round(float(laptop), 2)
        except (TypeError, ValueError):
            return True
    return str(server) != str(laptop)


def not_allowed(op: Op) -> str:
    """The one answer for a change refused because it touches a row, an id or evidence
    that is not this teacher's — whether that row exists or not, and whatever the database
    said (a hidden row, a taken id, a missing parent), so that nothing about other
    teachers' rows can be read from it."""
    return f"not allowed for this teacher: {op.table} {op.pk} (a row, id or evidence not its own)"


@dataclass
class Conflict:
    """A losing version of a row and its winner, for ``sync_conflicts``."""

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


def insert_conflicts(cur: Any, conflicts: list[Conflict]) -> None:
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
        for c in conflicts
    ]
    execute_values(
        cur,
        "INSERT INTO sync_conflicts (table_name, row_pk, student_id, kind, reason, "
        "losing_row, losing_hlc, losing_origin, winning_row, winning_hlc, winning_origin, "
        "teacher_id, created_at) VALUES %s",
        rows,
        template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, current_teacher_id(), "
        "(now() AT TIME ZONE 'UTC'))",
    )
