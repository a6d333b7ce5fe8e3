"""After IT restores the server from a backup, laptops put back what came after it."""

from __future__ import annotations

from pathlib import Path

from sync import actions
from sync.server.backup import backup_server, restore_server
from tests.support.compare import differences, local_slice, server_slice
from tests.support.laptops import Laptop, admin_rows, served


def test_laptops_restore_what_the_backup_missed(pg_url: str, tmp_path: Path) -> None:
    server = served(pg_url, tmp_path / "service")
    l1 = Laptop(server, "T001", tmp_path / "L1")
    l2 = Laptop(server, "T001", tmp_path / "L2")
    try:
        l1.sync()
        l2.sync()
        backup = tmp_path / "nightly.dump"
        backup_server(pg_url, backup)
        decision = actions.correct(
            l1.store, assessment_id=4, teacher_id="T001", level=1, notes="after the backup"
        ).value
        entry = actions.add_entry(
            l1.store,
            student_id="S002",
            teacher_id="T001",
            entry_type="parent_note",
            content="Written after the backup.",
        ).value
        l1.sync()
        l2.sync()
        restore_server(pg_url, backup)  # the server forgets the last hour
        assert admin_rows(pg_url, "SELECT count(*) FROM teacher_corrections") == [(0,)]
        l2.sync()  # the other laptop notices first and puts everything back
        l1.sync()
        assert admin_rows(
            pg_url, "SELECT teacher_notes FROM teacher_corrections WHERE id = :i", i=decision.id
        ) == [("after the backup",)]
        assert admin_rows(pg_url, "SELECT content FROM data_entries WHERE id = :i", i=entry.id) == [
            ("Written after the backup.",)
        ]
        assert admin_rows(pg_url, "SELECT corrected FROM assessments WHERE id = 4") == [(True,)]
        assert admin_rows(pg_url, "SELECT count(*) FROM sync_conflicts") == [(0,)]
        expected = server_slice(server.running().db_url, "T001")
        for lap in (l1, l2):
            lap.sync()
            assert differences(local_slice(lap.store), expected) == {}
        # and new work keeps flowing, with ids that cannot collide
        later = actions.add_entry(
            l2.store,
            student_id="S001",
            teacher_id="T001",
            entry_type="parent_note",
            content="Next week.",
        ).value
        l2.sync()
        l1.sync()
        with l1.store.read() as conn:
            assert (
                conn.exec_driver_sql(
                    "SELECT content FROM data_entries WHERE id = ?", (later.id,)
                ).scalar()
                == "Next week."
            )
    finally:
        l1.close()
        l2.close()
        server.stop()
