"""A school's roster export, whatever its format, and which of it comes to this laptop.

:mod:`sync.io.oneroster` (OneRoster 1.1 and 1.2) and :mod:`sync.io.clever` (Clever's CSV) read
their files into one :class:`SchoolRoster` — people, classes, who teaches and who attends
what. :func:`resolve` then decides, class by class and student by student, what this
store imports, and says why for everything it leaves out:

* **Teachers** of the file are matched to Flourish teachers by external id (the source's
  id recorded on the teacher), by a Flourish id in the file (``identifier`` ``T001``), or
  by e-mail (what ``flourish server add-teacher --email`` records). A class goes to its
  primary teacher (else its first teacher).
* **Choosing** (``--teacher T001 --classes c1,c2``, the app's class list): the chosen
  classes — by default those whose teacher matches T001 — go to T001, and the file's
  teacher of each is remembered as T001's external id so the next import matches it.
* **Out of scope, not errors**: classes of other (or unknown) teachers, classes not chosen,
  students in grades outside 6–8 or without a grade, disabled users, students in no
  imported class. Each kind is counted in the notes (:attr:`Resolved.notes`), and every
  class is listed with its reason (:attr:`Resolved.classes`).
* **Errors**: a grade that is no grade (``seven``), a chosen class the file does not hold,
  a student in imported classes of two Flourish teachers (Flourish gives one teacher).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sync.io.rosterfiles import RosterProblem, check_name

__all__ = [
    "ClassChoice",
    "KnownTeacher",
    "Person",
    "Resolved",
    "SchoolClass",
    "SchoolRoster",
    "Selection",
    "StudentRow",
    "parse_grade",
    "resolve",
]

_FLOURISH_STUDENT = re.compile(r"^S[0-9]{3,}$")
_FLOURISH_TEACHER = re.compile(r"^T[0-9]{3,}$")
# Grade words of OneRoster (CEDS) and Clever that are grades, just not 6-8.
_OTHER_GRADES = {
    "it", "pr", "pk", "tk", "kg", "ps", "ug", "other", "k", "kindergarten",
    "prekindergarten", "transitionalkindergarten", "infanttoddler", "preschool",
    "postgraduate", "ungraded",
}  # fmt: skip
_SHOWN_CLASSES = 8


@dataclass(frozen=True)
class Person:
    """A student or teacher as the file gives them."""

    file: str
    line: int
    key: str  # what the file's enrollments refer to (sourcedId, Clever id)
    external_id: str  # the id kept as the person's external id
    name: str
    grades: tuple[str, ...] = ()
    email: str = ""
    flourish_id: str = ""  # an id of Flourish's own shape given in the file (S001, T001)


@dataclass
class SchoolClass:
    key: str
    title: str
    teachers: list[str] = field(default_factory=list)  # person keys, primary first
    students: list[str] = field(default_factory=list)
    code: str = ""


@dataclass
class SchoolRoster:
    """What a roster export holds (see the module doc)."""

    format: str  # "OneRoster 1.1", "OneRoster 1.2", "Clever"
    source: str  # external_source of its people: "oneroster", "clever"
    encodings: dict[str, str]
    students: dict[str, Person] = field(default_factory=dict)
    teachers: dict[str, Person] = field(default_factory=dict)
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    disabled: int = 0
    users_file: str = "users.csv"


@dataclass(frozen=True)
class KnownTeacher:
    id: str
    email: str | None
    external_source: str | None
    external_id: str | None


@dataclass(frozen=True)
class Selection:
    """``--teacher`` / ``--classes``: the chosen classes go to ``teacher``."""

    teacher: str | None = None
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ClassChoice:
    """One class of the file and what the import does with it."""

    key: str
    title: str
    file_teacher: str  # the file's name for its teacher ("John Doe (john.doe)")
    teacher_id: str | None  # the Flourish teacher it goes to (None: skipped)
    students: int
    reason: str  # why it is skipped ("" when imported)
    matches: str | None = None  # the Flourish teacher its file teacher matches


@dataclass(frozen=True)
class StudentRow:
    file: str
    line: int
    flourish_id: str
    name: str
    grade: int
    teacher_id: str
    external_id: str


@dataclass
class Resolved:
    rows: list[StudentRow]
    classes: list[ClassChoice]
    notes: list[str]
    #: (Flourish teacher, external id) to record on that teacher (from a choice).
    teacher_links: list[tuple[str, str]]


def parse_grade(value: str) -> int | str | None:
    """``07`` -> 7; a grade word or number outside 6-8 -> ``"other"``; junk -> None."""
    text = value.strip().lower().removeprefix("grade").strip()
    if text.isdigit():
        number = int(text)
        return number if 6 <= number <= 8 else "other"
    if text in _OTHER_GRADES:
        return "other"
    return None


def _match(person: Person, source: str, known: list[KnownTeacher]) -> str | None:
    for t in known:
        if t.external_source == source and t.external_id == person.external_id:
            return t.id
    for t in known:
        if person.flourish_id and t.id == person.flourish_id:
            return t.id
    email = person.email.lower()
    for t in known:
        if email and t.email and t.email.lower() == email:
            return t.id
    return None


def _label(person: Person | None) -> str:
    if person is None:
        return "no teacher"
    return f"{person.name} ({person.external_id})" if person.name else person.external_id


def resolve(
    roster: SchoolRoster,
    known: list[KnownTeacher],
    own: str | None,
    selection: Selection,
    problems: list[RosterProblem],
) -> Resolved:
    """Decide what of ``roster`` this store imports (see the module doc)."""
    known_ids = {t.id for t in known}
    chosen = set(selection.classes) if selection.classes is not None else None
    if chosen is not None:
        by_code = {c.code: k for k, c in roster.classes.items() if c.code}
        chosen = {by_code.get(c, c) for c in chosen}
        for missing in sorted(c for c in chosen if c not in roster.classes):
            problems.append(
                RosterProblem("--classes", None, f"class {missing!r} is not in the file's classes")
            )
    choices: list[ClassChoice] = []
    links: list[tuple[str, str]] = []
    kept: dict[str, str] = {}
    for key, cls in roster.classes.items():
        if not cls.students:
            continue
        first = roster.teachers.get(cls.teachers[0]) if cls.teachers else None
        matched = _match(first, roster.source, known) if first else None
        teacher: str | None = None
        reason = ""
        if selection.teacher is not None:
            picked = key in chosen if chosen is not None else matched == selection.teacher
            if picked:
                teacher = selection.teacher
                if first is not None and matched is None:
                    links.append((selection.teacher, first.external_id))
            else:
                reason = "not chosen" + (f" (a class of {matched})" if matched else "")
        elif first is None:
            reason = "no teacher in the file"
        elif matched is None:
            reason = f"teacher {_label(first)} is not known to this store"
        elif own is not None and matched != own:
            reason = f"a class of {matched}, not of the signed-in teacher ({own})"
        else:
            teacher = matched
        if teacher is not None:
            kept[key] = teacher
        choices.append(
            ClassChoice(key, cls.title, _label(first), teacher, len(cls.students), reason, matched)
        )
    if selection.teacher is not None and selection.teacher not in known_ids:
        problems.append(
            RosterProblem(
                "--teacher", None, f"teacher {selection.teacher} is not known to this store"
            )
        )
    # One external id per teacher and source: keep the first link only.
    links = list({teacher: (teacher, ext) for teacher, ext in reversed(links)}.values())[::-1]

    rows, notes = _students(roster, kept, problems)
    skipped = [c for c in choices if c.teacher_id is None]
    if skipped:
        shown = "; ".join(f"{c.title} ({c.reason})" for c in skipped[:_SHOWN_CLASSES])
        more = (
            f"; and {len(skipped) - _SHOWN_CLASSES} more" if len(skipped) > _SHOWN_CLASSES else ""
        )
        notes.insert(0, f"skipped {len(skipped)} class(es): {shown}{more}")
    return Resolved(rows, choices, [*roster.notes, *notes], links)


def _students(
    roster: SchoolRoster, kept: dict[str, str], problems: list[RosterProblem]
) -> tuple[list[StudentRow], list[str]]:
    teachers_of: dict[str, dict[str, None]] = {}
    for key, teacher in kept.items():
        for student in roster.classes[key].students:
            teachers_of.setdefault(student, {})[teacher] = None
    rows: list[StudentRow] = []
    out_of_grade = no_grade = not_enrolled = 0
    for key, person in roster.students.items():
        # Counted once, by the first reason: grade, then class.
        grade: int | str | None = parse_grade(person.grades[0]) if person.grades else "none"
        if grade == "other":
            out_of_grade += 1
            continue
        if key not in teachers_of:
            not_enrolled += 1
            continue
        if grade is None:
            problems.append(
                RosterProblem(
                    person.file, person.line, f"grade {person.grades[0]!r} is not a grade"
                )
            )
            continue
        if grade == "none":
            no_grade += 1
            continue
        bad: list[str] = []
        check_name(person.name, bad)
        mine = list(teachers_of[key])
        if len(mine) > 1:
            bad.append(
                f"student {person.external_id} is in classes of several teachers "
                f"({', '.join(mine)}); Flourish gives each student one teacher"
            )
        problems += [RosterProblem(person.file, person.line, b) for b in bad]
        if bad:
            continue
        assert isinstance(grade, int)
        rows.append(
            StudentRow(
                person.file,
                person.line,
                person.flourish_id if _FLOURISH_STUDENT.match(person.flourish_id) else "",
                person.name,
                grade,
                mine[0],
                person.external_id,
            )
        )
    notes = []
    if out_of_grade:
        notes.append(f"skipped {out_of_grade} student(s) in grades outside 6–8")
    if no_grade:
        notes.append(f"skipped {no_grade} student(s) without a grade")
    if roster.disabled:
        notes.append(f"skipped {roster.disabled} disabled user(s)")
    if not_enrolled:
        notes.append(f"skipped {not_enrolled} student(s) not enrolled in an imported class")
    return rows, notes
