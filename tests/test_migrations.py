"""Migrations build exactly the declared model, idempotently, and downgrade to empty."""

from __future__ import annotations

import re
import subprocess

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from sync.model.tables import CENTRAL
from sync.server.admin import head_revision, init_server, migrate
from sync.server.central import create_engine_for
from sync.sqlobjects import CENTRAL_OBJECTS, load
from tests.support.pgcluster import PgCluster


def schema_dump(pg: PgCluster, url: str) -> str:
    out = subprocess.run(
        [
            str(pg.bindir / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "-T",
            "alembic_version",
            "-d",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    ]
    # The order of the entries of one ACL does not matter: sort runs of GRANT/REVOKE lines.
    out_lines: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:
        if line.startswith(("GRANT ", "REVOKE ")):
            run.append(line)
            continue
        out_lines += sorted(run)
        run = []
        out_lines.append(line)
    return "\n".join(out_lines)


def build_from_model(url: str) -> None:
    """The declared model, built directly: tables from CENTRAL plus the replaceable objects."""
    engine = create_engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE SEQUENCE sync_version_seq"))
        conn.execute(
            text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        CENTRAL.metadata.create_all(conn)
        conn.execute(text("ALTER SEQUENCE data_entries_id_seq OWNED BY data_entries.id"))
        for name in CENTRAL_OBJECTS:
            conn.exec_driver_sql(load(name).create.replace("%", "%%"))
    engine.dispose()


def row_state(url: str) -> dict[str, object]:
    engine = create_engine_for(url)
    with engine.connect() as conn:
        tables = (
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY 1")
            )
            .scalars()
            .all()
        )
        state: dict[str, object] = {
            t: conn.execute(
                text(f"SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM \"{t}\" x")
            ).scalar()
            for t in tables
        }
    engine.dispose()
    return state


def test_autogenerate_finds_no_drift(pg_url: str) -> None:
    engine = create_engine_for(pg_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, CENTRAL.metadata) == []
    engine.dispose()


def test_migrated_schema_equals_the_model_built_directly(pg: PgCluster, empty_pg_url: str) -> None:
    migrate(empty_pg_url, "head")
    direct = pg.create_database("direct_model")
    try:
        build_from_model(direct)
        migrated_dump = schema_dump(pg, empty_pg_url)
        direct_dump = schema_dump(pg, direct)
    finally:
        pg.drop_database("direct_model")
    assert migrated_dump == direct_dump
    # and the dump really covers the constraints autogenerate does not compare
    assert "chk_email_format" in migrated_dump
    assert re.search(r"chk_badge_level CHECK", migrated_dump)


def test_init_twice_changes_nothing(pg: PgCluster, empty_pg_url: str) -> None:
    first = init_server(empty_pg_url, demo=True)
    assert first.before is None and first.after == head_revision()
    assert first.seeded == 6 and first.demo_rows > 100
    schema_before, rows_before = schema_dump(pg, empty_pg_url), row_state(empty_pg_url)
    second = init_server(empty_pg_url, demo=True)
    assert (second.before, second.seeded, second.demo_rows) == (head_revision(), 0, 0)
    assert "already at" in second.summary()
    assert schema_dump(pg, empty_pg_url) == schema_before
    assert row_state(empty_pg_url) == rows_before


def test_downgrade_to_empty_and_back(pg: PgCluster, empty_pg_url: str) -> None:
    migrate(empty_pg_url, "head")
    at_head = schema_dump(pg, empty_pg_url)
    assert migrate(empty_pg_url, "base") == (head_revision(), None)
    engine = create_engine_for(empty_pg_url)
    with engine.connect() as conn:
        leftovers = (
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "WHERE c.relnamespace = 'public'::regnamespace "
                    "AND c.relname NOT LIKE 'alembic_version%' "
                    "UNION ALL SELECT p.proname FROM pg_proc p "
                    "WHERE p.pronamespace = 'public'::regnamespace"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert leftovers == []
    assert migrate(empty_pg_url, "head") == (None, head_revision())
    assert schema_dump(pg, empty_pg_url) == at_head


def test_migrate_is_a_no_op_at_the_target(pg_url: str) -> None:
    assert migrate(pg_url, "head") == (head_revision(), head_revision())


def test_init_by_a_createrole_login_that_is_not_superuser(pg: PgCluster) -> None:
    """The README's deployment path: IT's own CREATEROLE login owns the database and runs
    the very first ``server init`` itself, then adds a teacher, then upgrades again."""
    from psycopg2 import sql as pgsql

    from sync.server.admin import add_teacher

    pg.admin_execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'it_deploy') THEN "
        "CREATE ROLE it_deploy LOGIN CREATEROLE PASSWORD 'it-pass'; END IF; END $$"
    )
    pg.admin_execute(
        pgsql.SQL("CREATE DATABASE {} OWNER it_deploy TEMPLATE template0").format(
            pgsql.Identifier("it_deploy_db")
        )
    )
    try:
        url = pg.url("it_deploy_db", user="it_deploy", password="it-pass")
        first = init_server(url, demo=True)
        assert first.after == head_revision() and first.seeded == 6
        login = add_teacher(url, teacher_id="T001", login="it_deploy_t1", password="teacher-pass-1")
        assert login.login == "it_deploy_t1"
        second = init_server(url, demo=True)
        assert (second.before, second.seeded, second.demo_rows) == (head_revision(), 0, 0)
        engine = create_engine_for(url)
        with engine.connect() as conn:
            owners = set(
                conn.execute(
                    text(
                        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class "
                        "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v')"
                    )
                ).scalars()
            )
        engine.dispose()
        assert owners == {"flourish_owner"}
    finally:
        pg.drop_database("it_deploy_db")
        pg.admin_execute("DROP ROLE IF EXISTS it_deploy_t1")


def test_downgrade_of_0005_restores_0004_exactly(pg: PgCluster, empty_pg_url: str) -> None:
    """Replaced objects come back from sql/objects/_history as 0004 had them (a function's
    SECURITY DEFINER and search_path, the old data_entries policy)."""
    migrate(empty_pg_url, "0004")
    at_0004 = schema_dump(pg, empty_pg_url)
    migrate(empty_pg_url, "0005")
    assert schema_dump(pg, empty_pg_url) != at_0004
    migrate(empty_pg_url, "0004")
    assert schema_dump(pg, empty_pg_url) == at_0004
