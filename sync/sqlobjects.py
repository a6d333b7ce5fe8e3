"""Replaceable database objects: views, functions and triggers kept as whole SQL files.

Each file under ``sql/objects/`` (PostgreSQL) or ``sql/local/`` (SQLite) defines one object
and starts with a ``-- drop: ...`` line that removes it. Migrations apply them in the order
listed here and drop them in reverse; a changed object is re-created whole.

When an object changes, the version an older migration created is kept under
``sql/objects/_history/<revision>/``; that migration loads it with ``as_of=<revision>`` so
that upgrading from empty and downgrading both rebuild exactly what each revision had.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sync.paths import sql_path

__all__ = ["CENTRAL_OBJECTS", "LOCAL_OBJECTS", "POLICIES", "SqlObject", "load"]

#: Row level security, one file per table.
POLICIES = (
    "policies/teachers",
    "policies/students",
    "policies/data_entries",
    "policies/assessments",
    "policies/teacher_corrections",
    "policies/skill_targets",
    "policies/badges",
    "policies/sync_conflicts",
    "policies/sync_tombstones",
    "policies/sync_visibility",
    "policies/sync_devices",
    "policies/sync_events",
    "policies/evidence_shares",
    "policies/staff",
    "policies/service_accounts",
)

#: PostgreSQL objects in creation order (functions before the triggers that call them).
CENTRAL_OBJECTS = (
    "grants/roles",
    "grants/service_role",
    "functions/server_hlc",
    "functions/mark_assessment_corrected",
    "functions/unmark_assessment_corrected",
    "functions/sync_stamp",
    "functions/sync_tombstone",
    "functions/sync_forget_tombstone",
    "functions/sync_student_visibility",
    "functions/current_teacher_id",
    "functions/audit_event",
    "functions/audit_append_only",
    "functions/own_student_ids",
    "functions/own_assessment_ids",
    "functions/sync_register_device",
    "functions/owns_entry",
    "functions/shared_entry_ids",
    "functions/guard_teacher_write",
    "functions/guard_teacher_delete",
    "functions/evidence_share_stamp",
    "functions/sync_notify",
    "triggers/trigger_mark_corrected",
    "triggers/trigger_unmark_corrected",
    "triggers/trigger_student_visibility",
    "triggers/sync_triggers",
    "triggers/audit_append_only",
    "triggers/guard_triggers",
    "triggers/sync_notify",
    "views/latest_assessments",
    "views/student_progress_summary",
    "views/effective_levels",
    "schemas/reports",
    "reports/student_progress_summary",
    "reports/effective_levels",
    "reports/latest_assessments",
    "grants/flourish_teacher",
    "grants/flourish_admin",
    "grants/flourish_auditor",
    "grants/evidence_shares",
    "grants/flourish_service",
    *POLICIES,
    "grants/ownership",
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
def load(name: str, *, local: bool = False, as_of: str | None = None) -> SqlObject:
    """The object ``name``; with ``as_of``, the version migration ``as_of`` created."""
    path = sql_path("local" if local else "objects", f"{name}.sql")
    if as_of is not None:
        historic = sql_path("objects", "_history", as_of, f"{name}.sql")
        if historic.exists():
            path = historic
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    if not first.startswith("-- drop:"):
        raise ValueError(f"{path}: the first line must be '-- drop: <statement>'")
    return SqlObject(name=name, create=text, drop=first.removeprefix("-- drop:").strip())
