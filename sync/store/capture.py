"""Change capture on the local store: SQLite triggers that queue every write.

For each synced table the local schema carries triggers, generated here from
:data:`sync.model.tables.LOCAL` so they always list the current columns:

* ``capture_<t>_insert`` / ``_update`` / ``_delete`` — AFTER triggers that put the row's
  full image (or, for a delete, its key) into ``sync_operations`` **in the same transaction
  as the write**. A later change of a row whose operation has not been sent yet is folded
  into that operation, which keeps its place (its id) in the queue: operations stay in
  the order rows were first changed, so a parent is always sent before its children. An
  operation that has been sent (``attempts > 0``) is never changed again — the server may
  already hold it — and a later change becomes a new operation.
* ``capture_<t>_stamp_insert`` / ``_stamp_update`` — BEFORE triggers that refuse a write
  which does not carry a fresh HLC stamp. Only :class:`sync.store.local.WriteTxn` stamps rows, so
  nothing (UI, CLI, or a stray ``sqlite3`` session) can change synced data without it being
  queued.

All of them are inert while ``sync_apply_guard.applying = 1``: that is how a pull applies
server rows without queueing them again. The guard is only ever set inside the pull's own
``BEGIN IMMEDIATE`` transaction, so no other connection can observe it set.

Deletes take their stamp from the store's HLC state (``sync_state.hlc``), advanced in the
trigger itself past the deleted row's own stamp.
"""

from __future__ import annotations

from sqlalchemy import JSON, Table

from sync.model.rules import owner_path, untracked_columns
from sync.model.tables import LOCAL, SYNCED_TABLES
from sync.store.state import HLC

__all__ = [
    "capture_ddl",
    "drop_capture_ddl",
    "requeue_sql",
    "trigger_names",
]

_SYNC = frozenset({"sync_hlc", "sync_origin", "sync_version"})
_GUARD = "(SELECT applying FROM sync_apply_guard WHERE id = 1) = 0"
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
_KINDS = ("stamp_insert", "stamp_update", "insert", "update", "delete")


def _student_expr(table: str, row: str) -> str:
    """SQL for the student a row is about (:func:`sync.model.rules.owner_path`)."""
    path = owner_path(table)
    if path is None:
        return "NULL"
    if path.column is not None:
        return f"{row}.{path.column}"
    return f"(SELECT student_id FROM {path.parent} WHERE id = {row}.{path.via})"


def _payload(table: Table, row: str = "NEW") -> str:
    prefix = f"{row}."
    parts = []
    for col in table.columns:
        value = f"{prefix}{col.name}"
        if isinstance(col.type, JSON):
            value = f"json({prefix}{col.name})"
        parts.append(f"'{col.name}', {value}")
    return "json_object(" + ", ".join(parts) + ")"


def requeue_sql(table_name: str) -> str:
    """Queue every row of ``table_name`` as it is (same stamp) unless it already waits:
    after a server restore the laptop re-sends what it holds and timestamp-wins sorts it."""
    t = LOCAL.table(table_name)
    student = _student_expr(table_name, "r")
    return (
        "INSERT INTO sync_operations "
        "(table_name, row_pk, op, payload, sync_hlc, student_id, created_at) "
        f"SELECT '{table_name}', CAST(r.id AS TEXT), 'upsert', {_payload(t, 'r')}, r.sync_hlc, "
        f"{student}, {_NOW} FROM {table_name} r "
        "WHERE NOT EXISTS (SELECT 1 FROM sync_operations o WHERE o.table_name = "
        f"'{table_name}' AND o.row_pk = CAST(r.id AS TEXT) AND +o.status = 'pending')"
    )


def trigger_names(table: str) -> list[str]:
    return [f"capture_{table}_{kind}" for kind in _KINDS]


def _queue(table_name: str, row: str, op: str, payload: str, stamp: str) -> str:
    """Record a change of one row: fold it into the row's unsent operation if there is one
    (keeping that operation's place in the queue), otherwise append a new operation."""
    key = f"table_name = '{table_name}' AND row_pk = CAST({row}.id AS TEXT)"
    # "+status": look the row up through ix_sync_operations_row, never the status index,
    # which would scan every pending operation (quadratic for bulk writes).
    unsent = f"{key} AND +status = 'pending' AND attempts = 0"
    student = _student_expr(table_name, row)
    return (
        f"UPDATE sync_operations SET op = '{op}', payload = {payload}, sync_hlc = {stamp}, "
        f"student_id = {student} WHERE {unsent};\n"
        "    INSERT INTO sync_operations "
        "(table_name, row_pk, op, payload, sync_hlc, student_id, created_at) "
        f"SELECT '{table_name}', CAST({row}.id AS TEXT), '{op}', {payload}, {stamp}, "
        f"{student}, {_NOW} "
        f"WHERE NOT EXISTS (SELECT 1 FROM sync_operations WHERE {unsent});"
    )


def capture_ddl(table_name: str) -> list[str]:
    """CREATE TRIGGER statements for one synced table."""
    t = LOCAL.table(table_name)
    derived = untracked_columns(table_name)
    data_cols = [c.name for c in t.columns if c.name not in _SYNC and c.name not in derived]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in data_cols)
    refuse = (
        f"SELECT RAISE(ABORT, '{table_name}: write without a sync stamp; "
        "synced tables are written through the Flourish store only')"
    )
    upsert_body = _queue(table_name, "NEW", "upsert", _payload(t), "NEW.sync_hlc")
    delete_stamp = f"(SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = '{HLC}')"
    delete_body = _queue(table_name, "OLD", "delete", "json_object('id', OLD.id)", delete_stamp)
    return [
        f"CREATE TRIGGER capture_{table_name}_stamp_insert BEFORE INSERT ON {table_name}\n"
        f"WHEN {_GUARD} AND NEW.sync_hlc = 0\nBEGIN\n    {refuse};\nEND",
        f"CREATE TRIGGER capture_{table_name}_stamp_update BEFORE UPDATE ON {table_name}\n"
        f"WHEN {_GUARD} AND NEW.sync_hlc = OLD.sync_hlc AND ({changed})\n"
        f"BEGIN\n    {refuse};\nEND",
        f"CREATE TRIGGER capture_{table_name}_insert AFTER INSERT ON {table_name}\n"
        f"WHEN {_GUARD}\nBEGIN\n    {upsert_body}\nEND",
        f"CREATE TRIGGER capture_{table_name}_update AFTER UPDATE ON {table_name}\n"
        f"WHEN {_GUARD} AND NEW.sync_hlc IS NOT OLD.sync_hlc\nBEGIN\n    {upsert_body}\nEND",
        f"CREATE TRIGGER capture_{table_name}_delete AFTER DELETE ON {table_name}\n"
        f"WHEN {_GUARD}\nBEGIN\n"
        "    UPDATE sync_state SET value = CAST(max(CAST(value AS INTEGER), OLD.sync_hlc) + 1 "
        f"AS TEXT) WHERE key = '{HLC}';\n"
        f"    {delete_body}\nEND",
    ]


def all_capture_ddl() -> list[str]:
    return [stmt for table in SYNCED_TABLES for stmt in capture_ddl(table)]


def drop_capture_ddl() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {name}" for table in SYNCED_TABLES for name in trigger_names(table)
    ]
