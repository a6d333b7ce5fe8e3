"""The rule for a student's own fields, in one place: the roster import and the students
added by hand (:mod:`sync.actions.students`) both use it."""

from __future__ import annotations

import re

__all__ = ["MAX_NAME", "student_problems"]

_STUDENT_ID = re.compile(r"^S[0-9]{3,}$")
MAX_NAME = 100


def student_problems(student_id: str, name: str, grade: str) -> tuple[list[str], int | None]:
    """(what is wrong, the grade as a number when every field is fine)."""
    problems: list[str] = []
    if not student_id:
        problems.append("student id is empty")
    elif not _STUDENT_ID.match(student_id) or len(student_id) > 10:
        problems.append(
            f"student id {student_id!r} must look like S001 "
            "(an S and at least three digits, at most 10 characters)"
        )
    if not name:
        problems.append("name is empty")
    elif len(name) > MAX_NAME:
        problems.append(f"name is longer than {MAX_NAME} characters")
    value: int | None = None
    try:
        value = int(grade)
    except ValueError:
        pass
    if value is None or not 6 <= value <= 8:
        problems.append(f"grade {grade!r} must be 6, 7 or 8" if grade else "grade is empty")
    return problems, (value if not problems else None)
