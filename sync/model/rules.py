"""Per-table sync rules, derived once from the table definitions (:mod:`sync.model.tables`).

Capture (the local triggers), the wire format, push and pull all ask this module; none
keeps its own copy of a rule:

* :data:`SYNCED_TABLES` — the tables whose rows travel, parents first (the pull's order).
* :data:`NATURAL_KEYS` — unique rules besides the primary key (one correction per
  assessment, one *active* target per student and skill, one badge per level), read from
  the tables' unique constraints and unique partial indexes.
* :data:`PARENTS` — each synced table's foreign keys to other synced tables.
* :func:`owner_path` — how a row leads to the student it is about (for the conflict log
  and for visibility), followed through foreign keys.
* :func:`derived_columns` / :func:`untracked_columns` — columns the stores maintain
  themselves: *derived* ones (``assessments.corrected``, from the corrections) never
  travel from a laptop; *touched* ones (``assessments.updated_at``, set by the same
  triggers) travel with a row, but changing them alone is not a change. Both are marked
  on the column (``info={"sync": ...}``) where the table is defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Index, Table, UniqueConstraint

from sync.model.tables import LOCAL, SYNCED_TABLES

__all__ = [
    "NATURAL_KEYS",
    "PARENTS",
    "SYNCED_TABLES",
    "NaturalKey",
    "OwnerPath",
    "derived_columns",
    "hidden_columns",
    "owner_path",
    "untracked_columns",
]

_WORDS = {
    "teacher_corrections": "teacher decisions on one assessment",
    "skill_targets": "active targets for one student and skill",
    "badges": "badges for one student, skill and level",
}


@dataclass(frozen=True)
class NaturalKey:
    """A unique rule besides the primary key, optionally only over rows where
    ``only_when[0]`` equals ``only_when[1]`` (a partial unique index)."""

    table: str
    columns: tuple[str, ...]
    only_when: tuple[str, bool] | None = None

    def key(self, row: dict[str, Any]) -> tuple[Any, ...] | None:
        """The row's key, or None when the row does not hold one (an inactive target)."""
        if self.only_when is not None:
            column, value = self.only_when
            if bool(row.get(column)) != value:
                return None
        key = tuple(row.get(c) for c in self.columns)
        return None if any(v is None for v in key) else key

    def condition(self, *, central: bool) -> str | None:
        """SQL for the partial rule's condition (PostgreSQL or SQLite booleans)."""
        if self.only_when is None:
            return None
        column, value = self.only_when
        literal = ("TRUE" if value else "FALSE") if central else ("1" if value else "0")
        return f"{column} = {literal}"

    @property
    def words(self) -> str:
        return _WORDS.get(self.table, f"rows of {self.table} with the same {self.columns}")


def _partial_condition(index: Index) -> tuple[str, bool] | None:
    where = index.dialect_options["sqlite"].get("where")
    if where is None:
        return None
    column, _, value = str(where).partition("=")
    return column.strip(), value.strip() not in ("0", "FALSE", "false")


def _natural_keys(table: Table) -> list[NaturalKey]:
    keys = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            cols = tuple(c.name for c in constraint.columns)
            keys.append(NaturalKey(table.name, cols))
    for index in table.indexes:
        if index.unique:
            cols = tuple(c.name for c in index.columns)
            keys.append(NaturalKey(table.name, cols, _partial_condition(index)))
    for column in table.columns:
        if column.unique:
            keys.append(NaturalKey(table.name, (column.name,)))
    return keys


def _travels(table: str, columns: tuple[str, ...]) -> bool:
    return not set(columns) & hidden_columns(table)


@dataclass(frozen=True)
class OwnerPath:
    """How a row of ``table`` names its student: its own ``column`` (``id`` for students),
    or through ``via`` (a foreign key column) to the ``parent`` row's ``student_id``."""

    table: str
    column: str | None = None
    via: str | None = None
    parent: str | None = None


@cache
def owner_path(table: str) -> OwnerPath | None:
    """None for rows about no student (teachers)."""
    if table == "students":
        return OwnerPath(table, column="id")
    columns = LOCAL.table(table).c
    if "student_id" in columns:
        return OwnerPath(table, column="student_id")
    for column, parent in PARENTS[table]:
        if "student_id" in LOCAL.table(parent).c:
            return OwnerPath(table, via=column, parent=parent)
    return None


@cache
def derived_columns(table: str) -> frozenset[str]:
    """Columns the server derives itself and never takes from a laptop."""
    return frozenset(c.name for c in LOCAL.table(table).c if c.info.get("sync") == "derived")


@cache
def hidden_columns(table: str) -> frozenset[str]:
    """Columns a teacher may not read (column grants): they never travel."""
    return frozenset(c.name for c in LOCAL.table(table).c if c.info.get("sync") == "hidden")


@cache
def untracked_columns(table: str) -> frozenset[str]:
    """Columns whose change alone is not a change to capture or to call a conflict."""
    return frozenset(
        c.name for c in LOCAL.table(table).c if c.info.get("sync") in ("derived", "touched")
    )


#: table -> its natural key (each synced table has at most one that travels).
NATURAL_KEYS: dict[str, NaturalKey] = {
    key.table: key
    for name in SYNCED_TABLES
    for key in _natural_keys(LOCAL.table(name))
    if _travels(name, key.columns)
}

#: table -> [(column, parent table)] for foreign keys between synced tables.
PARENTS: dict[str, list[tuple[str, str]]] = {
    name: [
        (fk.parent.name, fk.column.table.name)
        for column in LOCAL.table(name).columns
        for fk in column.foreign_keys
        if fk.column.table.name in SYNCED_TABLES and fk.column.table.name != name
    ]
    for name in SYNCED_TABLES
}
