"""Students added by hand and levels the teacher records from the evidence, through the
sync capture path (rows and their queue entries), on real SQLite stores and by the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sync.actions.manual import TEACHER_TEXT, assess_evidence
from sync.actions.students import add_student, remove_student, update_student
from sync.errors import ConflictError, ValidationError
from sync.model.curriculum import load_curriculum
from sync.store.local import LocalStore
from sync.store.profiles import create_local_profile


def flourish(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess (its own exit code and streams)."""
    code = "import sys; from desktop.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _queued(store: LocalStore, table: str) -> list[str]:
    with store.read() as conn:
        return [
            str(pk)
            for (pk,) in conn.exec_driver_sql(
                "SELECT row_pk FROM sync_operations WHERE table_name = ? AND status = 'pending'",
                (table,),
            )
        ]


@pytest.fixture
def local(tmp_path: Path) -> LocalStore:
    path = create_local_profile(tmp_path / "me" / "flourish.sqlite3", teacher_name="Ms. Lee")
    return LocalStore.open(path, create=False)


def test_add_edit_remove_a_student_on_an_empty_profile(local: LocalStore) -> None:
    first = add_student(local, name="  Pat   Quinn ", grade="7").value
    assert (first.id, first.name, first.grade) == ("S001", "Pat Quinn", 7)
    assert first.teacher_id == local.state("teacher_id")
    second = add_student(local, name="Ana", grade=6, student_id="s120").value
    assert second.id == "S120"
    assert add_student(local, name="Bo", grade=8).value.id == "S121"
    assert sorted(_queued(local, "students")) == ["S001", "S120", "S121"]
    edited = update_student(local, student_id="S001", name="Pat Quinn-Ross", grade=8).value
    assert (edited.name, edited.grade) == ("Pat Quinn-Ross", 8)
    remove_student(local, student_id="S121")
    with local.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM students ORDER BY id")]
    assert ids == ["S001", "S120"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "grade": 7}, "^new student: name is empty"),
        ({"name": "Pat", "grade": 9}, "grade '9' must be 6, 7 or 8"),
        ({"name": "Pat", "grade": 7, "student_id": "X12"}, "must look like S001"),
        ({"name": "Pat", "grade": 7, "teacher_id": "T999"}, "teacher 'T999' is not known"),
    ],
)
def test_bad_students_are_refused_with_the_reason(
    local: LocalStore, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        add_student(local, **kwargs)  # type: ignore[arg-type]
    assert _queued(local, "students") == []


def test_twice_the_same_id_and_removing_a_student_with_evidence(demo_store: LocalStore) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        add_student(demo_store, name="Pat", grade=7, student_id="S001")
    with pytest.raises(ConflictError, match="evidence"):
        remove_student(demo_store, student_id="S001")


def test_manual_assessment_is_a_confirmed_teacher_level(demo_store: LocalStore) -> None:
    with demo_store.read() as conn:
        entry, student, content = conn.exec_driver_sql(
            "SELECT id, student_id, content FROM data_entries ORDER BY id LIMIT 1"
        ).one()
        taken = {
            str(r[0])
            for r in conn.exec_driver_sql(
                "SELECT skill_name FROM assessments WHERE data_entry_id = ? AND student_id = ?",
                (entry, student),
            )
        }
    skill = next(n for n in load_curriculum().skill_names if n not in taken)
    quote = " ".join(str(content).split()[:6])
    assessment, confirmed = assess_evidence(
        demo_store,
        data_entry_id=entry,
        student_id=student,
        skill_name=skill,
        level=3,
        quote=quote,
        teacher_id="T001",
        justification="Explains the plan to the group.",
    ).value
    with demo_store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT level, confidence_score, corrected, provenance FROM assessments WHERE id = ?",
            (assessment.id,),
        ).one()
    assert row[0] == "Proficient" and row[1] is None and row[2] == 1
    assert '"source": "teacher"' in row[3] or '"source":"teacher"' in row[3]
    assert confirmed.corrected_level == confirmed.original_level == "Proficient"
    assert confirmed.corrected_justification == TEACHER_TEXT and not confirmed.use_as_example
    assert _queued(demo_store, "assessments") == [str(assessment.id)]
    assert _queued(demo_store, "teacher_corrections") == [str(confirmed.id)]
    with pytest.raises(ConflictError, match="review queue"):
        assess_evidence(
            demo_store,
            data_entry_id=entry,
            student_id=student,
            skill_name=skill,
            level=2,
            quote=quote,
            teacher_id="T001",
        )
    with pytest.raises(ValidationError, match="not in the evidence"):
        assess_evidence(
            demo_store,
            data_entry_id=entry,
            student_id=student,
            skill_name="Collaboration",
            level=2,
            quote="words nobody wrote",
            teacher_id="T001",
        )


def test_cli_add_student(tmp_path: Path) -> None:
    data = tmp_path / "me"
    create_local_profile(data / "flourish.sqlite3", teacher_name="Ms. Lee")
    done = flourish("add-student", "--name", "Pat Quinn", "--grade", "7", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("student S001 added: Pat Quinn, grade 7")
    again = flourish("add-student", "--name", "Ana", "--grade", "6", "--id", "S050", data_dir=data)
    assert again.returncode == 0 and "student S050 added" in again.stdout
    bad = flourish("add-student", "--name", "Bo", "--grade", "9", data_dir=data)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "flourish: new student 'Bo': grade '9' must be 6, 7 or 8"
    usage = flourish("add-student", "--grade", "7", data_dir=data)
    assert usage.returncode == 2 and "add-student" in usage.stderr
    nothing = flourish("add-student", "--name", "X", "--grade", "7", data_dir=tmp_path / "none")
    assert nothing.returncode == 1 and "no local store" in nothing.stderr
