"""Roster import: a class list in, through the sync capture path, all or nothing.

Four shapes are read (``README.md``, "Data in and out", documents them for teachers):

* **Simple CSV** with the header ``student_id,name,grade,teacher_id`` (any order, any case;
  ``id`` is accepted for ``student_id``; ``external_source`` and ``external_id`` are read
  when present, so the ``students.csv`` of ``flourish export`` reads back; other columns
  are ignored). A ``student_id`` of Flourish's shape (``S001``) is the Flourish id; any
  other (``738733110``, ``mmichel.jones``) is the school system's id — external source
  ``sis`` — and the student gets a Flourish id.
* **OneRoster 1.1 / 1.2** (:mod:`sync.io.oneroster`) and **Clever** (:mod:`sync.io.clever`):
  a folder holding the files, or the files given together; :mod:`sync.io.schoolroster`
  decides which classes and students come in and says why the others do not.

The shared reading helpers are in :mod:`sync.io.rosterfiles`. Every row is checked — a name,
grade 6-8, the teacher known to this store (and, on a laptop signed in to a server, the
signed-in teacher: the server accepts no other), no id or external id twice — and
**every** problem is reported with its file and line in one :class:`RosterProblems`. A
file with any problem imports nothing.

**Who is who.** A student in the file is the store's student with the same external id
(source and id), else the one with the file's Flourish id; otherwise a new student, with
the file's Flourish id when it has a free one, else a fresh one
(:func:`sync.model.ids.student_ids`).
So re-importing an export changes nothing, and an export with one student moved to
another class updates exactly that student.

:func:`preview_roster` says what would change (added, updated, unchanged) without
writing; :func:`import_roster` re-plans inside one ``BEGIN IMMEDIATE`` transaction of the
store and writes the new and changed students there, stamped and queued for sync by the
store's capture triggers. Students missing from the file are left alone (never deleted).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, bindparam, insert, update

from sync.io.rosterfiles import RosterProblem, RosterProblems, decode_text
from sync.io.schoolroster import ClassChoice, KnownTeacher, Selection, resolve
from sync.io.simpleroster import ROSTER_HEADER, SIMPLE, RosterRow, check_teachers, read_simple
from sync.model.crud import STUDENTS, TEACHERS, integrity_errors
from sync.model.ids import student_ids
from sync.model.records import Student, Teacher
from sync.model.tables import LOCAL
from sync.store.local import Change, LocalStore, WriteTxn
from sync.store.state import HLC, SERVER_URL, TEACHER_ID

__all__ = [
    "ROSTER_HEADER",
    "ClassChoice",
    "RosterChange",
    "RosterImport",
    "RosterPreview",
    "RosterProblem",
    "RosterProblems",
    "RosterRead",
    "RosterRow",
    "Selection",
    "decode_text",
    "import_roster",
    "preview_roster",
    "read_roster",
]

#: No choice: each class goes to the teacher the file names.
EVERY_CLASS = Selection()


_COMPARED = ("name", "grade", "teacher_id", "external_source", "external_id")


@dataclass(frozen=True)
class RosterChange:
    kind: Literal["add", "update", "unchanged"]
    row: RosterRow
    before: Student | None = None

    @property
    def changed_fields(self) -> tuple[str, ...]:
        if self.before is None:
            return ()
        return tuple(
            k
            for k in _COMPARED
            if getattr(self.before, k) != getattr(self.row, k)
            and not (k.startswith("external") and self.row.external_id is None)
        )


@dataclass(frozen=True)
class RosterRead:
    """What the files hold for this store (no store needed to read them)."""

    format: str  # "Roster CSV", "OneRoster 1.1", "OneRoster 1.2", "Clever"
    rows: list[RosterRow]
    encodings: dict[str, str]
    notes: list[str]
    classes: list[ClassChoice] = field(default_factory=list)
    teacher_links: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RosterPreview:
    """What an import of these files would do (nothing written)."""

    format: str
    files: tuple[str, ...]
    encodings: dict[str, str]
    changes: tuple[RosterChange, ...]
    notes: tuple[str, ...] = ()
    #: Every class of a school export, imported or skipped with its reason.
    classes: tuple[ClassChoice, ...] = ()
    #: (teacher, source, external id) recorded on a teacher who chose a file's classes.
    teacher_links: tuple[tuple[str, str, str], ...] = ()

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def added(self) -> int:
        return self.count("add")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    def summary(self) -> str:
        files = ", ".join(f"{f} ({self.encodings.get(f, '?')})" for f in self.files)
        return (
            f"{self.format}: {files}: {len(self.changes)} students; {self.added} to add, "
            f"{self.updated} to update, {self.unchanged} unchanged"
        )


@dataclass(frozen=True)
class RosterImport:
    preview: RosterPreview
    changes: list[Change] = field(default_factory=list)

    def summary(self) -> str:
        p = self.preview
        queued = " (queued for sync)" if p.added or p.updated else ""
        return f"imported: {p.added} added, {p.updated} updated, {p.unchanged} unchanged{queued}"


# -- every format --------------------------------------------------------------------------


def read_roster(
    paths: Sequence[str | os.PathLike[str]],
    *,
    teachers: Sequence[KnownTeacher] = (),
    own_teacher: str | None = None,
    selection: Selection = EVERY_CLASS,
) -> RosterRead:
    """Read and check roster files against the store's ``teachers``; raises
    :class:`RosterProblems`. ``own_teacher`` is the signed-in teacher on a laptop
    connected to a server; ``selection`` the teacher's choice of a school export's classes.
    """
    from sync.io.clever import is_clever, read_clever
    from sync.io.oneroster import is_oneroster, read_oneroster

    files = [Path(p) for p in paths]
    problems: list[RosterProblem] = []
    if not files:
        raise RosterProblems([RosterProblem("(no file)", None, "no roster file given")])
    for path in files:
        if path.is_dir() and not (is_clever([path]) or is_oneroster([path])):
            problems.append(
                RosterProblem(
                    path.name,
                    None,
                    "not a roster folder: it holds neither OneRoster files (users.csv, "
                    "enrollments.csv, classes.csv) nor Clever files (students.csv, "
                    "teachers.csv, sections.csv, enrollments.csv)",
                )
            )
    if problems:
        raise RosterProblems(problems)
    school = None
    if is_clever(files) or is_oneroster(files):
        reader = read_clever if is_clever(files) else read_oneroster
        school = reader(files, problems)
    if school is not None:
        resolved = resolve(school, list(teachers), own_teacher, selection, problems)
        rows = [
            RosterRow(r.file, r.line, r.flourish_id, r.name, r.grade, r.teacher_id,
                      school.source, r.external_id)
            for r in resolved.rows
        ]  # fmt: skip
        read = RosterRead(
            school.format,
            rows,
            school.encodings,
            resolved.notes,
            resolved.classes,
            [(t, school.source, ext) for t, ext in resolved.teacher_links],
        )
    elif is_clever(files) or is_oneroster(files):
        read = RosterRead("OneRoster", [], {}, [])
    else:
        encodings = {}
        rows = []
        for path in files:
            got, encodings[path.name] = read_simple(path, problems)
            rows += got
        notes = []
        if selection.classes is not None:
            problems.append(
                RosterProblem("--classes", None, "classes are chosen in OneRoster and Clever sets")
            )
        if selection.teacher is not None:
            others = [r for r in rows if r.teacher_id != selection.teacher]
            rows = [r for r in rows if r.teacher_id == selection.teacher]
            if others:
                notes.append(f"skipped {len(others)} student(s) of other teachers")
        problems += check_teachers(rows, teachers, own_teacher)
        read = RosterRead(SIMPLE, rows, encodings, notes)
    _check_duplicates(read.rows, problems)
    if problems:
        names = list(read.encodings) or [f.name for f in files]
        raise RosterProblems(sorted(problems, key=_order(names)))
    return read


def _order(names: list[str]) -> Callable[[RosterProblem], tuple[int, int]]:
    """Problems in file order (as given), then by line; stable within a line."""

    def key(p: RosterProblem) -> tuple[int, int]:
        rank = names.index(p.file) if p.file in names else len(names)
        return (rank, p.line or 0)

    return key


def _check_duplicates(rows: list[RosterRow], problems: list[RosterProblem]) -> None:
    first: dict[tuple[str, str, str], RosterRow] = {}
    for row in rows:
        keys: list[tuple[str, str, str]] = []
        if row.student_id:
            keys.append(("student id", "", row.student_id))
        if row.external_id:
            keys.append(("external id", row.external_source or "", row.external_id))
        for what, source, value in keys:
            seen = first.setdefault((what, source, value), row)
            if seen is not row:
                where = f"line {seen.line}" + ("" if seen.file == row.file else f" of {seen.file}")
                problems.append(
                    RosterProblem(
                        row.file, row.line, f"{what} {value} appears twice (first on {where})"
                    )
                )


# -- planning and writing --------------------------------------------------------------------


def _context(conn: Connection) -> tuple[list[KnownTeacher], str | None]:
    teachers = [
        KnownTeacher(t.id, t.email, t.external_source, t.external_id) for t in TEACHERS.list(conn)
    ]
    state = {str(k): str(v) for k, v in conn.exec_driver_sql("SELECT key, value FROM sync_state")}
    own = state.get(TEACHER_ID) if state.get(SERVER_URL) else None
    return teachers, own


def _plan(
    conn: Connection,
    paths: Sequence[str | os.PathLike[str]],
    selection: Selection,
    device_no: int,
) -> RosterPreview:
    teachers, own = _context(conn)
    if own is not None and selection.teacher not in (None, own):
        raise RosterProblems(
            [
                RosterProblem(
                    "--teacher",
                    None,
                    f"{selection.teacher} is not the teacher signed in on this laptop ({own})",
                )
            ]
        )
    read = read_roster(paths, teachers=teachers, own_teacher=own, selection=selection)
    existing = STUDENTS.list(conn)
    by_id = {s.id: s for s in existing}
    by_external: dict[tuple[str | None, str | None], Student] = {
        (s.external_source, s.external_id): s for s in existing if s.external_id
    }
    taken = set(by_id) | {r.student_id for r in read.rows if r.student_id}
    fresh = student_ids(conn, device_no, taken)
    changes: list[RosterChange] = []
    problems: list[RosterProblem] = []
    matched: dict[str, RosterRow] = {}
    for row in read.rows:
        before = by_external.get((row.external_source, row.external_id))
        if before is None and row.student_id:
            before = by_id.get(row.student_id)
            if (
                before is not None
                and row.external_id
                and before.external_id
                and before.external_source == row.external_source
            ):
                problems.append(
                    RosterProblem(
                        row.file,
                        row.line,
                        f"student {before.id} is {before.external_source} "
                        f"{before.external_id} on this laptop, not {row.external_id}",
                    )
                )
                continue
        if before is None:
            if not row.student_id:
                row = dataclasses.replace(row, student_id=next(fresh))
            changes.append(RosterChange("add", row))
            continue
        if before.id in matched:
            problems.append(
                RosterProblem(
                    row.file,
                    row.line,
                    f"the same student as line {matched[before.id].line} ({before.id})",
                )
            )
            continue
        matched[before.id] = row
        row = dataclasses.replace(row, student_id=before.id)
        change = RosterChange("update", row, before)
        changes.append(change if change.changed_fields else RosterChange("unchanged", row, before))
    if problems:
        raise RosterProblems(problems)
    return RosterPreview(
        format=read.format,
        files=tuple(read.encodings),
        encodings=read.encodings,
        changes=tuple(changes),
        notes=tuple(read.notes),
        classes=tuple(read.classes),
        teacher_links=tuple(_links(teachers, read.teacher_links)),
    )


def _links(
    teachers: list[KnownTeacher], links: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """Links worth recording: the teacher has no id of that source, and no one has this one."""
    out = []
    for teacher, source, external in links:
        mine = next(t for t in teachers if t.id == teacher)
        if mine.external_source == source and mine.external_id:
            continue
        if any(t.external_source == source and t.external_id == external for t in teachers):
            continue
        out.append((teacher, source, external))
    return out


def preview_roster(
    store: LocalStore,
    paths: Sequence[str | os.PathLike[str]],
    *,
    selection: Selection = EVERY_CLASS,
) -> RosterPreview:
    """What importing ``paths`` would change; raises :class:`RosterProblems`. Writes nothing."""
    device_no = store.device_no
    with store.read() as conn:
        return _plan(conn, paths, selection, device_no)


def import_roster(
    store: LocalStore,
    paths: Sequence[str | os.PathLike[str]],
    *,
    selection: Selection = EVERY_CLASS,
) -> RosterImport:
    """Import ``paths`` in one transaction (re-checked inside it); all or nothing."""
    with store.write() as txn:
        preview = _plan(txn.conn, paths, selection, txn.device_no)
        _write(txn, preview)
        for teacher, source, external in preview.teacher_links:
            txn.update(Teacher, teacher, external_source=source, external_id=external)
        return RosterImport(preview, list(txn.changes))


def _write(txn: WriteTxn, preview: RosterPreview) -> None:
    """Insert and update the students: stamped by the store, queued by its triggers.

    The same path as :meth:`WriteTxn.insert`/``update`` (a fresh HLC stamp per row from
    the store's clock, the capture triggers queue each row in this transaction), batched
    with ``executemany`` so that 10,000 students take well under a second instead of the
    eight or more that one ``insert`` round trip per row needs.
    """
    adds = [c.row for c in preview.changes if c.kind == "add"]
    updates = [c for c in preview.changes if c.kind == "update"]
    if not adds and not updates:
        return
    t = LOCAL.students
    origin = txn.device_no
    stamps = iter(_stamps(txn, len(adds) + len(updates)))
    with integrity_errors("roster import"):
        if adds:
            txn.conn.execute(
                insert(t),
                [
                    {
                        "id": r.student_id,
                        "name": r.name,
                        "grade": r.grade,
                        "teacher_id": r.teacher_id,
                        "external_source": r.external_source,
                        "external_id": r.external_id,
                        "sync_hlc": next(stamps),
                        "sync_origin": origin,
                        "sync_version": 0,
                    }
                    for r in adds
                ],
            )
        if updates:
            txn.conn.execute(
                update(t)
                .where(t.c.id == bindparam("pk"))
                .values(
                    name=bindparam("v_name"),
                    grade=bindparam("v_grade"),
                    teacher_id=bindparam("v_teacher"),
                    external_source=bindparam("v_source"),
                    external_id=bindparam("v_external"),
                    sync_hlc=bindparam("v_hlc"),
                    sync_origin=bindparam("v_origin"),
                ),
                [
                    {
                        "pk": c.row.student_id,
                        "v_name": c.row.name,
                        "v_grade": c.row.grade,
                        "v_teacher": c.row.teacher_id,
                        # a file without external ids keeps the ones the store has
                        "v_source": c.row.external_source or _before(c, "external_source"),
                        "v_external": c.row.external_id or _before(c, "external_id"),
                        "v_hlc": next(stamps),
                        "v_origin": origin,
                    }
                    for c in updates
                ],
            )
    txn.changes += [Change("students", r.student_id, "insert") for r in adds]
    txn.changes += [Change("students", c.row.student_id, "update") for c in updates]


def _before(change: RosterChange, name: str) -> str | None:
    return None if change.before is None else getattr(change.before, name)


def _stamps(txn: WriteTxn, n: int) -> range:
    """``n`` fresh HLC stamps: what ``n`` calls of :meth:`WriteTxn.stamp` would give
    within one millisecond (each one above the last), in two statements instead of 2n."""
    first = txn.stamp()
    txn.set_state({HLC: str(first + n - 1)})
    return range(first, first + n)
