"""OneRoster 1.1 CSV rosters: ``users.csv`` + ``enrollments.csv`` + ``classes.csv``.

Read by :func:`sync.io.roster.read_roster` when it is given a folder holding these files or
the files themselves (other OneRoster files such as ``orgs.csv`` may sit beside them and
are not read). How the school's export becomes Flourish students:

* Rows whose ``status`` is ``tobedeleted`` are ignored in every file; so are students
  whose ``enabledUser`` is ``false``.
* ``users.csv``: ``role`` ``student`` rows are the students. The Flourish student id is the
  user's ``identifier`` (the school's own student number, e.g. ``S001``); the name is
  ``givenName familyName``; the grade is the first value of ``grades`` (``07`` = 7).
  ``role`` ``teacher`` rows are the teachers; their ``identifier`` is the Flourish teacher
  id (``T001``).
* ``enrollments.csv`` puts students and teachers into ``classes.csv`` classes. A class's
  teacher is its ``primary`` teacher (else the first teacher enrollment).
* Only classes whose teacher this store knows are imported (on a laptop signed in to a
  server, only the signed-in teacher's classes); the others are skipped and said so in
  the preview's notes. A district-wide export therefore brings in just this teacher's
  students.
* A student's teacher is the teacher of their imported classes; a student in classes of
  two different Flourish teachers is a problem (Flourish gives each student one teacher).

Every problem comes with its file and line, like the simple CSV's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sync.io.roster import (
    RosterProblem,
    RosterRow,
    _Candidate,
    _columns,
    _read_table,
    _Table,
    check_student,
)

__all__ = ["ONE_ROSTER_FILES", "is_oneroster", "read_oneroster"]

ONE_ROSTER_FILES = ("users.csv", "enrollments.csv", "classes.csv")
_COLUMNS = {
    "users.csv": ("sourcedid", "role", "givenname", "familyname", "identifier", "grades"),
    "enrollments.csv": ("classsourcedid", "usersourcedid", "role"),
    "classes.csv": ("sourcedid", "title"),
}


def is_oneroster(paths: Sequence[Path]) -> bool:
    return any(p.is_dir() or p.name.lower() in ONE_ROSTER_FILES for p in paths)


def _locate(paths: Sequence[Path], problems: list[RosterProblem]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.name.lower() in ONE_ROSTER_FILES:
                    found.setdefault(child.name.lower(), child)
        elif path.name.lower() in ONE_ROSTER_FILES:
            found.setdefault(path.name.lower(), path)
        else:
            problems.append(
                RosterProblem(
                    path.name,
                    None,
                    "not a OneRoster file (expected users.csv, enrollments.csv, classes.csv)",
                )
            )
    missing = [name for name in ONE_ROSTER_FILES if name not in found]
    if missing:
        problems.append(
            RosterProblem(
                missing[0],
                None,
                f"missing: a OneRoster roster needs {', '.join(ONE_ROSTER_FILES)} together "
                f"(not found: {', '.join(missing)})",
            )
        )
    return found


def _rows(table: _Table) -> tuple[list[tuple[int, dict[str, str]]], set[str]]:
    """Live rows as dicts (values stripped), and the ids of rows marked ``tobedeleted``."""
    live, deleted = [], set()
    for line, fields in table.rows:
        row = {
            h: (fields[i].strip() if i < len(fields) else "") for i, h in enumerate(table.header)
        }
        if row.get("status", "").lower() == "tobedeleted":
            deleted.add(row.get("sourcedid", ""))
        else:
            live.append((line, row))
    return live, deleted


def read_oneroster(
    paths: Sequence[Path],
    problems: list[RosterProblem],
    teachers: frozenset[str] | None,
    own_teacher: str | None,
) -> tuple[list[_Candidate], dict[str, str], list[str]]:
    """Students of the importable classes; appends problems; (rows, encodings, notes)."""
    located = _locate(paths, problems)
    tables: dict[str, _Table] = {}
    encodings: dict[str, str] = {}
    for name in ONE_ROSTER_FILES:
        if name in located:
            table = _read_table(located[name], problems)
            encodings[located[name].name] = table.encoding if table else "?"
            if table is not None and _columns(table, _COLUMNS[name], problems):
                tables[name] = table
    if len(tables) < len(ONE_ROSTER_FILES):
        return [], encodings, []
    users_name = tables["users.csv"].name
    enrol_name = tables["enrollments.csv"].name
    class_rows, deleted_classes = _rows(tables["classes.csv"])
    classes = {row["sourcedid"]: row.get("title") or row["sourcedid"] for _, row in class_rows}
    user_rows, deleted_users = _rows(tables["users.csv"])
    users = {row["sourcedid"]: (line, row) for line, row in user_rows}
    class_teachers: dict[str, list[tuple[bool, str]]] = {}
    class_students: dict[str, list[str]] = {}
    for line, row in _rows(tables["enrollments.csv"])[0]:
        role = row["role"].lower()
        cls, user = row["classsourcedid"], row["usersourcedid"]
        if role not in ("student", "teacher") or cls in deleted_classes or user in deleted_users:
            continue
        if cls not in classes:
            problems.append(RosterProblem(enrol_name, line, f"class {cls!r} is not in classes.csv"))
            continue
        if user not in users:
            problems.append(RosterProblem(enrol_name, line, f"user {user!r} is not in users.csv"))
            continue
        if role == "teacher":
            primary = row.get("primary", "").lower() == "true"
            class_teachers.setdefault(cls, []).append((not primary, user))
        else:
            class_students.setdefault(cls, []).append(user)

    notes: list[str] = []
    kept: dict[str, str] = {}  # class -> Flourish teacher id
    skipped: list[str] = []
    for cls, title in classes.items():
        if cls not in class_students:
            continue
        candidates = sorted(class_teachers.get(cls, []), key=lambda c: c[0])  # primary first
        teacher = users[candidates[0][1]][1].get("identifier", "") if candidates else ""
        if not teacher:
            skipped.append(f"{title} (no teacher)")
        elif teachers is not None and teacher not in teachers:
            skipped.append(f"{title} ({teacher}: not known to this store)")
        elif own_teacher is not None and teacher != own_teacher:
            skipped.append(f"{title} ({teacher}: not the signed-in teacher)")
        else:
            kept[cls] = teacher
    if skipped:
        notes.append(f"skipped {len(skipped)} class(es): {'; '.join(skipped)}")

    student_teachers: dict[str, dict[str, None]] = {}
    for cls, teacher in kept.items():
        for user in class_students[cls]:
            student_teachers.setdefault(user, {})[teacher] = None
    rows: list[_Candidate] = []
    not_enrolled = 0
    for user, (line, row) in users.items():
        if row["role"].lower() != "student" or row.get("enableduser", "").lower() == "false":
            continue
        if user not in student_teachers:
            not_enrolled += 1
            continue
        sid = row["identifier"]
        name = f"{row['givenname']} {row['familyname']}".strip()
        grade = next((g.strip() for g in row["grades"].split(",") if g.strip()), "")
        before = len(problems)
        value = check_student(users_name, line, sid, name, grade, problems)
        mine = list(student_teachers[user])
        if len(mine) > 1:
            problems.append(
                RosterProblem(
                    users_name,
                    line,
                    f"student {sid or user} is in classes of several teachers "
                    f"({', '.join(mine)}); Flourish gives each student one teacher",
                )
            )
        rows.append(
            (RosterRow(users_name, line, sid, name, value or 0, mine[0]), len(problems) == before)
        )
    if not_enrolled:
        notes.append(f"skipped {not_enrolled} student(s) not enrolled in an imported class")
    if not rows and not any(p.file == users_name for p in problems):
        problems.append(RosterProblem(users_name, None, "no students to import"))
    return rows, encodings, notes
