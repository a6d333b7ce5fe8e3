"""Central backup and restore on the real PostgreSQL 15: every row and object comes back."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from sqlalchemy import text

from sync.errors import ValidationError
from sync.server.admin import add_teacher, load_demo_central
from sync.server.backup import archive_tables, backup_server, restore_server
from sync.server.central import create_engine_for
from tests.support.dblogin import teacher_database_login
from tests.support.pgcluster import PgCluster
from tests.test_cli import flourish

_logins = itertools.count()


def _dsn(url: str) -> Any:
    return psycopg2.connect(url)


# What a restore itself changes: it is audited, the server starts a new epoch (laptops
# re-send what came after the backup) and device numbers jump ahead (none is handed out
# twice). Everything else comes back exactly.
RESTORE_MARKS = {
    "public.audit_log",
    "public.audit_log_id_seq",
    "public.flourish_meta",
    "public.sync_devices_device_no_seq",
}


def same_data(url: str) -> dict[str, Any]:
    """The fingerprint without what a restore changes on purpose."""
    return {k: v for k, v in fingerprint(url).items() if k not in RESTORE_MARKS}


def fingerprint(url: str) -> dict[str, Any]:
    """Row count and an md5 of the sorted row texts of every table, the sequences, and the
    database objects (policies, triggers, views, functions, owners, grants)."""
    conn = _dsn(url)
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'reports') AND c.relkind IN ('r', 'S') "
            "ORDER BY 1, 2"
        )
        out: dict[str, Any] = {}
        for schema, name, kind in cur.fetchall():
            qualified = f'"{schema}"."{name}"'
            if kind == "S":
                cur.execute(f"SELECT last_value, is_called FROM {qualified}")
            else:
                cur.execute(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                    f"ORDER BY t::text), '')) FROM {qualified} t"
                )
            out[f"{schema}.{name}"] = cur.fetchone()
        for label, query in {
            "policies": "SELECT tablename, policyname, roles::text, qual, with_check "
            "FROM pg_policies ORDER BY 1, 2",
            "triggers": "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE NOT tgisinternal ORDER BY 1, 2",
            "views": "SELECT schemaname, viewname, viewowner, definition FROM pg_views "
            "WHERE schemaname IN ('public', 'reports') ORDER BY 1, 2",
            "functions": "SELECT p.proname, pg_get_userbyid(p.proowner), p.prosecdef, "
            "md5(p.prosrc) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
            "ORDER BY 1",
            "tables": "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, "
            "c.relforcerowsecurity, c.relacl::text FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1",
        }.items():
            cur.execute(query)
            out[label] = cur.fetchall()
        return out
    finally:
        conn.close()


def populate(url: str) -> None:
    """The demo dataset plus a decision, a target, a badge, a teacher login and evidence."""
    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            load_demo_central(conn)
            conn.execute(
                text(
                    "INSERT INTO teacher_corrections (assessment_id, original_level, "
                    "corrected_level, original_justification, corrected_justification, "
                    "teacher_notes, corrected_by) SELECT id, level, 'Advanced', justification, "
                    "'Seen in class', 'she led the lab', 'T001' FROM assessments WHERE id = 3"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO skill_targets (student_id, skill_name, starting_level, "
                    "target_level, assigned_by) VALUES ('S001', 'Time Management', "
                    "'Developing', 'Proficient', 'T001')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO badges (student_id, skill_name, skill_category, "
                    "level_achieved, badge_type, granted_by, earned_date) VALUES ('S002', "
                    "'Creativity', '21st_Century', 'Developing', 'bronze', 'T001', "
                    "'2026-11-02')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO data_entries (student_id, teacher_id, type, date, content, "
                    "metadata) VALUES ('S003', 'T002', 'parent_note', '2026-11-03', "
                    "'Zoë''s note: ünïcode survives', '{\"source_file\": \"n.txt\"}')"
                )
            )
    finally:
        engine.dispose()
    login = f"t_backup_{next(_logins)}"
    add_teacher(
        url, teacher_id="T003", name="Ms. Backup", login=login, password="backup-test-password"
    )
    # a database login of the teacher's own, as an older version made (restores report it)
    teacher_database_login(url, login=login, teacher_id="T003", password="backup-test-password")


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_backup_drop_restore_gives_back_every_row_and_object(
    pg: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    populate(pg_url)
    before = fingerprint(pg_url)
    assert before["public.assessments"][0] == 125
    assert before["public.teacher_corrections"][0] == 1
    assert before["public.audit_log"][0] >= 1  # add-teacher is audited
    out = tmp_path / "nightly.dump"
    made = flourish("server", "backup", "--db", pg_url, "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert f"backup written to {out}" in made.stdout
    assert out.read_bytes()[:5] == b"PGDMP"
    assert "public.assessments" in archive_tables(out)
    assert not list(tmp_path.glob(".*partial"))
    pg.drop_database(_name(pg_url))
    restored = flourish("server", "restore", "--db", pg_url, "--in", str(out))
    assert restored.returncode == 0, restored.stderr
    assert f"database {_name(pg_url)} created and restored" in restored.stdout
    after = fingerprint(pg_url)
    assert after.keys() == before.keys()
    for key in before.keys() - RESTORE_MARKS:
        assert after[key] == before[key], key
    assert after["public.audit_log"][0] == before["public.audit_log"][0] + 1
    conn = _dsn(pg_url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")
        assert cur.fetchone() == ("server_restore",)
    finally:
        conn.close()
    # The restored database works: the seed trigger still marks corrected assessments.
    conn = _dsn(pg_url)
    try:
        cur = conn.cursor()
        cur.execute(
            "INSERT INTO teacher_corrections (assessment_id, original_level, corrected_level, "
            "original_justification, corrected_justification, corrected_by) "
            "SELECT id, level, level, justification, 'ok', 'T001' FROM assessments WHERE id = 4"
        )
        cur.execute("SELECT corrected FROM assessments WHERE id = 4")
        assert cur.fetchone() == (True,)
        conn.rollback()
    finally:
        conn.close()


def test_restore_into_the_existing_database_replaces_its_contents(
    pg_url: str, tmp_path: Path
) -> None:
    populate(pg_url)
    before = fingerprint(pg_url)
    out = tmp_path / "b.dump"
    backup_server(pg_url, out)
    conn = _dsn(pg_url)
    try:  # damage after the backup: a deleted student, a new one, a changed name
        cur = conn.cursor()
        cur.execute("DELETE FROM students WHERE id = 'S004'")
        cur.execute("UPDATE teachers SET name = 'Changed' WHERE id = 'T001'")
        cur.execute(
            "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S999', 'X', 7, 'T001')"
        )
        conn.commit()
    finally:
        conn.close()
    assert fingerprint(pg_url) != before
    result = restore_server(pg_url, out)
    assert not result.created and result.missing_logins == []
    assert same_data(pg_url) == {k: v for k, v in before.items() if k not in RESTORE_MARKS}


def test_an_it_admin_login_backs_up_every_row_and_a_teacher_login_is_refused(
    pg: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    populate(pg_url)
    n = next(_logins)
    pg.admin_execute(f"CREATE ROLE it_admin_{n} LOGIN PASSWORD 'it-pass' IN ROLE flourish_admin")
    admin_url = pg.url(_name(pg_url), user=f"it_admin_{n}", password="it-pass")
    result = backup_server(admin_url, tmp_path / "it.dump")
    assert "public.students" in result.tables
    copy = "t_copy_" + str(n)
    restore_server(pg.url(copy), tmp_path / "it.dump")
    try:
        assert same_data(pg.url(copy)) == same_data(pg_url)
    finally:
        pg.drop_database(copy)
    teacher = f"t_backup_{next(_logins)}"
    teacher_database_login(pg_url, login=teacher, teacher_id="T001", password="teacher-pass")
    teacher_url = pg.url(_name(pg_url), user=teacher, password="teacher-pass")
    with pytest.raises(ValidationError, match="cannot back up every row"):
        backup_server(teacher_url, tmp_path / "teacher.dump")
    assert not (tmp_path / "teacher.dump").exists()


def test_missing_logins_are_reported_after_a_restore(
    pg: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    populate(pg_url)
    backup_server(pg_url, tmp_path / "b.dump")
    conn = _dsn(pg_url)  # the login populate() created
    try:
        cur = conn.cursor()
        cur.execute("SELECT login_role FROM teacher_logins WHERE teacher_id = 'T003'")
        (role,) = cur.fetchone()
    finally:
        conn.close()
    pg.drop_database(_name(pg_url))
    pg.admin_execute(f'DROP ROLE "{role}"')  # as if restoring on a new server
    result = restore_server(pg_url, tmp_path / "b.dump")
    assert result.missing_logins == [role]
    assert "laptops sync through the Flourish service" in result.summary()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["restore", "--in", "{tmp}/missing.dump"], "no backup file at"),
        (["restore", "--in", "{tmp}/not-a-dump.sql"], "is not a pg_dump custom-format backup"),
        (["backup", "--out", "{tmp}"], "is a folder: give a file name"),
        (["backup", "--out", "{tmp}/no/such/folder/b.dump"], "does not exist"),
    ],
)
def test_clear_one_line_errors(pg_url: str, tmp_path: Path, args: list[str], reason: str) -> None:
    (tmp_path / "not-a-dump.sql").write_text("SELECT 1;\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = flourish("server", argv[0], "--db", pg_url, *argv[1:])
    assert result.returncode == 1
    assert reason in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://u:p@127.0.0.1:1/flourish"
    for argv in (["backup", "--out", str(tmp_path / "b.dump")],):
        result = flourish("server", *argv, "--db", url)
        assert result.returncode == 1
        assert "server unreachable: connection refused" in result.stderr
        assert result.stderr.count("\n") == 1
    (tmp_path / "cut.dump").write_bytes(b"PGDMP")  # a truncated backup
    result = flourish("server", "restore", "--db", url, "--in", str(tmp_path / "cut.dump"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "is not a readable backup" in result.stderr
