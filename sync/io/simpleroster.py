"""The simple roster CSV: ``student_id,name,grade,teacher_id``, one student per line.

Read by :func:`sync.io.roster.read_roster` for any file that is not part of a OneRoster or
Clever set. The header may come in any order and case; ``id`` is accepted for
``student_id``; ``external_source`` and ``external_id`` are read when present (the
``students.csv`` of ``flourish export`` reads back with them); other columns are ignored.
A ``student_id`` of Flourish's shape (``S001``) is the Flourish id; any other
(``738733110``, ``mmichel.jones``) is the school system's id — external source ``sis``
unless the file names one — and the import gives the student a Flourish id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sync.io.rosterfiles import RosterProblem, check_name, read_table, require_columns
from sync.io.schoolroster import KnownTeacher

__all__ = ["ROSTER_HEADER", "SIMPLE", "RosterRow", "check_teachers", "read_simple"]

ROSTER_HEADER = ("student_id", "name", "grade", "teacher_id")
SIMPLE = "Roster CSV"
_ALIASES = {"id": "student_id"}
_STUDENT_ID = re.compile(r"^S[0-9]{3,}$")
_MAX_EXTERNAL = 255


@dataclass(frozen=True)
class RosterRow:
    """One student as read from a file (already checked on its own).

    ``student_id`` is empty when the file gives no Flourish id (one is assigned)."""

    file: str
    line: int
    student_id: str
    name: str
    grade: int
    teacher_id: str
    external_source: str | None = None
    external_id: str | None = None


def _simple_row(
    file: str, line: int, values: dict[str, str], problems: list[RosterProblem]
) -> RosterRow:
    """The row as read; its own problems go to ``problems`` (the import is then refused,
    but the row still takes part in the teacher and duplicate checks)."""
    sid, name, grade, teacher = (values[c] for c in ROSTER_HEADER)
    source, external = values.get("external_source", ""), values.get("external_id", "")
    bad: list[str] = []
    if not sid:
        if not external:
            bad.append("student id is empty")
    elif not _STUDENT_ID.match(sid) or len(sid) > 10:
        if external:
            bad.append(
                f"student id {sid!r} must look like S001 (an S and at least three digits, "
                "at most 10 characters) when the external_id column gives the school's id"
            )
        else:  # the school system's own id: the student gets a Flourish id
            source, external, sid = source or "sis", sid, ""
    if len(external) > _MAX_EXTERNAL:
        bad.append(f"external id is longer than {_MAX_EXTERNAL} characters")
    check_name(name, bad)
    value = int(grade) if grade.isdigit() else None
    if value is None or not 6 <= value <= 8:
        bad.append(f"grade {grade!r} must be 6, 7 or 8" if grade else "grade is empty")
    if not teacher:
        bad.append("teacher id is empty")
    problems += [RosterProblem(file, line, b) for b in bad]
    return RosterRow(
        file,
        line,
        sid,
        name,
        value or 0,
        teacher,
        (source or "sis") if external else None,
        external or None,
    )


def read_simple(path: Path, problems: list[RosterProblem]) -> tuple[list[RosterRow], str]:
    table = read_table(path, problems)
    if table is None:
        return [], "?"
    table.header = [_ALIASES.get(h, h) for h in table.header]
    if not require_columns(table, ROSTER_HEADER, problems):
        return [], table.encoding
    out: list[RosterRow] = []
    for line, fields in table.rows:
        if len(fields) != len(table.header):
            problems.append(
                RosterProblem(
                    table.name,
                    line,
                    f"{len(fields)} fields, but the header has {len(table.header)} "
                    "(a comma inside a value needs quotes)",
                )
            )
            continue
        values = {h: f.strip() for h, f in zip(table.header, fields, strict=True)}
        out.append(_simple_row(table.name, line, values, problems))
    if not table.rows:
        problems.append(RosterProblem(table.name, None, "no students in the file"))
    return out, table.encoding


def check_teachers(
    rows: list[RosterRow], teachers: Sequence[KnownTeacher], own: str | None
) -> list[RosterProblem]:
    problems = []
    ids = {t.id for t in teachers}
    for row in rows:
        if not row.teacher_id:
            continue
        if row.teacher_id not in ids:
            known = ", ".join(sorted(ids)) or "none"
            problems.append(
                RosterProblem(
                    row.file,
                    row.line,
                    f"teacher {row.teacher_id!r} is not known to this store (known: {known})",
                )
            )
        elif own is not None and row.teacher_id != own:
            problems.append(
                RosterProblem(
                    row.file,
                    row.line,
                    f"teacher {row.teacher_id} is not the teacher signed in on this laptop "
                    f"({own}); the server accepts only your own students",
                )
            )
    return problems
