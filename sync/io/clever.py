"""Clever's CSV roster format: ``students.csv``, ``teachers.csv``, ``sections.csv``,
``enrollments.csv`` (``schools.csv`` may sit beside them and is not read).

The files a district uploads to Clever (Clever's "SFTP CSV" format), columns in any
case: ``students.csv`` (``Student_id``, ``Student_number``, ``First_name``,
``Last_name``, ``Grade``, ``Student_email`` …), ``teachers.csv`` (``Teacher_id``,
``Teacher_number``, ``Teacher_email``, ``First_name``, ``Last_name`` …), ``sections.csv``
(``Section_id``, ``Teacher_id`` — the primary teacher — ``Teacher_2_id`` …, ``Name``,
``Section_number``, ``Grade`` …) and ``enrollments.csv`` (``Section_id``,
``Student_id``). The result is a :class:`sync.io.schoolroster.SchoolRoster` with source
``clever``; a person's external id is their SIS number (``Student_number`` /
``Teacher_number``), else their ``Student_id`` / ``Teacher_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sync.io.rosterfiles import (
    RosterProblem,
    Table,
    locate_files,
    read_table,
    require_columns,
)
from sync.io.schoolroster import Person, SchoolClass, SchoolRoster

__all__ = ["CLEVER_FILES", "is_clever", "read_clever"]

CLEVER_FILES = ("students.csv", "teachers.csv", "sections.csv", "enrollments.csv")
_COLUMNS = {
    "students.csv": ("student_id", "first_name", "last_name", "grade"),
    "teachers.csv": ("teacher_id", "first_name", "last_name"),
    "sections.csv": ("section_id", "teacher_id"),
    "enrollments.csv": ("section_id", "student_id"),
}


def _names(paths: Sequence[Path]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        out |= {c.name.lower() for c in p.iterdir()} if p.is_dir() else {p.name.lower()}
    return out


def is_clever(paths: Sequence[Path]) -> bool:
    """Clever's files: ``sections.csv`` or ``teachers.csv`` beside ``students.csv``."""
    names = _names(paths)
    return "sections.csv" in names or {"students.csv", "teachers.csv"} <= names


def _person(table: Table, line: int, row: dict[str, str], kind: str) -> Person:
    key = row[f"{kind}_id"]
    number = row.get(f"{kind}_number", "")
    return Person(
        file=table.name,
        line=line,
        key=key,
        external_id=number or key,
        name=" ".join(p for p in (row["first_name"], row["last_name"]) if p),
        grades=(row["grade"],) if row.get("grade") else (),
        email=row.get(f"{kind}_email", ""),
        flourish_id=number,
    )


def read_clever(paths: Sequence[Path], problems: list[RosterProblem]) -> SchoolRoster | None:
    """Read a Clever set; appends problems; None when its files cannot be used."""
    located = locate_files(paths, problems, system="Clever", required=CLEVER_FILES)
    tables: dict[str, Table] = {}
    encodings: dict[str, str] = {}
    for name in CLEVER_FILES:
        if name in located:
            table = read_table(located[name], problems)
            encodings[located[name].name] = table.encoding if table else "?"
            if table is not None and require_columns(table, _COLUMNS[name], problems):
                tables[name] = table
    if len(tables) < len(CLEVER_FILES):
        return None
    roster = SchoolRoster("Clever", "clever", encodings, users_file=tables["students.csv"].name)
    for kind, into in (("student", roster.students), ("teacher", roster.teachers)):
        table = tables[f"{kind}s.csv"]
        for line, row in table.records():
            if row[f"{kind}_id"]:
                into[row[f"{kind}_id"]] = _person(table, line, row, kind)
    sections = tables["sections.csv"]
    for line, row in sections.records():
        key = row["section_id"]
        extra = sorted(c for c in sections.header if c.startswith("teacher_") and c[8:-3].isdigit())
        teachers = [t for t in [row["teacher_id"], *(row[c] for c in extra)] if t]
        for t in teachers:
            if t not in roster.teachers:
                problems.append(
                    RosterProblem(sections.name, line, f"teacher {t!r} is not in teachers.csv")
                )
        title = row.get("name") or row.get("course_name") or key
        roster.classes[key] = SchoolClass(key, title, teachers, code=row.get("section_number", ""))
    enrol = tables["enrollments.csv"]
    for line, row in enrol.records():
        section, student = row["section_id"], row["student_id"]
        if section not in roster.classes:
            problems.append(
                RosterProblem(enrol.name, line, f"section {section!r} is not in sections.csv")
            )
        elif student not in roster.students:
            problems.append(
                RosterProblem(enrol.name, line, f"student {student!r} is not in students.csv")
            )
        else:
            roster.classes[section].students.append(student)
    return roster
