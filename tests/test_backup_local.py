"""Local store backup and restore: online backup API, refusals, safety copy, bookkeeping."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sync import actions
from sync.errors import ValidationError
from sync.store.local import LocalStore
from sync.store.localbackup import (
    RestoreRefused,
    backup_local,
    inspect_store_file,
    restore_local,
)
from tests.test_cli import flourish


def counts(store: LocalStore) -> tuple[int, ...]:
    """(evidence entries, teacher decisions, queued changes)."""
    with store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT (SELECT COUNT(*) FROM data_entries), (SELECT COUNT(*) FROM "
            "teacher_corrections), (SELECT COUNT(*) FROM sync_operations)"
        ).one()
    return tuple(int(v) for v in row)


def test_backup_is_a_complete_store_even_while_a_reader_is_open(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    reader = sqlite3.connect(demo_store.path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM assessments").fetchone()  # a snapshot held open
    try:
        info = backup_local(demo_store, tmp_path / "copy.sqlite3")
    finally:
        reader.rollback()
        reader.close()
    assert (info.students, info.entries, info.assessments, info.unsent) == (4, 32, 125, 0)
    assert info.teacher_id == "T001" and info.profile == "demo"
    with LocalStore.open(tmp_path / "copy.sqlite3", create=False) as copy:
        assert counts(copy) == counts(demo_store)
    with pytest.raises(ValidationError, match="cannot replace the store itself"):
        backup_local(demo_store, demo_store.path)


def test_restore_refuses_unsynced_changes_unless_forced(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    backup_local(demo_store, tmp_path / "b.sqlite3")
    made = actions.add_entry(
        demo_store, student_id="S001", teacher_id="T001", entry_type="parent_note", content="hi"
    )
    actions.correct(demo_store, assessment_id=2, teacher_id="T001", level="Emerging")
    with demo_store.read() as conn:
        op_before = conn.exec_driver_sql("SELECT MAX(op_id) FROM sync_operations").scalar()
    with pytest.raises(RestoreRefused, match="2 change\\(s\\) on this laptop are not synced"):
        restore_local(demo_store, tmp_path / "b.sqlite3")
    assert counts(demo_store) == (33, 1, 2)  # untouched
    result = restore_local(demo_store, tmp_path / "b.sqlite3", force=True)
    assert counts(demo_store) == (32, 0, 0)
    assert result.safety_copy.parent == demo_store.path.parent / "backups"
    with LocalStore.open(result.safety_copy, create=False) as safety:
        assert counts(safety) == (33, 1, 2)  # what the restore replaced is kept
    # Nothing the server may already hold is reused: operation numbers and ids go on.
    again = actions.add_entry(
        demo_store, student_id="S001", teacher_id="T001", entry_type="parent_note", content="yo"
    )
    assert again.value.id != made.value.id
    with demo_store.read() as conn:
        op_after = conn.exec_driver_sql("SELECT MAX(op_id) FROM sync_operations").scalar()
    assert op_after > op_before


def test_restore_checks_the_file(demo_store: LocalStore, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    other = sqlite3.connect(tmp_path / "other.sqlite3")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    cases = {
        tmp_path / "missing.sqlite3": "no backup file at",
        tmp_path / "notes.txt": "is not a Flourish backup",
        tmp_path / "other.sqlite3": "is an SQLite database but not a Flourish store",
        demo_store.path: "that file is the store itself",
    }
    for path, reason in cases.items():
        with pytest.raises(ValidationError, match=reason):
            restore_local(demo_store, path)


def test_restore_refuses_another_teachers_backup(demo_store: LocalStore, tmp_path: Path) -> None:
    backup_local(demo_store, tmp_path / "t1.sqlite3")
    demo_store.set_state({"teacher_id": "T002"})
    with pytest.raises(RestoreRefused, match="belongs to teacher T001.*signed in as T002"):
        restore_local(demo_store, tmp_path / "t1.sqlite3")
    restore_local(demo_store, tmp_path / "t1.sqlite3", force=True)
    assert demo_store.state("teacher_id") == "T001"


def test_encrypted_store_backups_stay_encrypted(tmp_path: Path) -> None:
    pytest.importorskip("sqlcipher3")
    from sync.model.records import Teacher
    from sync.store.storefile import is_encrypted

    with LocalStore.open(tmp_path / "enc.sqlite3", key="a passphrase") as store:
        with store.write() as txn:
            txn.insert(Teacher(id="T001", name="A"))
        backup_local(store, tmp_path / "enc-backup.sqlite3")
        assert is_encrypted(tmp_path / "enc-backup.sqlite3")
        with pytest.raises(ValidationError, match="is not a Flourish backup"):
            inspect_store_file(tmp_path / "enc-backup.sqlite3")  # without the key
        with store.write() as txn:
            txn.insert(Teacher(id="T002", name="B"))
        restore_local(store, tmp_path / "enc-backup.sqlite3", force=True)
        with store.read() as conn:
            ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM teachers")]
        assert ids == ["T001"]


def test_cli_backup_and_restore(demo_store: LocalStore, tmp_path: Path) -> None:
    data_dir = demo_store.path.parent
    demo_store.close()
    made = flourish("backup", "--out", str(tmp_path / "b.sqlite3"), data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    assert "4 students, 32 evidence entries, 125 assessments, 0 unsynced" in made.stdout
    done = flourish("restore", "--in", str(tmp_path / "b.sqlite3"), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "restored b.sqlite3" in done.stdout and "kept at" in done.stdout
    bad = flourish("restore", "--in", str(tmp_path / "nope"), data_dir=data_dir)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    fresh = tmp_path / "new-laptop"  # a new laptop starts from the backup
    first = flourish("restore", "--in", str(tmp_path / "b.sqlite3"), data_dir=fresh)
    assert first.returncode == 0, first.stderr
    listed = flourish("list", "students", "--json", data_dir=fresh)
    assert listed.returncode == 0 and '"S004"' in listed.stdout


def test_pending_quarantined_and_unsent_mean_the_same_everywhere(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    """One change waiting and one held back: status counts them apart, and a backup or a
    restore counts both as unsent (the backup used to call every queue row "pending")."""
    from sync.replication.status import queue_status

    backup_local(demo_store, tmp_path / "before.sqlite3")
    actions.accept(demo_store, assessment_id=1, teacher_id="T001")
    actions.accept(demo_store, assessment_id=2, teacher_id="T001")
    with demo_store.write() as txn:
        txn.conn.exec_driver_sql(
            "UPDATE sync_operations SET status = 'quarantined', last_error = 'refused' "
            "WHERE op_id = (SELECT max(op_id) FROM sync_operations)"
        )
    status = queue_status(demo_store)
    assert (status["pending"], status["quarantined"]) == (1, 1)
    info = backup_local(demo_store, tmp_path / "after.sqlite3")
    assert info.unsent == 2
    with pytest.raises(RestoreRefused, match="^2 change"):
        restore_local(demo_store, tmp_path / "before.sqlite3")
