"""Create, read, update and delete for every synced table, on either store.

One :class:`Repo` per table (``TEACHERS``, ``STUDENTS``, ...) works on any SQLAlchemy
connection to the central PostgreSQL database or to the local SQLite mirror: it picks the
table definitions that match the connection's dialect. Statements are built with SQLAlchemy
Core, so user input only ever travels as bound parameters.

The repos do not stamp sync bookkeeping or allocate ids themselves: on the local store a
:class:`~sync.store.local.WriteTxn` does that before calling them, and on the server the
triggers do. Integrity errors come back as :class:`~sync.errors.ValidationError` (a CHECK
or NOT NULL rule) or :class:`~sync.errors.ConflictError` (a uniqueness rule) with a message
that names the rule in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from sync.errors import ConflictError, NotFoundError, ValidationError
from sync.model.records import (
    Assessment,
    Badge,
    Conflict,
    Correction,
    DataEntry,
    R,
    SkillTarget,
    Student,
    Teacher,
    from_mapping,
)
from sync.model.tables import CENTRAL, LOCAL, Schema
from sync.model.vocab import BADGE_LEVEL, CATEGORIES, ENTRY_TYPES, LEVELS

__all__ = [
    "ASSESSMENTS",
    "BADGES",
    "CONFLICTS",
    "CORRECTIONS",
    "DATA_ENTRIES",
    "REPOS",
    "SYNCED_REPOS",
    "Repo",
    "STUDENTS",
    "TARGETS",
    "TEACHERS",
    "integrity_errors",
    "schema_for",
]

_SYNC_FIELDS = ("sync_hlc", "sync_origin", "sync_version")

_LEVELS = ", ".join(LEVELS)
# What each named rule means, in the words an error message should use.
RULES: dict[str, str] = {
    "chk_teacher_id": "teacher id must look like T001 (a T and at least three digits)",
    "chk_email_format": "email address is not valid",
    "teachers_email_key": "another teacher already uses this email address",
    "chk_student_id": "student id must look like S001 (an S and at least three digits)",
    "chk_grade_range": "grade must be 6, 7 or 8",
    "chk_data_entry_id": "data entry id must look like DE001",
    "chk_data_type": "entry type must be one of " + ", ".join(ENTRY_TYPES),
    "chk_content_not_empty": "evidence text must not be empty",
    "assessments_confidence_score_check": "confidence must be between 0.00 and 1.00",
    "chk_skill_category": "skill category must be one of " + ", ".join(CATEGORIES),
    "chk_level": f"level must be one of {_LEVELS}",
    "chk_data_point_count": "data point count must be positive",
    "chk_original_level": f"original level must be one of {_LEVELS}",
    "chk_corrected_level": f"corrected level must be one of {_LEVELS}",
    "chk_levels_different": "a correction must change the level or the justification",
    "teacher_corrections_assessment_id_key": "this assessment already has a teacher decision",
    "chk_completion_logic": "a completed target needs a completion time (and only then)",
    "chk_starting_level": f"starting level must be one of {_LEVELS}",
    "chk_target_level": f"target level must be one of {_LEVELS}",
    "idx_targets_active": "this student already has an active target for this skill",
    "chk_badge_category": "skill category must be one of " + ", ".join(CATEGORIES),
    "chk_badge_type": "badge type must be bronze, silver or gold",
    "chk_badge_level": "badge and level must match: "
    + ", ".join(f"{b} = {lvl}" for b, lvl in BADGE_LEVEL.items()),
    "badges_student_id_skill_name_level_achieved_key": (
        "this student already has a badge for this skill at this level"
    ),
}
# SQLite names UNIQUE violations by their columns, not by the constraint.
_SQLITE_UNIQUE: dict[str, str] = {
    "teachers.email": "teachers_email_key",
    "teacher_corrections.assessment_id": "teacher_corrections_assessment_id_key",
    "skill_targets.student_id, skill_targets.skill_name": "idx_targets_active",
    "badges.student_id, badges.skill_name, badges.level_achieved": (
        "badges_student_id_skill_name_level_achieved_key"
    ),
}
_UNIQUE_RULES = {name for name in RULES if name.endswith("_key") or name == "idx_targets_active"}


def schema_for(conn: Connection) -> Schema:
    return CENTRAL if conn.dialect.name == "postgresql" else LOCAL


def _describe(exc: IntegrityError, where: str) -> ValidationError | ConflictError:
    text = str(exc.orig)
    rule = None
    m = re.search(r'constraint "([a-z0-9_]+)"', text) or re.search(
        r"CHECK constraint failed: ([a-z0-9_]+)", text
    )
    if m:
        rule = m.group(1)
    else:
        m = re.search(r"UNIQUE constraint failed: ([a-z_., ]+)", text)
        if m:
            rule = _SQLITE_UNIQUE.get(m.group(1).strip())
    if rule in RULES:
        message = f"{where}: {RULES[rule]} ({rule})"
        return ConflictError(message) if rule in _UNIQUE_RULES else ValidationError(message)
    if "FOREIGN KEY" in text or "foreign key" in text:
        return ValidationError(
            f"{where}: refers to a row that does not exist ({_first_line(text)})"
        )
    if "UNIQUE" in text or "duplicate key" in text:
        return ConflictError(f"{where}: a row with this key already exists ({_first_line(text)})")
    return ValidationError(f"{where}: {_first_line(text)}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "integrity error"


@contextmanager
def integrity_errors(where: str) -> Iterator[None]:
    """Turn a database integrity error into a clear ValidationError / ConflictError."""
    try:
        yield
    except IntegrityError as exc:
        raise _describe(exc, where) from exc


class Repo(Generic[R]):
    """Typed CRUD for one table on either store."""

    def __init__(self, cls: type[R]) -> None:
        self.cls = cls
        self.name = cls.table

    def table(self, conn: Connection) -> Table:
        return schema_for(conn).table(self.name)

    def _pk(self, table: Table, pk: object) -> ColumnElement[bool]:
        return table.c.id == pk

    # -- reads -------------------------------------------------------------------------
    def get(self, conn: Connection, pk: object) -> R | None:
        t = self.table(conn)
        row = conn.execute(select(t).where(self._pk(t, pk))).mappings().first()
        return None if row is None else from_mapping(self.cls, row)

    def require(self, conn: Connection, pk: object) -> R:
        found = self.get(conn, pk)
        if found is None:
            raise NotFoundError(f"{self.name}: no row with id {pk!r}")
        return found

    def list(
        self,
        conn: Connection,
        *,
        where: Mapping[str, object] | None = None,
        order_by: Sequence[str] = ("id",),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[R]:
        t = self.table(conn)
        stmt = select(t)
        if where:
            stmt = stmt.where(and_(*(t.c[k] == v for k, v in where.items())))
        for key in order_by:
            desc = key.startswith("-")
            col = t.c[key.lstrip("-")]
            stmt = stmt.order_by(col.desc() if desc else col)
        if limit is not None:
            stmt = stmt.limit(limit).offset(offset)
        return [from_mapping(self.cls, row) for row in conn.execute(stmt).mappings()]

    def count(self, conn: Connection, *, where: Mapping[str, object] | None = None) -> int:
        t = self.table(conn)
        stmt = select(func.count()).select_from(t)
        if where:
            stmt = stmt.where(and_(*(t.c[k] == v for k, v in where.items())))
        return int(conn.execute(stmt).scalar_one())

    # -- writes ------------------------------------------------------------------------
    def values(self, conn: Connection, record: R) -> dict[str, Any]:
        """Column values to write: unset optional fields are left to server defaults."""
        t = self.table(conn)
        out: dict[str, Any] = {}
        for name, value in record.to_dict().items():
            if name not in t.c:
                continue
            if value is None and t.c[name].server_default is not None:
                continue
            if name in _SYNC_FIELDS and conn.dialect.name == "postgresql" and not value:
                continue
            out[name] = value
        return out

    def insert(self, conn: Connection, record: R) -> R:
        t = self.table(conn)
        with integrity_errors(f"{self.name} {record.to_dict().get('id') or '(new)'}"):
            pk = conn.execute(
                insert(t).values(self.values(conn, record)).returning(t.c.id)
            ).scalar_one()
        return self.require(conn, pk)

    def update(self, conn: Connection, pk: object, changes: Mapping[str, Any]) -> R:
        t = self.table(conn)
        unknown = set(changes) - set(t.c.keys())
        if unknown:
            raise ValidationError(f"{self.name}: unknown column(s) {', '.join(sorted(unknown))}")
        if "id" in changes and changes["id"] != pk:
            raise ValidationError(f"{self.name} {pk}: the id of a row cannot change")
        with integrity_errors(f"{self.name} {pk}"):
            result = conn.execute(update(t).where(self._pk(t, pk)).values(dict(changes)))
        if result.rowcount == 0:
            raise NotFoundError(f"{self.name}: no row with id {pk!r}")
        return self.require(conn, pk)

    def delete(self, conn: Connection, pk: object) -> bool:
        t = self.table(conn)
        with integrity_errors(f"{self.name} {pk}"):
            result = conn.execute(delete(t).where(self._pk(t, pk)))
        return bool(result.rowcount)


TEACHERS = Repo(Teacher)
STUDENTS = Repo(Student)
DATA_ENTRIES = Repo(DataEntry)
ASSESSMENTS = Repo(Assessment)
CORRECTIONS = Repo(Correction)
TARGETS = Repo(SkillTarget)
BADGES = Repo(Badge)
CONFLICTS = Repo(Conflict)

REPOS: dict[str, Repo[Any]] = {
    repo.name: repo
    for repo in (TEACHERS, STUDENTS, DATA_ENTRIES, ASSESSMENTS, CORRECTIONS, TARGETS, BADGES)
}
#: Every synced table, the conflict log included.
SYNCED_REPOS: dict[str, Repo[Any]] = {**REPOS, CONFLICTS.name: CONFLICTS}
