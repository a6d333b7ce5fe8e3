"""Attacks by one teacher on another's data through a tampered laptop and ``flourish sync``.

T002's laptop is signed in and synced with the real command line; the attack writes rows
straight into its SQLite ``sync_operations`` queue (bypassing the app, as anyone holding the
laptop could), then runs ``flourish sync``. T001's laptop is an ordinary one. See
tests/test_security_attacks.py for the same holes as the teacher's own database login.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync import actions
from tests.support.attacks import (
    T001_ENTRY,
    Attack,
    CliLaptop,
    assessment_row,
    entry_row,
    student_row,
)
from tests.support.laptops import PASSWORD, Laptop, make_server, served
from tests.support.pgcluster import PgCluster, free_port
from tests.test_cli import flourish

NOT_ALLOWED = "refused by the server: not allowed for this teacher"


@dataclass
class Scene:
    attack: Attack
    victim: Laptop  # T001's laptop
    thief: CliLaptop  # T002's laptop, driven by the command line

    def victim_range(self, n: int) -> int:
        return self.victim.device_no * 10**9 + n

    def thief_range(self, n: int) -> int:
        return self.thief.device_no * 10**9 + n


@pytest.fixture
def scene(pg: PgCluster, pg_url: str, tmp_path: Path) -> Iterator[Scene]:
    server = served(pg_url, tmp_path / "service")
    victim = Laptop(server, "T001", tmp_path / "T001")
    victim.sync()
    thief = CliLaptop(pg, server, "T002", tmp_path / "T002")
    yield Scene(Attack(pg, server), victim, thief)
    victim.close()
    server.stop()


def test_hole1_a_queued_assessment_cannot_open_another_teachers_evidence(scene: Scene) -> None:
    forged = scene.thief_range(777)
    scene.thief.queue("assessments", "upsert", assessment_row(forged, T001_ENTRY, "S003"))
    scene.thief.sync()
    assert scene.thief.held_back() == [
        ("assessments", str(forged), f"{NOT_ALLOWED}: assessments {forged} "
         "(a row, id or evidence not its own)"),
    ]  # fmt: skip
    assert scene.attack.admin("SELECT count(*) FROM assessments WHERE id = :i", i=forged) == [(0,)]
    assert scene.thief.rows("SELECT id FROM data_entries WHERE id = ?", T001_ENTRY) == []


def test_hole3_a_queued_row_cannot_take_another_teachers_id_range(scene: Scene) -> None:
    squatted = f"DE{scene.victim_range(1)}"
    scene.thief.queue("data_entries", "upsert", entry_row(squatted, "S003", "T002"))
    scene.thief.sync()
    assert [(t, pk) for t, pk, _why in scene.thief.held_back()] == [("data_entries", squatted)]
    # T001's laptop makes its next entry: it has exactly that id and reaches the server
    entry = actions.add_entry(
        scene.victim.store,
        student_id="S001",
        teacher_id="T001",
        entry_type="parent_note",
        content="Mine.",
    ).value
    assert entry.id == squatted
    report = scene.victim.sync()
    assert report.rejected == 0
    assert scene.attack.admin(
        "SELECT student_id, content FROM data_entries WHERE id = :i", i=squatted
    ) == [("S001", "Mine.")]


def test_hole4_a_queued_row_cannot_steal_a_deletion(scene: Scene) -> None:
    entry = f"DE{scene.victim_range(501)}"
    scene.attack.admin(
        "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S902', 'Lee', 7, 'T001')"
    )
    scene.attack.admin(
        "INSERT INTO data_entries (id, student_id, teacher_id, type, date, content) "
        "VALUES (:e, 'S001', 'T001', 'parent_note', '2026-11-01', 'x')",
        e=entry,
    )
    scene.victim.sync()
    assert scene.thief.rows("SELECT count(*) FROM students WHERE id = 'S902'") == [(0,)]
    # T001 deletes both from another laptop (its own login)...
    scene.attack.sql("T001", "DELETE FROM data_entries WHERE id = %s", (entry,))
    scene.attack.sql("T001", "DELETE FROM students WHERE id = 'S902'")
    # ...and T002 writes the ids for itself and deletes them again
    scene.thief.queue("students", "upsert", student_row("S902", "T002"))
    scene.thief.queue("data_entries", "upsert", entry_row(entry, "S003", "T002"))
    scene.thief.queue("students", "delete", {"id": "S902"})
    scene.thief.queue("data_entries", "delete", {"id": entry})
    scene.thief.sync()
    held = scene.thief.held_back()
    assert {(t, pk) for t, pk, _why in held} == {("students", "S902"), ("data_entries", entry)}
    assert all(why.startswith(NOT_ALLOWED) for _t, _pk, why in held), held
    # T001's laptop receives both deletions
    scene.victim.sync()
    with scene.victim.store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM students WHERE id = 'S902'").scalar() == 0
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM data_entries WHERE id = ?", (entry,)
        ).scalar() == 0  # fmt: skip


def test_weak_spot_a_refused_change_says_what_happened(scene: Scene) -> None:
    scene.attack.admin(
        "INSERT INTO sync_conflicts (table_name, row_pk, student_id, teacher_id, kind, reason, "
        "losing_row, losing_hlc, losing_origin) VALUES ('students', 'S001', 'S001', 'T001', "
        "'stale_write', 'r', '{}', 1, 1)"
    )
    (conflict,) = scene.attack.admin("SELECT id FROM sync_conflicts WHERE teacher_id = 'T001'")[0]
    scene.thief.queue(
        "sync_conflicts",
        "upsert",
        {
            "id": conflict,
            "table_name": "students",
            "row_pk": "S001",
            "student_id": "S001",
            "teacher_id": "T001",
            "kind": "stale_write",
            "reason": "r",
            "losing_row": {},
            "losing_hlc": 1,
            "losing_origin": 1,
            "winning_row": None,
            "winning_hlc": None,
            "winning_origin": None,
            "created_at": "2026-11-02 10:00:00.000000",
            "resolution": "dismissed",
            "resolved_at": "2026-11-02 10:00:00.000000",
        },
    )
    scene.thief.queue("students", "delete", {"id": "S001"})  # T001's student
    scene.thief.queue("assessments", "delete", {"id": scene.thief_range(5)})  # never sent
    scene.thief.sync()
    assert scene.thief.held_back() == [
        ("sync_conflicts", str(conflict),
         f"{NOT_ALLOWED}: sync_conflicts {conflict} (a row, id or evidence not its own)"),
        ("students", "S001", f"{NOT_ALLOWED}: students S001 (a row, id or evidence not its own)"),
    ]  # fmt: skip
    assert scene.attack.admin(
        "SELECT resolution FROM sync_conflicts WHERE id = :i", i=conflict
    ) == [(None,)]


def test_weak_spot_refusals_touching_hidden_rows_read_alike(scene: Scene) -> None:
    pairs = [  # (a row that exists but is T001's, the same change for a row that does not exist)
        (
            ("assessments", assessment_row(scene.thief_range(1), T001_ENTRY, "S003")),
            ("assessments", assessment_row(scene.thief_range(2), "DE0999", "S003")),
        ),
        (
            ("students", student_row("S001", "T002")),
            ("students", student_row("S998", "T001")),
        ),
        (
            ("data_entries", entry_row("DE002", "S003", "T002")),
            ("data_entries", entry_row("DE0998", "S003", "T002")),
        ),
    ]
    for hidden, missing in pairs:
        for table, row in (hidden, missing):
            scene.thief.queue(table, "upsert", row)
    scene.thief.sync()
    held = {pk: why for _t, pk, why in scene.thief.held_back()}
    for (_t, hidden_row), (_t2, missing_row) in pairs:
        hidden_pk, missing_pk = str(hidden_row["id"]), str(missing_row["id"])
        assert hidden_pk in held and missing_pk in held
        assert held[hidden_pk].replace(hidden_pk, "?") == held[missing_pk].replace(missing_pk, "?")


@pytest.mark.parametrize("where", ["https user:password@host", "postgresql ?password="])
def test_weak_spot_a_password_in_the_server_url_is_never_stored(
    pg: PgCluster, pg_url: str, tmp_path: Path, where: str
) -> None:
    """A password pasted into the server address is refused before anything is sent, and
    never repeated on screen or kept on disk."""
    server = make_server(pg_url, ("T001",), database_logins=False)
    db = pg_url.rsplit("/", 1)[1]
    login = server.logins["T001"]
    url = (
        f"https://{login}:{PASSWORD}@127.0.0.1:{free_port()}"
        if where.startswith("https")
        else f"postgresql://{login}@127.0.0.1:{pg.port}/{db}?password={PASSWORD}&sslmode=prefer"
    )
    env = {"FLOURISH_PASSWORD": PASSWORD}
    signed = flourish("login", "--server", url, "--user", login, data_dir=tmp_path, env=env)
    assert signed.returncode == 1
    assert PASSWORD not in signed.stdout + signed.stderr
    assert signed.stderr.count("\n") == 1
    assert not (tmp_path / "flourish.sqlite3").exists()
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    for file in leftovers:
        assert PASSWORD.encode() not in file.read_bytes(), file
