"""SQL injection strings in every user-facing text field travel as data, end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sync import actions
from sync.model.crud import CORRECTIONS, DATA_ENTRIES, STUDENTS
from sync.model.records import Student
from tests.support.laptops import Laptop, admin_rows, served
from tests.test_cli import flourish

INJECTIONS = [
    "Robert'); DROP TABLE students;--",
    "'; DELETE FROM assessments WHERE '1'='1",
    '" OR 1=1 --',
    "$$; DROP SCHEMA public CASCADE; $$",
    "x' || (SELECT current_user) || '",
    "%s %(name)s {0} ?",
    "back\\slash \\' \\x27",
    "O'Brien-Zoë 😀 \u202eRTL",
    "1; SET ROLE flourish_admin; --",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_text_fields_round_trip_through_sync(pg_url: str, tmp_path: Path, evil: str) -> None:
    server = served(pg_url, tmp_path / "service", teachers=("T001",))
    a, b = Laptop(server, "T001", tmp_path / "A"), Laptop(server, "T001", tmp_path / "B")
    try:
        a.sync()
        b.sync()
        with a.store.write() as txn:
            txn.update(Student, "S001", name=evil[:100])
        entry = actions.add_entry(
            a.store,
            student_id="S002",
            teacher_id="T001",
            entry_type="parent_note",
            content=evil,
            date=dt.date(2026, 11, 3),
            metadata={"title": evil},
        ).value
        decision = actions.correct(
            a.store, assessment_id=1, teacher_id="T001", level=2, justification=evil, notes=evil
        ).value
        a.sync()
        b.sync()
        assert admin_rows(server.admin_url, "SELECT name FROM students WHERE id = 'S001'") == [
            (evil[:100],)
        ]
        assert admin_rows(
            server.admin_url,
            "SELECT content, metadata->>'title' FROM data_entries WHERE id = :i",
            i=entry.id,
        ) == [(evil, evil)]
        assert admin_rows(
            server.admin_url,
            "SELECT teacher_notes, corrected_justification FROM teacher_corrections WHERE id = :i",
            i=decision.id,
        ) == [(evil, evil)]
        with b.store.read() as conn:
            assert STUDENTS.require(conn, "S001").name == evil[:100]
            stored = DATA_ENTRIES.require(conn, entry.id)
            assert stored.content == evil and stored.metadata == {"title": evil}
            assert CORRECTIONS.require(conn, decision.id).teacher_notes == evil
        # nothing else was touched
        assert admin_rows(server.admin_url, "SELECT count(*) FROM students") == [(4,)]
        assert admin_rows(server.admin_url, "SELECT count(*) FROM assessments")[0][0] > 100
    finally:
        a.close()
        b.close()
        server.stop()


def test_cli_fields_are_data(tmp_path: Path) -> None:
    assert flourish("demo", "--no-window", data_dir=tmp_path).returncode == 0
    for evil in INJECTIONS[:4]:
        result = flourish(
            "correct",
            "2",
            "--level",
            "Developing",
            "--notes",
            evil,
            "--justification",
            evil,
            data_dir=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        from sync.store.local import LocalStore

        with LocalStore.open(tmp_path / "flourish.sqlite3") as store, store.read() as conn:
            row = CORRECTIONS.list(conn, where={"assessment_id": 2})[0]
            assert (row.teacher_notes, row.corrected_justification) == (evil, evil)
            assert conn.exec_driver_sql("SELECT count(*) FROM students").scalar() == 4
    bad = flourish(
        "list", "assessments", "--student", "S001' OR '1'='1", "--json", data_dir=tmp_path
    )
    assert bad.returncode == 0 and bad.stdout.strip() == "[]"
