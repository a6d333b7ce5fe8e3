"""Typed rows: one frozen dataclass per synced table, with the seed's column names.

Reads from either store return these; writes take them. ``id`` is ``None`` on a record that
has not been written yet (the store assigns it). The sync bookkeeping fields default to 0 and
are filled in by the store; callers never set them. A test keeps the fields equal to the
columns of :mod:`sync.model.tables`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from sqlalchemy import RowMapping

__all__ = [
    "Assessment",
    "Badge",
    "Conflict",
    "Correction",
    "DataEntry",
    "RECORD_TYPES",
    "Record",
    "SkillTarget",
    "Student",
    "Teacher",
    "from_mapping",
]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Record:
    """Common base: the sync bookkeeping every synced row carries."""

    table: ClassVar[str] = ""

    sync_hlc: int = 0
    sync_origin: int = 0
    sync_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self: R, **changes: Any) -> R:
        return dataclasses.replace(self, **changes)


R = TypeVar("R", bound=Record)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Teacher(Record):
    table: ClassVar[str] = "teachers"

    id: str
    name: str
    email: str | None = None
    created_at: dt.datetime | None = None
    external_source: str | None = None
    external_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Student(Record):
    table: ClassVar[str] = "students"

    id: str
    name: str
    grade: int
    teacher_id: str | None = None
    created_at: dt.datetime | None = None
    external_source: str | None = None
    external_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DataEntry(Record):
    table: ClassVar[str] = "data_entries"

    id: str | None = None
    student_id: str | None
    teacher_id: str | None = None
    type: str
    date: dt.date
    content: str
    metadata: dict[str, Any] | None = None
    created_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Assessment(Record):
    table: ClassVar[str] = "assessments"

    id: int | None = None
    data_entry_id: str | None
    student_id: str | None
    skill_name: str
    skill_category: str
    level: str
    confidence_score: float | None = None
    justification: str
    source_quote: str
    data_point_count: int | None = 1
    rubric_version: str | None = "1.0"
    corrected: bool | None = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    provenance: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Correction(Record):
    table: ClassVar[str] = "teacher_corrections"

    id: int | None = None
    assessment_id: int | None
    original_level: str
    corrected_level: str
    original_justification: str | None = None
    corrected_justification: str | None = None
    teacher_notes: str | None = None
    corrected_by: str | None = None
    corrected_at: dt.datetime | None = None
    use_as_example: bool = True


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SkillTarget(Record):
    table: ClassVar[str] = "skill_targets"

    id: int | None = None
    student_id: str | None
    skill_name: str
    starting_level: str | None = None
    target_level: str | None = None
    assigned_by: str | None = None
    assigned_at: dt.datetime | None = None
    completed: bool = False
    completed_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Badge(Record):
    table: ClassVar[str] = "badges"

    id: int | None = None
    student_id: str | None
    skill_name: str
    skill_category: str
    level_achieved: str
    badge_type: str
    granted_by: str | None = None
    earned_date: dt.date
    created_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Conflict(Record):
    """A change that lost (kept, never dropped): see the sync engine."""

    table: ClassVar[str] = "sync_conflicts"

    id: int | None = None
    table_name: str
    row_pk: str
    student_id: str | None = None
    teacher_id: str | None = None
    kind: str
    reason: str
    losing_row: dict[str, Any]
    losing_hlc: int
    losing_origin: int
    winning_row: dict[str, Any] | None = None
    winning_hlc: int | None = None
    winning_origin: int | None = None
    created_at: dt.datetime | None = None
    resolution: str | None = None
    resolved_at: dt.datetime | None = None


RECORD_TYPES: dict[str, type[Record]] = {
    cls.table: cls
    for cls in (Teacher, Student, DataEntry, Assessment, Correction, SkillTarget, Badge, Conflict)
}

_FIELDS: dict[type[Record], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in RECORD_TYPES.values()
}


def from_mapping(cls: type[R], row: Mapping[str, Any] | RowMapping) -> R:
    """Build ``cls`` from a result row, ignoring columns the record does not carry."""
    values = {name: row[name] for name in _FIELDS[cls] if name in row}
    for flag in ("corrected", "completed", "use_as_example"):
        if flag in values and values[flag] is not None:
            values[flag] = bool(values[flag])
    return cls(**values)
