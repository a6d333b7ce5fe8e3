"""Roster import: a class list in, through the sync capture path, all or nothing.

Two shapes are read (``README.md``, "Data in and out", documents both for teachers):

* **Simple CSV** with the header ``student_id,name,grade,teacher_id`` (any order, any case;
  ``id`` is accepted for ``student_id``, so the ``students.csv`` of ``flourish export``
  reads back; other columns are ignored).
* **OneRoster 1.1** ``users.csv`` + ``enrollments.csv`` + ``classes.csv`` (a folder holding
  them, or the three files given together): :mod:`sync.io.oneroster` has the mapping.

Text may be UTF-8 with or without a BOM, else Windows-1252; CRLF or LF; quoted fields may
hold commas (``"Smith, Ann"``); a header without commas but with semicolons is read as
semicolon-separated (Excel in many locales). Every row is checked — id ``S`` + at least
three digits (at most 10 characters), a name, grade 6-8, the teacher known to this store
(and, on a laptop signed in to a server, the signed-in teacher: the server accepts no
other), no id twice — and **every** problem is reported with its file and line in one
:class:`RosterProblems`. A file with any problem imports nothing.

:func:`preview_roster` says what would change (added, updated, unchanged) without
writing; :func:`import_roster` re-plans inside one ``BEGIN IMMEDIATE`` transaction of the
store and writes the new and changed students there, stamped and queued for sync by the
store's capture triggers. Students missing from the file are left alone (never deleted).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, bindparam, insert, update

from sync.errors import ValidationError
from sync.model.crud import STUDENTS, TEACHERS, integrity_errors
from sync.model.records import Student
from sync.model.tables import LOCAL
from sync.store.local import Change, LocalStore, WriteTxn

__all__ = [
    "ROSTER_HEADER",
    "RosterChange",
    "RosterImport",
    "RosterPreview",
    "RosterProblem",
    "RosterProblems",
    "RosterRow",
    "check_student",
    "decode_text",
    "import_roster",
    "preview_roster",
    "read_roster",
]

ROSTER_HEADER = ("student_id", "name", "grade", "teacher_id")
_ALIASES = {"id": "student_id"}
_STUDENT_ID = re.compile(r"^S[0-9]{3,}$")
MAX_NAME = 100


@dataclass(frozen=True, order=True)
class RosterProblem:
    """One thing wrong with a roster file; ``line`` is 1-based (None: the file itself)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        return f"{where}: {self.message}"


class RosterProblems(ValidationError):
    """The roster was refused; :attr:`problems` lists every problem (nothing was written)."""

    def __init__(self, problems: Sequence[RosterProblem]) -> None:
        self.problems = list(problems)
        files = sorted({p.file for p in self.problems})
        head = (
            f"{', '.join(files)}: {len(self.problems)} problem"
            f"{'s' if len(self.problems) != 1 else ''}; nothing was imported"
        )
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


@dataclass(frozen=True)
class RosterRow:
    """One student as read from a file (already checked on its own)."""

    file: str
    line: int
    student_id: str
    name: str
    grade: int
    teacher_id: str


#: A row read from a file and whether its own fields passed the checks.
_Candidate = tuple[RosterRow, bool]


@dataclass(frozen=True)
class RosterChange:
    kind: Literal["add", "update", "unchanged"]
    row: RosterRow
    before: Student | None = None

    @property
    def changed_fields(self) -> tuple[str, ...]:
        if self.before is None:
            return ()
        now = {"name": self.row.name, "grade": self.row.grade, "teacher_id": self.row.teacher_id}
        return tuple(k for k, v in now.items() if getattr(self.before, k) != v)


@dataclass(frozen=True)
class RosterPreview:
    """What an import of these files would do (nothing written)."""

    format: Literal["simple", "oneroster"]
    files: tuple[str, ...]
    encodings: dict[str, str]
    changes: tuple[RosterChange, ...]
    notes: tuple[str, ...] = ()

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
            f"{files}: {len(self.changes)} students; {self.added} to add, "
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


# -- reading -------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252.

    Returns (text, encoding name); ValueError says why the bytes are not text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise ValueError(f"not valid UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data:
        raise ValueError("binary file (it contains NUL bytes), not text")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            raise ValueError(f"starts like UTF-8 but is not valid UTF-8 ({exc.reason})") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise ValueError("neither UTF-8 nor Windows-1252 text") from exc


@dataclass
class _Table:
    """A decoded CSV file: normalised header and (line, fields) rows."""

    name: str
    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _norm(column: str) -> str:
    return re.sub(r"[\s\-]+", "_", column.strip().lower())


def _read_table(path: Path, problems: list[RosterProblem]) -> _Table | None:
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.append(RosterProblem(name, None, f"no such file: {path}"))
        return None
    except OSError as exc:
        problems.append(RosterProblem(name, None, f"cannot read the file ({exc.strerror})"))
        return None
    try:
        text, encoding = decode_text(data)
    except ValueError as exc:
        problems.append(RosterProblem(name, None, str(exc)))
        return None
    first = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first and ";" in first:
        delimiter = ";"
    elif "," not in first and "\t" in first:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for fields in reader:
            line, last = last + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank line (or only separators)
            if header is None:
                header = [_norm(f) for f in fields]
                seen = [h for i, h in enumerate(header) if h and h in header[:i]]
                for dup in dict.fromkeys(seen):
                    problems.append(RosterProblem(name, line, f"column {dup!r} appears twice"))
                continue
            rows.append((line, fields))
    except csv.Error as exc:
        problems.append(RosterProblem(name, reader.line_num, f"not readable as CSV ({exc})"))
        return None
    if header is None:
        problems.append(RosterProblem(name, None, "the file is empty"))
        return None
    return _Table(name, encoding, header, rows)


def _columns(table: _Table, wanted: Sequence[str], problems: list[RosterProblem]) -> bool:
    missing = [c for c in wanted if c not in table.header]
    if missing:
        problems.append(
            RosterProblem(
                table.name,
                1,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(the header needs {','.join(wanted)})",
            )
        )
    return not missing


def check_student(
    file: str, line: int, student_id: str, name: str, grade: str, problems: list[RosterProblem]
) -> int | None:
    """Check one student's own fields; returns the grade when every field is fine."""
    ok = True

    def bad(message: str) -> None:
        nonlocal ok
        ok = False
        problems.append(RosterProblem(file, line, message))

    if not student_id:
        bad("student id is empty")
    elif not _STUDENT_ID.match(student_id) or len(student_id) > 10:
        bad(
            f"student id {student_id!r} must look like S001 "
            "(an S and at least three digits, at most 10 characters)"
        )
    if not name:
        bad("name is empty")
    elif len(name) > MAX_NAME:
        bad(f"name is longer than {MAX_NAME} characters")
    value: int | None = None
    try:
        value = int(grade)
    except ValueError:
        pass
    if value is None or not 6 <= value <= 8:
        bad(f"grade {grade!r} must be 6, 7 or 8" if grade else "grade is empty")
    return value if ok else None


def _read_simple(path: Path, problems: list[RosterProblem]) -> tuple[list[_Candidate], str]:
    table = _read_table(path, problems)
    if table is None:
        return [], "?"
    table.header = [_ALIASES.get(h, h) for h in table.header]
    if not _columns(table, ROSTER_HEADER, problems):
        return [], table.encoding
    index = {c: table.header.index(c) for c in ROSTER_HEADER}
    out: list[_Candidate] = []
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
        sid, name, grade, teacher = (fields[index[c]].strip() for c in ROSTER_HEADER)
        before = len(problems)
        value = check_student(table.name, line, sid, name, grade, problems)
        if not teacher:
            problems.append(RosterProblem(table.name, line, "teacher id is empty"))
        row = RosterRow(table.name, line, sid, name, value or 0, teacher)
        out.append((row, len(problems) == before))
    if not table.rows:
        problems.append(RosterProblem(table.name, None, "no students in the file"))
    return out, table.encoding


def read_roster(
    paths: Sequence[str | os.PathLike[str]],
    *,
    teachers: frozenset[str] | None = None,
    own_teacher: str | None = None,
) -> tuple[Literal["simple", "oneroster"], list[RosterRow], dict[str, str], list[str]]:
    """Read and check roster files (no store needed): (format, rows, encodings, notes).

    ``teachers`` (ids known to the store) and ``own_teacher`` (the signed-in teacher, on a
    laptop connected to a server) add the teacher checks. Raises :class:`RosterProblems`.
    """
    from sync.io.oneroster import is_oneroster, read_oneroster

    files = [Path(p) for p in paths]
    problems: list[RosterProblem] = []
    notes: list[str] = []
    if not files:
        raise RosterProblems([RosterProblem("(no file)", None, "no roster file given")])
    candidates: list[_Candidate] = []
    if is_oneroster(files):
        fmt: Literal["simple", "oneroster"] = "oneroster"
        candidates, encodings, notes = read_oneroster(files, problems, teachers, own_teacher)
    else:
        fmt = "simple"
        encodings = {}
        for path in files:
            got, encodings[path.name] = _read_simple(path, problems)
            candidates += got
        _check_teachers(candidates, teachers, own_teacher, problems)
    _check_duplicates(candidates, problems)
    rows = [row for row, ok in candidates if ok]
    if problems:
        names = list(encodings) if fmt == "oneroster" else [f.name for f in files]
        raise RosterProblems(sorted(problems, key=_order(names)))
    return fmt, rows, encodings, notes


def _order(names: list[str]) -> Callable[[RosterProblem], tuple[int, int]]:
    """Problems in file order (as given), then by line; stable within a line."""

    def key(p: RosterProblem) -> tuple[int, int]:
        rank = names.index(p.file) if p.file in names else len(names)
        return (rank, p.line or 0)

    return key


def _check_teachers(
    candidates: list[_Candidate],
    teachers: frozenset[str] | None,
    own: str | None,
    problems: list[RosterProblem],
) -> None:
    if teachers is None:
        return
    for row, _ok in candidates:
        if not row.teacher_id:
            continue
        if row.teacher_id not in teachers:
            known = ", ".join(sorted(teachers)) or "none"
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


def _check_duplicates(candidates: list[_Candidate], problems: list[RosterProblem]) -> None:
    first: dict[str, RosterRow] = {}
    for row, _ok in candidates:
        if not row.student_id:
            continue
        seen = first.setdefault(row.student_id, row)
        if seen is not row:
            where = f"line {seen.line}" + ("" if seen.file == row.file else f" of {seen.file}")
            problems.append(
                RosterProblem(
                    row.file,
                    row.line,
                    f"student id {row.student_id} appears twice (first on {where})",
                )
            )


# -- planning and writing --------------------------------------------------------------------


def _context(conn: Connection) -> tuple[frozenset[str], str | None]:
    teachers = frozenset(t.id for t in TEACHERS.list(conn))
    state = {str(k): str(v) for k, v in conn.exec_driver_sql("SELECT key, value FROM sync_state")}
    own = state.get("teacher_id") if state.get("server_url") else None
    return teachers, own


def _plan(conn: Connection, paths: Sequence[str | os.PathLike[str]]) -> RosterPreview:
    teachers, own = _context(conn)
    fmt, rows, encodings, notes = read_roster(paths, teachers=teachers, own_teacher=own)
    existing = {s.id: s for s in STUDENTS.list(conn)}
    changes = []
    for row in rows:
        before = existing.get(row.student_id)
        if before is None:
            changes.append(RosterChange("add", row))
        elif (before.name, before.grade, before.teacher_id) == (
            row.name,
            row.grade,
            row.teacher_id,
        ):
            changes.append(RosterChange("unchanged", row, before))
        else:
            changes.append(RosterChange("update", row, before))
    return RosterPreview(
        format=fmt,
        files=tuple(encodings),
        encodings=encodings,
        changes=tuple(changes),
        notes=tuple(notes),
    )


def preview_roster(store: LocalStore, paths: Sequence[str | os.PathLike[str]]) -> RosterPreview:
    """What importing ``paths`` would change; raises :class:`RosterProblems`. Writes nothing."""
    with store.read() as conn:
        return _plan(conn, paths)


def import_roster(store: LocalStore, paths: Sequence[str | os.PathLike[str]]) -> RosterImport:
    """Import ``paths`` in one transaction (re-checked inside it); all or nothing."""
    with store.write() as txn:
        preview = _plan(txn.conn, paths)
        _write(txn, preview)
        return RosterImport(preview, list(txn.changes))


def _write(txn: WriteTxn, preview: RosterPreview) -> None:
    """Insert and update the students: stamped by the store, queued by its triggers.

    The same path as :meth:`WriteTxn.insert`/``update`` (a fresh HLC stamp per row from
    the store's clock, the capture triggers queue each row in this transaction), batched
    with ``executemany`` so that 10,000 students take well under a second instead of the
    eight or more that one ``insert`` round trip per row needs.
    """
    adds = [c.row for c in preview.changes if c.kind == "add"]
    updates = [c.row for c in preview.changes if c.kind == "update"]
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
                    sync_hlc=bindparam("v_hlc"),
                    sync_origin=bindparam("v_origin"),
                ),
                [
                    {
                        "pk": r.student_id,
                        "v_name": r.name,
                        "v_grade": r.grade,
                        "v_teacher": r.teacher_id,
                        "v_hlc": next(stamps),
                        "v_origin": origin,
                    }
                    for r in updates
                ],
            )
    txn.changes += [Change("students", r.student_id, "insert") for r in adds]
    txn.changes += [Change("students", r.student_id, "update") for r in updates]


def _stamps(txn: WriteTxn, n: int) -> range:
    """``n`` fresh HLC stamps: what ``n`` calls of :meth:`WriteTxn.stamp` would give
    within one millisecond (each one above the last), in two statements instead of 2n."""
    first = txn.stamp()
    txn.set_state({"hlc": str(first + n - 1)})
    return range(first, first + n)
