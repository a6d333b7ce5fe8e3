"""The teacher's side of the conflict log: re-apply a losing change, or dismiss it.

A conflict row (pulled from the server's ``sync_conflicts``) keeps the version that lost.
:func:`reapply` writes that version again as a new change — updating the row that holds
its key now (the same row id, or for a correction the one decision of that assessment),
or creating it again — with a fresh timestamp, so it wins on the next sync; the conflict
is marked ``reapplied``. :func:`dismiss` marks it ``dismissed``. Both go through the
normal capture path, so the resolution reaches the server and the teacher's other laptops.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sync.actions import Result
from sync.errors import NotFoundError, ValidationError
from sync.model.crud import CONFLICTS, REPOS
from sync.model.records import Conflict, Record
from sync.replication.wire import pk_value
from sync.store.local import LocalStore, WriteTxn

__all__ = ["dismiss", "reapply"]

_NOT_COPIED = {"sync_hlc", "sync_origin", "sync_version", "id", "corrected"}


def _load(txn: WriteTxn, conflict_id: int) -> Conflict:
    conflict = CONFLICTS.get(txn.conn, conflict_id)
    if conflict is None:
        raise NotFoundError(f"conflict {conflict_id}: no such conflict")
    if conflict.resolution is not None:
        raise ValidationError(f"conflict {conflict_id} is already {conflict.resolution}")
    return conflict


def _resolve(txn: WriteTxn, conflict_id: int, resolution: str) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    txn.update(Conflict, conflict_id, resolution=resolution, resolved_at=now)


def dismiss(store: LocalStore, *, conflict_id: int) -> Result[None]:
    with store.write() as txn:
        _load(txn, conflict_id)
        _resolve(txn, conflict_id, "dismissed")
        return Result(None, txn.changes)


def reapply(store: LocalStore, *, conflict_id: int, teacher_id: str) -> Result[Record | None]:
    """Write the losing version again, now; mark the conflict re-applied."""
    with store.write() as txn:
        conflict = _load(txn, conflict_id)
        repo = REPOS.get(conflict.table_name)
        if repo is None:
            raise ValidationError(
                f"conflict {conflict_id}: {conflict.table_name} cannot be re-applied"
            )
        losing: dict[str, Any] = conflict.losing_row
        if isinstance(losing, str):
            losing = json.loads(losing)
        key = pk_value(conflict.table_name, conflict.row_pk)
        stored: Record | None
        if losing.get("_deleted"):
            txn.delete(repo.cls, key)
            stored = None
        else:
            values = {
                k: v
                for k, v in losing.items()
                if k not in _NOT_COPIED and k in repo.table(txn.conn).c
            }
            values = _restore_types(repo.cls, values)
            if conflict.table_name == "teacher_corrections":
                values["corrected_by"] = teacher_id
                current = repo.list(txn.conn, where={"assessment_id": losing["assessment_id"]})
                key = current[0].id if current else key
            if repo.get(txn.conn, key) is not None:
                stored = txn.update(repo.cls, key, **values)
            else:
                stored = txn.insert(repo.cls(id=key, **values))
        _resolve(txn, conflict_id, "reapplied")
        return Result(stored, txn.changes)


def _restore_types(cls: type[Record], values: dict[str, Any]) -> dict[str, Any]:
    """JSON text back to Python values for date and time fields."""
    out = dict(values)
    hints = {f: str(t) for f, t in getattr(cls, "__annotations__", {}).items()}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        hint = hints.get(name, "")
        if "dt.datetime" in hint:
            out[name] = dt.datetime.fromisoformat(value)
        elif "dt.date" in hint:
            out[name] = dt.date.fromisoformat(value[:10])
    return out
