"""Compare a laptop's store with the server's copy of its teacher's slice."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import text

from sync.replication.wire import PULL_TABLES, exchanged_columns, select_list
from sync.service.db import Database, DbSettings
from sync.store.local import LocalStore

_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}:\d{2}(\.\d+)?)?$")


def normal(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 2)
    if hasattr(value, "as_tuple"):
        return round(float(value), 2)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str):
        if _STAMP.match(value):
            parsed = dt.datetime.fromisoformat(value)
            if len(value) == 10:
                return parsed.date().isoformat()
            return parsed.isoformat(sep=" ", timespec="microseconds")
        if value[:1] in "{[":
            try:
                return json.dumps(json.loads(value), sort_keys=True)
            except ValueError:
                return value
    return value


def _rows(conn: Any, table: str, where: str, params: dict[str, Any]) -> set[tuple[Any, ...]]:
    cols = (
        select_list(table)
        if conn.dialect.name == "postgresql"
        else ", ".join(exchanged_columns(table))
    )
    result = conn.execute(text(f"SELECT {cols} FROM {table} WHERE {where}"), params)
    return {tuple(normal(v) for v in row) for row in result}


def server_slice(service_db_url: str, teacher: str) -> dict[str, set[tuple[Any, ...]]]:
    """Everything the service may read for ``teacher``: read through the service's own
    connection code (its login, switched to the teacher; row level security decides)."""
    db = Database(DbSettings(url=service_db_url, pool_size=1, max_overflow=0))
    try:
        with db.as_teacher(teacher) as conn:
            return {t: _rows(conn, t, "TRUE", {}) for t in PULL_TABLES}
    finally:
        db.dispose()


def local_slice(store: LocalStore) -> dict[str, set[tuple[Any, ...]]]:
    with store.read() as conn:
        return {t: _rows(conn, t, "1 = 1", {}) for t in PULL_TABLES}


def differences(a: dict[str, set[Any]], b: dict[str, set[Any]]) -> dict[str, Any]:
    out = {}
    for table in a:
        if a[table] != b[table]:
            out[table] = {
                "only_left": sorted(a[table] - b[table], key=str)[:3],
                "only_right": sorted(b[table] - a[table], key=str)[:3],
            }
    return out
