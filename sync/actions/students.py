"""Students added, edited and removed by hand (the first day without a roster file).

Same rules as a roster import (:mod:`sync.model.studentfields`): an id ``S`` and at
least three digits, a name, grade 6, 7 or 8, a teacher this laptop knows — on a laptop
signed in to a server, only the signed-in teacher. Without an id one is assigned: the
next free ``S`` number on a laptop without a server (``S001`` on an empty laptop), and on a
laptop signed in as device ``D`` the next ``S<D><five digits>``, a range no other laptop
mints (another teacher's ``S003`` is invisible here). A school's own ids are better when it
has them (a clash is reported by the sync, nothing is overwritten).

A student with evidence is not removed: the evidence, its assessments and the teacher's
decisions would go with it. Remove the evidence first, or keep the student.
"""

from __future__ import annotations

from sqlalchemy import Connection

from sync.errors import ConflictError, NotFoundError, ValidationError
from sync.model.crud import STUDENTS, TEACHERS
from sync.model.ids import student_ids
from sync.model.records import Student
from sync.model.studentfields import student_problems
from sync.store.local import LocalStore
from sync.store.state import SERVER_URL, TEACHER_ID

from . import Result

__all__ = ["add_student", "next_student_id", "remove_student", "update_student"]


def next_student_id(conn: Connection, device_no: int = 0) -> str:
    """The next student id this laptop may mint: without a server, ``S`` and one more than
    the highest ``S`` number here (three digits at least); a laptop signed in as device
    ``D`` uses ``S<D><five digits>``, which no other laptop or teacher can hold
    (:func:`sync.model.ids.student_ids`)."""
    return next(student_ids(conn, device_no, set()))


def _check(
    student_id: str, name: str, grade: int | str, *, where: str | None = None
) -> tuple[str, int]:
    clean = " ".join(name.split())
    problems, value = student_problems(student_id, clean, str(grade).strip())
    if value is None:
        where = where or f"student {student_id}"
        raise ValidationError(f"{where}: " + "; ".join(problems))
    return clean, value


def _teacher(conn: Connection, teacher_id: str | None) -> str | None:
    state = {str(k): str(v) for k, v in conn.exec_driver_sql("SELECT key, value FROM sync_state")}
    own = state.get(TEACHER_ID)
    teacher = teacher_id or own
    if teacher is None:
        return None
    if TEACHERS.get(conn, teacher) is None:
        known = ", ".join(sorted(t.id for t in TEACHERS.list(conn))) or "none"
        raise ValidationError(f"teacher {teacher!r} is not known to this laptop (known: {known})")
    if state.get(SERVER_URL) and own and teacher != own:
        raise ValidationError(
            f"teacher {teacher} is not the teacher signed in on this laptop ({own}); "
            "the server accepts only your own students"
        )
    return teacher


def add_student(
    store: LocalStore,
    *,
    name: str,
    grade: int | str,
    teacher_id: str | None = None,
    student_id: str | None = None,
) -> Result[Student]:
    """Add one student (``student_id`` assigned when not given; see the module docstring)."""
    with store.write() as txn:
        given = (student_id or "").strip().upper()
        sid = given or next_student_id(txn.conn, txn.device_no)
        where = None if given else f"new student {' '.join(name.split())!r}".replace(" ''", "")
        clean, value = _check(sid, name, grade, where=where)
        if STUDENTS.get(txn.conn, sid) is not None:
            raise ConflictError(f"student {sid} already exists on this laptop")
        teacher = _teacher(txn.conn, teacher_id)
        stored = txn.insert(Student(id=sid, name=clean, grade=value, teacher_id=teacher))
        return Result(stored, txn.changes)


def update_student(
    store: LocalStore, *, student_id: str, name: str, grade: int | str
) -> Result[Student]:
    """Change a student's name and grade (the id stays: other rows point at it)."""
    with store.write() as txn:
        if STUDENTS.get(txn.conn, student_id) is None:
            raise NotFoundError(f"student {student_id}: no such student")
        clean, value = _check(student_id, name, grade)
        stored = txn.update(Student, student_id, name=clean, grade=value)
        return Result(stored, txn.changes)


def remove_student(store: LocalStore, *, student_id: str) -> Result[None]:
    """Remove a student who has no evidence yet (see the module docstring)."""
    with store.write() as txn:
        if STUDENTS.get(txn.conn, student_id) is None:
            raise NotFoundError(f"student {student_id}: no such student")
        entries = int(
            txn.conn.exec_driver_sql(
                "SELECT count(*) FROM data_entries WHERE student_id = ?", (student_id,)
            ).scalar_one()
        )
        if entries:
            noun = "entry" if entries == 1 else "entries"
            raise ConflictError(
                f"student {student_id} has {entries} evidence {noun}: removing the student "
                "would remove them with their assessments; keep the student"
            )
        for table in ("skill_targets", "badges"):
            if txn.conn.exec_driver_sql(
                f"SELECT 1 FROM {table} WHERE student_id = ? LIMIT 1", (student_id,)
            ).first():
                raise ConflictError(
                    f"student {student_id} has {table.replace('_', ' ')}: keep the student"
                )
        txn.delete(Student, student_id)
        return Result(None, txn.changes)
