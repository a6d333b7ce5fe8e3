"""The local SQLite mirror: file setup, capture, ids, views equal to the server's, upgrades."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sync.errors import StoreError, ValidationError
from sync.model.crud import REPOS
from sync.model.records import Assessment, Correction, DataEntry, SkillTarget, Student, Teacher
from sync.model.rules import untracked_columns
from sync.model.tables import LOCAL
from sync.server.central import create_engine_for
from sync.store import local as local_module
from sync.store.local import LOCAL_SCHEMA_VERSION, LocalStore
from tests.support import dataset

FIXTURES = Path(__file__).parent / "fixtures"


def queue(store: LocalStore) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT table_name, row_pk, op, status FROM sync_operations ORDER BY op_id"
            )
        ]


def seeded(store: LocalStore) -> LocalStore:
    with store.write() as txn:
        txn.insert(Teacher(id="T001", name="Ms. Rodriguez", email="r@school.edu"))
        txn.insert(Student(id="S001", name="Eva", grade=7, teacher_id="T001"))
    return store


def test_new_store_file_settings(store: LocalStore) -> None:
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == LOCAL_SCHEMA_VERSION


def _structure(db: sqlite3.Connection) -> dict[str, Any]:
    """Tables, columns, foreign keys and indexes as SQLite reports them."""
    out: dict[str, Any] = {}
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in sorted(tables):
        indexes = {}
        for _seq, name, unique, origin, partial in db.execute(f"PRAGMA index_list('{table}')"):
            cols = [(r[2], r[3]) for r in db.execute(f"PRAGMA index_xinfo('{name}')") if r[5]]
            indexes[name] = (unique, origin, partial, cols)
        out[table] = {
            "columns": [tuple(r[1:]) for r in db.execute(f"PRAGMA table_info('{table}')")],
            "fks": sorted(tuple(r[2:]) for r in db.execute(f"PRAGMA foreign_key_list('{table}')")),
            "indexes": indexes,
        }
    return out


def test_local_schema_has_no_drift_from_the_model(store: LocalStore, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    fresh = tmp_path / "model.sqlite3"
    engine = create_engine(f"sqlite:///{fresh}")
    LOCAL.metadata.create_all(engine)
    engine.dispose()
    model, migrated = sqlite3.connect(fresh), sqlite3.connect(store.path)
    try:
        assert _structure(migrated) == _structure(model)
    finally:
        model.close()
        migrated.close()


def test_every_table_round_trips(store: LocalStore) -> None:
    with store.apply_remote() as conn:
        dataset.load_fixture(conn)
    with store.read() as conn:
        for repo, rows in (
            (REPOS["data_entries"], dataset.ENTRIES),
            (REPOS["assessments"], dataset.ASSESSMENT_ROWS),
            (REPOS["teacher_corrections"], dataset.CORRECTIONS_ROWS),
            (REPOS["skill_targets"], dataset.TARGET_ROWS),
            (REPOS["badges"], dataset.BADGE_ROWS),
        ):
            for row in rows:
                stored = repo.require(conn, row.to_dict()["id"])
                for key, value in row.to_dict().items():
                    if value is None or key.startswith("sync_"):
                        continue
                    if key in untracked_columns(repo.name):
                        continue  # set by the corrected-flag trigger
                    assert stored.to_dict()[key] == value, (repo.name, key)


def test_update_and_delete_through_the_write_path(store: LocalStore) -> None:
    seeded(store)
    with store.write() as txn:
        updated = txn.update(Student, "S001", name="Eva R.")
        assert updated.name == "Eva R."
        assert txn.delete(Student, "S001") is True
        assert txn.delete(Student, "S001") is False
    assert [c.op for c in txn.changes] == ["update", "delete"]


def test_writes_enqueue_in_the_same_transaction(store: LocalStore) -> None:
    seeded(store)
    assert queue(store) == [
        ("teachers", "T001", "upsert", "pending"),
        ("students", "S001", "upsert", "pending"),
    ]
    with pytest.raises(RuntimeError), store.write() as txn:
        txn.update(Student, "S001", name="Changed")
        raise RuntimeError("crash before commit")
    with store.read() as conn:
        assert REPOS["students"].require(conn, "S001").name == "Eva"
    assert len(queue(store)) == 2


def test_repeated_edits_coalesce_into_one_pending_change(store: LocalStore) -> None:
    seeded(store)
    for grade in (6, 7, 8):
        with store.write() as txn:
            txn.update(Student, "S001", grade=grade)
    ops = [q for q in queue(store) if q[0] == "students"]
    assert ops == [("students", "S001", "upsert", "pending")]
    with store.read() as conn:
        payload = conn.exec_driver_sql(
            "SELECT payload FROM sync_operations WHERE table_name = 'students'"
        ).scalar()
    assert '"grade":8' in payload


def test_delete_is_queued_with_a_fresh_stamp(store: LocalStore) -> None:
    seeded(store)
    with store.read() as conn:
        before = REPOS["students"].require(conn, "S001").sync_hlc
    with store.write() as txn:
        txn.delete(Student, "S001")
    with store.read() as conn:
        op, hlc = conn.exec_driver_sql(
            "SELECT op, sync_hlc FROM sync_operations WHERE table_name = 'students'"
        ).one()
    assert op == "delete" and hlc > before


def test_writes_that_bypass_the_store_are_refused(store: LocalStore) -> None:
    seeded(store)
    raw = sqlite3.connect(store.path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="through the Flourish store"):
            raw.execute("UPDATE students SET name = 'X' WHERE id = 'S001'")
        with pytest.raises(sqlite3.IntegrityError, match="through the Flourish store"):
            raw.execute("INSERT INTO teachers (id, name) VALUES ('T009', 'Sneaky')")
        # a raw delete cannot skip capture either: it is queued with a stamp of its own
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("DELETE FROM students WHERE id = 'S001'")
    finally:
        raw.close()
    assert ("students", "S001", "delete", "pending") in queue(store)


def test_rows_applied_from_the_server_are_not_queued(store: LocalStore) -> None:
    with store.apply_remote() as conn:
        dataset.load_fixture(conn)
    assert queue(store) == []
    with store.read() as conn:
        guard = conn.exec_driver_sql("SELECT applying FROM sync_apply_guard").scalar()
    assert guard == 0


def test_the_apply_guard_is_rolled_back_with_a_failed_pull(store: LocalStore) -> None:
    with pytest.raises(RuntimeError), store.apply_remote():
        raise RuntimeError("network dropped mid-pull")
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT applying FROM sync_apply_guard").scalar() == 0


def test_corrected_flag_is_derived_locally_without_queueing_the_assessment(
    store: LocalStore,
) -> None:
    with store.apply_remote() as conn:
        dataset.load_fixture(conn)
    with store.write() as txn:
        txn.insert(
            Correction(
                assessment_id=2,
                original_level="Proficient",
                corrected_level="Advanced",
                corrected_by="T001",
            )
        )
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT corrected FROM assessments WHERE id=2").scalar() == 1
    assert [q[0] for q in queue(store)] == ["teacher_corrections"]


def test_ids_of_an_unregistered_store_continue_the_existing_ones(store: LocalStore) -> None:
    with store.apply_remote() as conn:
        dataset.load_fixture(conn)
    with store.write() as txn:
        entry = txn.insert(
            DataEntry(
                student_id="S001",
                teacher_id="T001",
                type="parent_note",
                date=dt.date(2026, 11, 1),
                content="note",
            )
        )
        target = txn.insert(
            SkillTarget(student_id="S002", skill_name="Creativity", assigned_by="T001")
        )
    assert entry.id == "DE004"
    assert target.id == 3


def test_ids_of_a_registered_device_are_in_its_own_range(store: LocalStore) -> None:
    seeded(store)
    store.set_state({"device_no": "7"})
    with store.write() as txn:
        e1 = txn.insert(
            DataEntry(student_id="S001", type="parent_note", date=dt.date(2026, 11, 1), content="a")
        )
        e2 = txn.insert(
            DataEntry(student_id="S001", type="parent_note", date=dt.date(2026, 11, 1), content="b")
        )
        a = txn.insert(
            Assessment(
                data_entry_id=e1.id,
                student_id="S001",
                skill_name="Creativity",
                skill_category="21st_Century",
                level="Developing",
                justification="j",
                source_quote="a",
            )
        )
    assert (e1.id, e2.id) == ("DE7000000001", "DE7000000002")
    assert a.id == 7_000_000_001
    assert a.sync_origin == 7


def test_natural_keys_are_required(store: LocalStore) -> None:
    with pytest.raises(ValidationError, match="needs an id"), store.write() as txn:
        txn.insert(Student(id=None, name="No id", grade=7))  # type: ignore[arg-type]


VIEW_QUERIES = {
    "latest_assessments": "SELECT id, student_id, skill_name, skill_category, level, "
    "confidence_score, created_at FROM latest_assessments ORDER BY student_id, skill_name",
    "student_progress_summary": "SELECT * FROM student_progress_summary ORDER BY student_id",
    "effective_levels": "SELECT student_id, skill_name, assessment_id, ai_level, "
    "corrected_level, effective_level, reviewed FROM effective_levels "
    "ORDER BY student_id, skill_name",
}


def _normalise(rows: list[Any]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        items = []
        for v in row:
            if isinstance(v, bool):
                v = int(v)
            elif isinstance(v, float):
                v = round(v, 2)
            elif hasattr(v, "as_tuple"):  # Decimal
                v = round(float(v), 2)
            elif isinstance(v, dt.datetime):
                v = v.isoformat(sep=" ")
            elif isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == " ":
                v = dt.datetime.fromisoformat(v).isoformat(sep=" ")
            items.append(v)
        out.append(tuple(items))
    return out


@pytest.mark.parametrize("view", sorted(VIEW_QUERIES))
def test_views_answer_the_same_on_both_stores(pg_url: str, store: LocalStore, view: str) -> None:
    engine = create_engine_for(pg_url)
    with store.apply_remote() as conn:
        dataset.load_fixture(conn)
    with engine.connect() as pg_conn:
        dataset.load_fixture(pg_conn)
        server = _normalise(pg_conn.execute(text(VIEW_QUERIES[view])).all())
    engine.dispose()
    with store.read() as conn:
        laptop = _normalise(conn.execute(text(VIEW_QUERIES[view])).all())
    assert server and laptop == server


def test_opening_a_file_from_a_newer_version_is_refused(store: LocalStore) -> None:
    path = store.path
    store.close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {LOCAL_SCHEMA_VERSION + 5}")
    raw.close()
    with pytest.raises(StoreError, match="newer Flourish"):
        LocalStore.open(path)


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    raw = sqlite3.connect(other)
    raw.execute("CREATE TABLE x (a)")
    raw.close()
    with pytest.raises(StoreError, match="not a Flourish store"):
        LocalStore.open(other)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable SQLite database"):
        LocalStore.open(garbage)


def test_older_file_is_upgraded_in_place_after_a_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-1 file from the fixtures meets a program one schema step ahead."""
    path = tmp_path / "flourish.sqlite3"
    path.write_bytes((FIXTURES / "local_v1.sqlite3").read_bytes())
    with LocalStore.open(path) as s, s.read() as conn:
        students_before = conn.execute(text("SELECT id, name FROM students ORDER BY id")).all()

    def step_two(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(local_module, "LOCAL_SCHEMA_VERSION", LOCAL_SCHEMA_VERSION + 1)
    monkeypatch.setitem(local_module._MIGRATIONS, LOCAL_SCHEMA_VERSION + 1, step_two)
    with LocalStore.open(path) as upgraded, upgraded.read() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == LOCAL_SCHEMA_VERSION + 1
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM upgrade_probe").scalar() == 0
        assert conn.execute(text("SELECT id, name FROM students ORDER BY id")).all() == (
            students_before
        )
    backups = list((tmp_path / "backups").glob("flourish-schema-v1-*.sqlite3"))
    assert len(backups) == 1
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    copy = sqlite3.connect(backups[0])
    try:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM students").fetchone()[0] == len(students_before)
    finally:
        copy.close()


def test_the_version_1_fixture_upgrades_to_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "flourish.sqlite3"
    path.write_bytes((FIXTURES / "local_v1.sqlite3").read_bytes())
    with LocalStore.open(path) as upgraded, upgraded.read() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == LOCAL_SCHEMA_VERSION
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM assessment_jobs").scalar() == 0
        pending = conn.exec_driver_sql("SELECT row_pk FROM sync_operations").scalars().all()
        assert pending == ["S001"]  # the queued edit survived the upgrade
    fresh = tmp_path / "fresh.sqlite3"
    with LocalStore.open(fresh):
        pass
    a, b = sqlite3.connect(path), sqlite3.connect(fresh)
    try:
        assert _structure(a) == _structure(b)
    finally:
        a.close()
        b.close()


def test_a_failed_upgrade_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flourish.sqlite3"
    path.write_bytes((FIXTURES / "local_v1.sqlite3").read_bytes())

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")
        raise sqlite3.OperationalError("disk full (simulated)")

    monkeypatch.setattr(local_module, "LOCAL_SCHEMA_VERSION", LOCAL_SCHEMA_VERSION + 1)
    monkeypatch.setitem(local_module._MIGRATIONS, LOCAL_SCHEMA_VERSION + 1, broken)
    with pytest.raises(sqlite3.OperationalError, match="disk full"):
        LocalStore.open(path)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1  # the fixture's version
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables
        assert "assessment_jobs" not in tables  # step 2 rolled back with the failed step
    finally:
        raw.close()


def test_backup_of_an_open_store(store: LocalStore, tmp_path: Path) -> None:
    seeded(store)
    target = store.backup(tmp_path / "copies" / "b.sqlite3")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with LocalStore.open(target, create=False) as copy, copy.read() as conn:
        assert REPOS["students"].count(conn) == 1


def test_a_later_change_keeps_the_rows_place_in_the_queue(store: LocalStore) -> None:
    """Parent created, child created, parent edited: the parent is still sent first."""
    seeded(store)
    with store.write() as txn:
        entry = txn.insert(
            DataEntry(
                student_id="S001",
                teacher_id="T001",
                type="parent_note",
                date=dt.date(2026, 11, 1),
                content="first",
            )
        )
        txn.insert(
            Assessment(
                data_entry_id=entry.id,
                student_id="S001",
                skill_name="Creativity",
                skill_category="21st_Century",
                level="Developing",
                justification="j",
                source_quote="first",
            )
        )
    with store.write() as txn:
        txn.update(DataEntry, entry.id, content="first, corrected")
    assert [q[0] for q in queue(store)] == ["teachers", "students", "data_entries", "assessments"]
    with store.read() as conn:
        payload = conn.exec_driver_sql(
            "SELECT payload FROM sync_operations WHERE table_name = 'data_entries'"
        ).scalar()
    assert "first, corrected" in payload


def test_an_operation_once_sent_is_never_changed(store: LocalStore) -> None:
    seeded(store)
    with store.write() as txn:  # what the push does before sending a batch
        txn.conn.exec_driver_sql("UPDATE sync_operations SET attempts = 1")
    with store.write() as txn:
        txn.update(Student, "S001", name="Eva R.")
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT op_id, attempts, payload FROM sync_operations "
            "WHERE table_name = 'students' ORDER BY op_id"
        ).all()
    assert len(rows) == 2
    assert '"Eva"' in rows[0][2] and rows[0][1] == 1  # the sent one is untouched
    assert '"Eva R."' in rows[1][2] and rows[1][0] > rows[0][0]


def test_bulk_writes_stay_linear(store: LocalStore) -> None:
    import time

    seeded(store)
    timings = []
    for n in (2000, 8000):
        started = time.perf_counter()
        with store.write() as txn:
            for i in range(n):
                txn.insert(
                    Student(
                        id=f"S{100000 + len(timings) * 10000 + i}",
                        name="x",
                        grade=7,
                        teacher_id="T001",
                    )
                )
        timings.append((time.perf_counter() - started) / n)
    assert timings[1] < timings[0] * 2.5, timings  # per-row cost does not grow with n
