"""The policy matrix, tested as each role with real PostgreSQL 15 logins and crafted SQL.

Roles: two teachers (T001, T002), IT (a login in flourish_admin, not a superuser) and
school leadership (a login in flourish_auditor). For every table and operation each role
sees or changes exactly what sql/README.md's matrix says, through the views and the trigger
too, and crafted SQL (SET ROLE, SET app.*, stealing a student, correcting another
teacher's assessment, switching triggers off) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import pytest
from psycopg2 import sql

from tests.support.laptops import PASSWORD, Laptop, Server, served
from tests.support.pgcluster import PgCluster
from tests.support.service import SERVICE_PASSWORD

DENIED = "denied"

SLICES = {  # rows of a teacher's slice, as the superuser counts them
    "students": "SELECT count(*) FROM students WHERE teacher_id = %(t)s",
    "data_entries": "SELECT count(*) FROM data_entries d JOIN students s ON s.id = d.student_id "
    "WHERE s.teacher_id = %(t)s",
    "assessments": "SELECT count(*) FROM assessments a JOIN students s ON s.id = a.student_id "
    "WHERE s.teacher_id = %(t)s",
    "teacher_corrections": "SELECT count(*) FROM teacher_corrections c JOIN assessments a ON "
    "a.id = c.assessment_id JOIN students s ON s.id = a.student_id WHERE s.teacher_id = %(t)s",
    "skill_targets": "SELECT count(*) FROM skill_targets x JOIN students s ON s.id = x.student_id "
    "WHERE s.teacher_id = %(t)s",
    "badges": "SELECT count(*) FROM badges x JOIN students s ON s.id = x.student_id "
    "WHERE s.teacher_id = %(t)s",
    "sync_conflicts": "SELECT count(*) FROM sync_conflicts WHERE teacher_id = %(t)s",
    "sync_tombstones": "SELECT count(*) FROM sync_tombstones WHERE teacher_id = %(t)s",
    "sync_visibility": "SELECT count(*) FROM sync_visibility WHERE teacher_id = %(t)s",
    "sync_devices": "SELECT count(*) FROM sync_devices WHERE teacher_id = %(t)s",
    "latest_assessments": "SELECT count(*) FROM latest_assessments l JOIN students s ON "
    "s.id = l.student_id WHERE s.teacher_id = %(t)s",
    "effective_levels": "SELECT count(*) FROM effective_levels l JOIN students s ON "
    "s.id = l.student_id WHERE s.teacher_id = %(t)s",
    "student_progress_summary": "SELECT count(*) FROM students WHERE teacher_id = %(t)s",
}
ALL_TABLES = [
    "teachers",
    *[
        t
        for t in SLICES
        if t not in ("latest_assessments", "effective_levels", "student_progress_summary")
    ],
    "sync_events",
    "audit_log",
    "teacher_logins",
]
VIEWS = ["latest_assessments", "effective_levels", "student_progress_summary"]
REPORTS = [
    "reports.student_progress_summary",
    "reports.effective_levels",
    "reports.latest_assessments",
]


@dataclass
class World:
    """The test database; ``run`` as a role of the matrix. With ``service`` (the service's
    login, password), a teacher's statements run the way the service runs every request:
    as the service's login, in one transaction switched to the teacher (``act_as_teacher``)."""

    pg: PgCluster
    db: str
    logins: dict[str, str]  # role name in the test -> login
    service: tuple[str, str] | None = None
    server: Server | None = None  # laptops sign in and sync through its service

    def connect(self, who: str) -> Any:
        if who == "su":
            conn = psycopg2.connect(self.pg.dsn(self.db))
        else:
            conn = psycopg2.connect(self.pg.dsn(self.db, user=self.logins[who], password=PASSWORD))
        conn.autocommit = True
        return conn

    def run(self, who: str, statement: str, params: Any = None) -> tuple[str, Any]:
        if self.service is not None and who in ("T001", "T002"):
            return self._run_as_service(who, statement, params)
        conn = self.connect(who)
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                result = cur.fetchall() if cur.description else cur.rowcount
            return "ok", result
        except psycopg2.Error as exc:
            return DENIED, exc.pgcode
        finally:
            conn.close()

    def _run_as_service(self, teacher: str, statement: str, params: Any) -> tuple[str, Any]:
        assert self.service is not None
        login, password = self.service
        conn = psycopg2.connect(self.pg.dsn(self.db, user=login, password=password))
        try:
            with conn.cursor() as cur:  # what sync.service.db.act_as_teacher does
                cur.execute("SET LOCAL ROLE flourish_teacher")
                cur.execute("SELECT set_config('flourish.teacher_id', %s, true)", (teacher,))
                cur.execute(statement, params)
                result = cur.fetchall() if cur.description else cur.rowcount
            conn.commit()
            return "ok", result
        except psycopg2.Error as exc:
            return DENIED, exc.pgcode
        finally:
            conn.close()

    def count(self, who: str, table: str) -> Any:
        status, result = self.run(who, f"SELECT count(*) FROM {table}")
        return DENIED if status == DENIED else result[0][0]

    def su_count(self, statement: str, **params: Any) -> int:
        return int(self.run("su", statement, params)[1][0][0])


@pytest.fixture(params=["direct", "service"])
def world(
    pg: PgCluster, pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[World]:
    """The matrix as a teacher's own database login ("direct": the database guards itself
    even against a login Flourish no longer hands out) and as the service acting for the
    teacher ("service"). Laptops always sign in and sync through a service process."""
    server = served(pg_url, tmp_path / "service")
    db = server.dbname
    logins = {
        "T001": server.logins["T001"],
        "T002": server.logins["T002"],
        "admin": f"it_{db}"[:63],
        "auditor": f"lead_{db}"[:63],
    }
    for who, group in (("admin", "flourish_admin"), ("auditor", "flourish_auditor")):
        pg.admin_execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(logins[who]), sql.Literal(PASSWORD), sql.Identifier(group)
            )
        )
    # Sync both teachers once, with a conflict and a correction, so every table has rows.
    laptops = [Laptop(server, t, tmp_path / t) for t in ("T001", "T002")]
    for lap in laptops:
        lap.sync()
        lap.close()
    service = None
    if request.param == "service":
        parsed = urlsplit(server.running().db_url)
        service = (str(parsed.username), SERVICE_PASSWORD)
    w = World(pg, db, logins, service, server)
    w.run(
        "su",
        "INSERT INTO teacher_corrections (assessment_id, original_level, "
        "corrected_level, corrected_by, teacher_notes) VALUES (1, 'Proficient', "
        "'Advanced', 'T001', 'seeded'), (70, 'Proficient', 'Developing', 'T002', 'x')",
    )
    w.run(
        "su",
        "INSERT INTO sync_conflicts (table_name, row_pk, student_id, teacher_id, kind, "
        "reason, losing_row, losing_hlc, losing_origin) VALUES "
        "('teacher_corrections', '5', 'S001', 'T001', 'stale_write', 'r', '{}', 1, 1), "
        "('teacher_corrections', '6', 'S003', 'T002', 'stale_write', 'r', '{}', 1, 2)",
    )
    w.run("su", "DELETE FROM skill_targets")  # (no-op; keeps the tombstone trigger honest)
    w.run(
        "su",
        "INSERT INTO skill_targets (student_id, skill_name, assigned_by) VALUES "
        "('S001', 'Creativity', 'T001'), ('S003', 'Creativity', 'T002')",
    )
    w.run("su", "DELETE FROM skill_targets WHERE student_id = 'S003'")
    w.run("su", "UPDATE students SET teacher_id = 'T002' WHERE id = 'S002'")
    w.run("su", "UPDATE students SET teacher_id = 'T001' WHERE id = 'S002'")
    yield w
    server.stop()
    for who in ("admin", "auditor"):
        pg.admin_execute(
            sql.SQL("DROP OWNED BY {}; DROP ROLE {}").format(
                sql.Identifier(logins[who]), sql.Identifier(logins[who])
            )
        )


# -- reading --------------------------------------------------------------------------


@pytest.mark.parametrize("teacher", ["T001", "T002"])
def test_a_teacher_reads_exactly_their_slice(world: World, teacher: str) -> None:
    for table, statement in SLICES.items():
        expected = world.su_count(statement, t=teacher)
        assert world.count(teacher, table) == expected, table
    assert world.count(teacher, "teachers") == world.su_count("SELECT count(*) FROM teachers")
    assert world.run(teacher, "SELECT email FROM teachers")[0] == DENIED
    for table in ("sync_events", "audit_log", "teacher_logins", *REPORTS):
        assert world.count(teacher, table) == DENIED, table


def test_the_slices_are_not_empty(world: World) -> None:
    for teacher in ("T001", "T002"):
        for table in (
            "students",
            "assessments",
            "teacher_corrections",
            "sync_conflicts",
            "sync_devices",
        ):
            assert world.su_count(SLICES[table], t=teacher) > 0, (teacher, table)
    assert world.su_count(SLICES["sync_tombstones"], t="T002") > 0
    assert world.su_count(SLICES["sync_visibility"], t="T001") > 0


def test_it_reads_everything(world: World) -> None:
    for table in (*ALL_TABLES, *VIEWS, *REPORTS):
        assert world.count("admin", table) == world.count("su", table), table


def test_leadership_reads_the_report_views_only(world: World) -> None:
    for table in REPORTS:
        assert world.count("auditor", table) == world.count("su", table) > 0, table
    for table in (*ALL_TABLES, *VIEWS):
        assert world.count("auditor", table) == DENIED, table
    for statement in (
        "INSERT INTO students (id, name, grade) VALUES ('S950', 'x', 7)",
        "DELETE FROM reports.student_progress_summary",
    ):
        assert world.run("auditor", statement)[0] == DENIED


# -- writing ----------------------------------------------------------------------------

OWN = "S001"
OTHER = "S003"  # T002's


@pytest.mark.parametrize(
    ("statement", "outcome"),
    [
        # students
        (
            "INSERT INTO students (id, name, grade, teacher_id, sync_hlc) "
            "VALUES ('S901', 'New', 7, 'T001', 1)",
            1,
        ),
        (
            "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S902', 'x', 7, 'T002')",
            DENIED,
        ),
        (f"UPDATE students SET name = 'Eve' WHERE id = '{OWN}'", 1),
        (f"UPDATE students SET name = 'Pat!' WHERE id = '{OTHER}'", 0),
        (f"UPDATE students SET teacher_id = 'T001' WHERE id = '{OTHER}'", 0),  # steal
        (f"UPDATE students SET teacher_id = 'T002' WHERE id = '{OWN}'", DENIED),  # give away
        (f"DELETE FROM students WHERE id = '{OTHER}'", 0),
        # evidence and assessments
        (f"UPDATE data_entries SET content = 'x' WHERE student_id = '{OTHER}'", 0),
        (f"DELETE FROM data_entries WHERE student_id = '{OTHER}'", 0),
        (
            "INSERT INTO data_entries (id, student_id, type, date, content) "
            f"VALUES ('DE9001', '{OTHER}', 'parent_note', '2026-11-01', 'x')",
            DENIED,
        ),
        (f"UPDATE assessments SET level = 'Advanced' WHERE student_id = '{OTHER}'", 0),
        (f"UPDATE assessments SET sync_version = 1 WHERE student_id = '{OWN}'", DENIED),
        (f"UPDATE assessments SET corrected = FALSE WHERE student_id = '{OWN}'", DENIED),
        # corrections: another teacher's assessment (70 is Mia's, T002)
        (
            "INSERT INTO teacher_corrections (assessment_id, original_level, corrected_level) "
            "VALUES (70, 'Proficient', 'Emerging')",
            DENIED,
        ),
        ("UPDATE teacher_corrections SET corrected_level = 'Emerging' WHERE assessment_id = 70", 0),
        ("DELETE FROM teacher_corrections WHERE assessment_id = 70", 0),
        # targets and badges
        (
            f"INSERT INTO skill_targets (student_id, skill_name) VALUES ('{OTHER}', 'Creativity')",
            DENIED,
        ),
        (
            "INSERT INTO badges (student_id, skill_name, skill_category, level_achieved, "
            f"badge_type, earned_date) VALUES ('{OTHER}', 'Creativity', '21st_Century', "
            "'Developing', 'bronze', '2026-11-01')",
            DENIED,
        ),
        # teachers
        ("UPDATE teachers SET name = 'Ms. R.' WHERE id = 'T001'", 1),
        ("UPDATE teachers SET name = 'Hacked' WHERE id = 'T002'", 0),
        ("UPDATE teachers SET email = 'x@y.edu' WHERE id = 'T001'", DENIED),
        ("UPDATE teachers SET external_source = 'sis', external_id = '42' WHERE id = 'T001'", 1),
        ("UPDATE teachers SET external_source = 'sis', external_id = '43' WHERE id = 'T002'", 0),
        ("INSERT INTO teachers (id, name) VALUES ('T099', 'Fake')", DENIED),
        # bookkeeping
        ("UPDATE sync_conflicts SET resolution = 'dismissed' WHERE teacher_id = 'T002'", 0),
        ("UPDATE sync_conflicts SET reason = 'forged' WHERE teacher_id = 'T001'", DENIED),
        ("DELETE FROM sync_conflicts", DENIED),
        ("UPDATE sync_devices SET teacher_id = 'T002'", DENIED),
        (
            "INSERT INTO sync_tombstones (table_name, row_pk, sync_hlc, sync_origin, sync_version, "
            "sync_txid) VALUES ('students', 'S003', 1, 1, 1, '1')",
            DENIED,
        ),
        (
            "INSERT INTO teacher_logins (login_role, teacher_id) VALUES (session_user, 'T002')",
            DENIED,
        ),
        ("INSERT INTO audit_log (action) VALUES ('forged')", DENIED),
        ("SELECT audit_event('forged')", DENIED),
        # switching the rules off
        ("ALTER TABLE students DISABLE ROW LEVEL SECURITY", DENIED),
        ("ALTER TABLE teacher_corrections DISABLE TRIGGER trigger_mark_corrected", DENIED),
        ("SET session_replication_role = replica", DENIED),
        ("SET ROLE flourish_owner", DENIED),
        ("SET ROLE flourish_admin", DENIED),
    ],
)
def test_teacher_writes(world: World, statement: str, outcome: Any) -> None:
    status, result = world.run("T001", statement)
    if outcome == DENIED:
        assert status == DENIED, f"allowed: {statement}"
    else:
        assert (status, result) == ("ok", outcome), statement


def test_a_correction_through_the_trigger_works_for_the_teacher(world: World) -> None:
    status, _ = world.run(
        "T001",
        "INSERT INTO teacher_corrections (assessment_id, "
        "original_level, corrected_level, corrected_by, sync_hlc) "
        "VALUES (2, 'Proficient', 'Emerging', 'T001', 1)",
    )
    assert status == "ok"
    assert world.run("su", "SELECT corrected FROM assessments WHERE id = 2")[1] == [(True,)]
    assert world.run("T001", "SELECT corrected FROM assessments WHERE id = 2")[1] == [(True,)]


def test_crafted_sessions_change_nothing(world: World) -> None:
    if world.service is not None:
        pytest.skip("a teacher's own login; the service's path: test_service_auth.py")
    own = world.count("T001", "students")
    conn = world.connect("T001")
    try:
        with conn.cursor() as cur:
            cur.execute("SET app.teacher_id = 'T002'")
            cur.execute("SET flourish.teacher_id = 'T002'")
            cur.execute("SELECT count(*) FROM students")
            assert cur.fetchone()[0] == own
            cur.execute("SET ROLE flourish_teacher")  # the group role: still T001's rows
            cur.execute("SELECT count(*), min(teacher_id), max(teacher_id) FROM students")
            assert cur.fetchone() == (own, "T001", "T001")
            cur.execute("SELECT current_teacher_id()")
            assert cur.fetchone()[0] == "T001"
            cur.execute("RESET ROLE")
            with pytest.raises(psycopg2.Error):
                cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(world.logins["T002"])))
    finally:
        conn.close()


def test_it_can_change_and_the_audit_log_stays_append_only(world: World) -> None:
    assert world.run("admin", "UPDATE students SET name = 'Pat R.' WHERE id = 'S003'") == ("ok", 1)
    assert world.run("admin", "SELECT audit_event('backup', '{\"file\": \"x\"}')")[0] == "ok"
    for who in ("admin", "su"):
        assert world.run(who, "UPDATE audit_log SET action = 'x'")[0] == DENIED
        assert world.run(who, "DELETE FROM audit_log")[0] == DENIED
    actions = {r[0] for r in world.run("su", "SELECT action FROM audit_log")[1]}
    assert {"sign_in", "add_teacher", "backup"} <= actions
    sign_ins = world.run(
        "su", "SELECT login_role, teacher_id FROM audit_log WHERE action = 'sign_in' ORDER BY id"
    )[1]
    assert world.server is not None  # laptops sign in through the service, as its login
    signer = urlsplit(world.server.running().db_url).username
    assert (signer, "T001") in sign_ins


def test_sync_pulls_exactly_the_teachers_rows(world: World, tmp_path: Path) -> None:
    assert world.server is not None
    for teacher in ("T001", "T002"):
        lap = Laptop(world.server, teacher, tmp_path / f"fresh-{teacher}")
        try:
            lap.sync()
            with lap.store.read() as conn:
                for table in (
                    "students",
                    "data_entries",
                    "assessments",
                    "teacher_corrections",
                    "skill_targets",
                    "badges",
                    "sync_conflicts",
                ):
                    local = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                    assert local == world.su_count(SLICES[table], t=teacher), (teacher, table)
        finally:
            lap.close()
