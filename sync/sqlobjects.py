"""Replaceable database objects: views, functions and triggers kept as whole SQL files.

Each file under ``sql/objects/`` (PostgreSQL) or ``sql/local/`` (SQLite) defines one object
and starts with a ``-- drop: ...`` line that removes it. Migrations apply them in the order
listed here and drop them in reverse; a changed object is re-created whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sync.paths import sql_path

__all__ = ["CENTRAL_OBJECTS", "LOCAL_OBJECTS", "SqlObject", "load"]

#: PostgreSQL objects in creation order (functions before the triggers that call them).
CENTRAL_OBJECTS = (
    "functions/server_hlc",
    "functions/mark_assessment_corrected",
    "functions/unmark_assessment_corrected",
    "functions/sync_stamp",
    "functions/sync_tombstone",
    "functions/sync_forget_tombstone",
    "functions/sync_student_visibility",
    "triggers/trigger_mark_corrected",
    "triggers/trigger_unmark_corrected",
    "triggers/trigger_student_visibility",
    "triggers/sync_triggers",
    "views/latest_assessments",
    "views/student_progress_summary",
    "views/effective_levels",
)

#: SQLite objects of the local mirror, in creation order.
LOCAL_OBJECTS = (
    "latest_assessments",
    "student_progress_summary",
    "effective_levels",
    "trigger_mark_corrected",
    "trigger_unmark_corrected",
)


@dataclass(frozen=True)
class SqlObject:
    name: str
    create: str
    drop: str


@cache
def load(name: str, *, local: bool = False) -> SqlObject:
    path = sql_path("local" if local else "objects", f"{name}.sql")
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    if not first.startswith("-- drop:"):
        raise ValueError(f"{path}: the first line must be '-- drop: <statement>'")
    return SqlObject(name=name, create=text, drop=first.removeprefix("-- drop:").strip())
