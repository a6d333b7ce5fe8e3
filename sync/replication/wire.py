"""What travels between a laptop and the server: queued operations and row values.

A queued operation (a row of ``sync_operations``) carries the full image of the row as
JSON (see :mod:`sync.store.capture`). :func:`parse_op` turns it into an :class:`Op` or raises
:class:`BadOp` with the reason it cannot be sent (the push quarantines it). Values are
converted between the two stores here and nowhere else: SQLite keeps dates as ISO text,
booleans as 0/1 and JSON as text; PostgreSQL wants real types.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from psycopg2.extras import Json
from sqlalchemy import JSON, Boolean, Date, DateTime, Numeric

from sync.model.rules import derived_columns, hidden_columns
from sync.model.tables import CENTRAL, LOCAL, SYNCED_TABLES

__all__ = [
    "INT_ID_TABLES",
    "PULL_STEPS",
    "PULL_TABLES",
    "BadOp",
    "Op",
    "exchanged_columns",
    "jsonable",
    "local_value",
    "parse_op",
    "pk_value",
    "select_list",
    "server_row",
    "server_value",
    "settable_columns",
]

#: The tables a pull brings, parents first.
PULL_TABLES = SYNCED_TABLES
#: The steps of a pull, in order: deletions first (a row re-created after a deletion then
#: wins), then the tables, then visibility events (students moved between teachers).
PULL_STEPS = ("tombstones", *PULL_TABLES, "visibility")

#: Tables whose primary key is an integer (the others are text).
INT_ID_TABLES = frozenset(
    {"assessments", "teacher_corrections", "skill_targets", "badges", "sync_conflicts"}
)
_SERVER_ONLY = {"sync_txid", "modified_at"}
# Tables where a laptop may only change these columns of existing rows.
_UPDATE_ONLY = {
    "teachers": {"name", "external_source", "external_id"},
    "sync_conflicts": {"resolution", "resolved_at"},
}


class BadOp(Exception):
    """A queued operation that cannot be sent as it is (quarantined with this reason)."""


@dataclass(frozen=True)
class Op:
    op_id: int
    table: str
    pk: str
    kind: str  # 'upsert' | 'delete'
    row: dict[str, Any] | None
    hlc: int
    origin: int
    base_version: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.hlc, self.origin)


@cache
def exchanged_columns(table: str) -> tuple[str, ...]:
    """Columns that travel for ``table`` (both directions), in table order."""
    local = set(LOCAL.table(table).columns.keys())
    hidden = hidden_columns(table)
    return tuple(
        c
        for c in CENTRAL.table(table).columns.keys()
        if c in local and c not in _SERVER_ONLY and c not in hidden
    )


# What a pull selects for a column, where that is not the column itself: evidence shared
# from another teacher's student (readable because it supports one of the teacher's own
# students' proposals) arrives without its owner.
_MASKED = {
    ("data_entries", "student_id"): (
        "CASE WHEN student_id IN (SELECT own_student_ids()) THEN student_id END"
    ),
}


@cache
def select_list(table: str) -> str:
    """The SELECT list of a pull for ``table`` (constant text, no user input).

    Values are rendered by the server in exactly the form the SQLite store keeps them
    (timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff``, booleans as 0/1, JSON as text), so a
    pulled row goes into SQLite without any conversion in Python.
    """
    kinds = _kinds(table)
    out = []
    for c in exchanged_columns(table):
        expr = _MASKED.get((table, c), c)
        kind = kinds.get(c)
        if kind == "datetime":
            expr = f"to_char({expr}, 'YYYY-MM-DD HH24:MI:SS.US')"
        elif kind == "date":
            expr = f"to_char({expr}, 'YYYY-MM-DD')"
        elif kind == "json":
            expr = f"({expr})::text"
        elif kind == "bool":
            expr = f"({expr})::int"
        elif kind == "numeric":
            expr = f"({expr})::float8"
        out.append(expr if expr == c else f"{expr} AS {c}")
    return ", ".join(out)


@cache
def settable_columns(table: str) -> tuple[str, ...]:
    """Columns a push writes (besides ``id``): the row, its HLC stamp and origin."""
    if table in _UPDATE_ONLY:
        return (*sorted(_UPDATE_ONLY[table]), "sync_hlc", "sync_origin")
    derived = derived_columns(table)
    return tuple(
        c for c in exchanged_columns(table) if c not in ("id", "sync_version") and c not in derived
    )


def update_only(table: str) -> bool:
    return table in _UPDATE_ONLY


def pk_value(table: str, pk: str) -> int | str:
    return int(pk) if table in INT_ID_TABLES else pk


@cache
def _kinds(table: str) -> dict[str, str]:
    out = {}
    for col in CENTRAL.table(table).columns:
        if isinstance(col.type, JSON):
            out[col.name] = "json"
        elif isinstance(col.type, Boolean):
            out[col.name] = "bool"
        elif isinstance(col.type, DateTime):
            out[col.name] = "datetime"
        elif isinstance(col.type, Date):
            out[col.name] = "date"
        elif isinstance(col.type, Numeric):
            out[col.name] = "numeric"
    return out


def server_value(table: str, column: str, value: Any) -> Any:
    """A payload value as psycopg2 should send it."""
    if value is None:
        return None
    kind = _kinds(table).get(column)
    if kind == "json":
        return Json(json.loads(value) if isinstance(value, str) else value)
    if kind == "bool":
        return bool(value)
    return value


def _identity(value: Any) -> Any:
    return value


def _to_json(value: Any) -> Any:
    if value is None:
        return None
    return Json(json.loads(value) if isinstance(value, str) else value)


def _to_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def converters(table: str, columns: tuple[str, ...]) -> tuple[Any, ...]:
    """One function per column turning a payload value into what psycopg2 should send
    (:func:`server_value`, resolved once per batch instead of once per value)."""
    kinds = _kinds(table)
    pick = {"json": _to_json, "bool": _to_bool}
    return tuple(pick.get(kinds.get(c, ""), _identity) for c in columns)


def local_value(table: str, column: str, value: Any) -> Any:
    """A server value as the SQLite store keeps it (SQLAlchemy's storage formats)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


def jsonable(value: Any) -> Any:
    """A server value for a JSON document (the conflict log)."""
    if isinstance(value, dt.datetime | dt.date):
        return local_value("", "", value)  # the same text the laptop stores
    if isinstance(value, Decimal):
        return float(value)
    return value


def server_row(columns: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return {c: jsonable(v) for c, v in zip(columns, values, strict=True)}


@cache
def _required(table: str) -> frozenset[str]:
    return frozenset(exchanged_columns(table))


def parse_op(
    op_id: int, table: str, row_pk: str, kind: str, payload: str, hlc: int, device_no: int
) -> Op:
    """Check one queued operation; :class:`BadOp` says why it cannot be sent."""
    if table not in SYNCED_TABLES:
        raise BadOp(f"unknown table {table!r}")
    if kind not in ("upsert", "delete"):
        raise BadOp(f"unknown operation {kind!r}")
    try:
        data = json.loads(payload)
    except (TypeError, ValueError) as exc:
        raise BadOp(f"the queued row is not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or "id" not in data:
        raise BadOp("the queued row has no id")
    if str(data["id"]) != row_pk:
        raise BadOp(f"the queued row's id {data['id']!r} does not match {row_pk!r}")
    if kind == "upsert":
        missing = _required(table) - data.keys()
        if missing:
            raise BadOp(f"the queued row lacks column(s) {', '.join(sorted(missing))}")
    if not isinstance(hlc, int) or hlc <= 0:
        raise BadOp(f"invalid timestamp {hlc!r}")
    base = data.get("sync_version") or 0
    # A version is named by its stamp and the device that wrote it (the row's own origin):
    # a row re-sent by another laptop (after a server restore) is still the same version.
    origin = data.get("sync_origin") if kind == "upsert" else None
    return Op(
        op_id=op_id,
        table=table,
        pk=row_pk,
        kind=kind,
        row=data if kind == "upsert" else None,
        hlc=hlc,
        origin=origin if isinstance(origin, int) and origin >= 0 else device_no,
        base_version=int(base) if isinstance(base, int | str) and str(base).isdigit() else 0,
    )
