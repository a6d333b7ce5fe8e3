"""Central-server administration: schema migrations, seed data, demo data.

``flourish server init`` = :func:`init_server`: upgrade the database to the newest migration
and load the seed teachers and students (and, with ``--demo``, the demo dataset). Every step
is idempotent, so running it twice changes nothing. ``flourish server migrate`` =
:func:`migrate`: move the schema to any revision, ``base`` (empty) included.

These functions connect with the URL they are given (an admin/owner login); teachers'
laptops never run them.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from sync.errors import ValidationError
from sync.model.demo import load_demo_rows
from sync.model.seed import load_seed
from sync.paths import sql_path
from sync.server.central import create_engine_for, normalise_url, server_errors

__all__ = [
    "InitResult",
    "audit",
    "TeacherLogin",
    "add_teacher",
    "alembic_config",
    "current_revision",
    "head_revision",
    "init_server",
    "load_demo_central",
    "load_seed",
    "migrate",
    "migration_sql",
    "sync_sequences",
]


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(sql_path("migrations")))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in script.walk_revisions()]


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _admin_connection(url: str) -> Iterator[Connection]:
    engine: Engine = create_engine_for(url, pool_size=1, statement_timeout_ms=0)
    try:
        with server_errors(), engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _check_target(target: str) -> None:
    if target in ("head", "base") or target in known_revisions():
        return
    raise ValidationError(
        f"unknown revision {target!r}; known: base, head, " + ", ".join(known_revisions())
    )


def migrate(url: str, to: str = "head") -> tuple[str | None, str | None]:
    """Upgrade or downgrade the schema to ``to``. Returns (before, after) revisions."""
    _check_target(to)
    with _admin_connection(url) as conn:
        cfg = alembic_config(conn)
        script = ScriptDirectory.from_config(cfg)
        target = script.get_current_head() if to == "head" else (None if to == "base" else to)
        with conn.begin():
            _lock(conn)
            before = current_revision(conn)
            if before == target:
                return before, before
            audit(conn, "server_migrate", before=before, to=target or "base")
            if target is None:
                command.downgrade(cfg, "base")
            elif before is None or _is_ancestor(script, before, target):
                command.upgrade(cfg, target)
            else:
                command.downgrade(cfg, target)
            after = current_revision(conn)
    return before, after


def _is_ancestor(script: ScriptDirectory, older: str, newer: str) -> bool:
    return any(rev.revision == older for rev in script.iterate_revisions(newer, "base"))


def _lock(conn: Connection) -> None:
    """Serialise concurrent init/migrate runs against one database."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('flourish-schema'))"))


def migration_sql(url: str, to: str = "head") -> str:
    """The SQL an upgrade from empty to ``to`` would run (offline mode), for review."""
    _check_target(to)
    buffer = io.StringIO()
    cfg = alembic_config(url=str(normalise_url(url).render_as_string(hide_password=False)))
    cfg.output_buffer = buffer
    command.upgrade(cfg, to, sql=True)
    return buffer.getvalue()


_ID_TABLES = ("assessments", "teacher_corrections", "skill_targets", "badges", "sync_conflicts")


def sync_sequences(conn: Connection) -> None:
    """Move the server's id sequences past rows inserted with explicit ids (seed, demo)."""
    for table in _ID_TABLES:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest(1, "
                f"(SELECT max(id) FROM {table} WHERE id < 1000000000)), "
                f"(SELECT count(*) > 0 FROM {table} WHERE id < 1000000000))"
            )
        )
    conn.execute(
        text(
            "SELECT setval('data_entries_id_seq', greatest(1, (SELECT max(substr(id, 3)::bigint)"
            " FROM data_entries WHERE length(id) <= 11)), "
            "(SELECT count(*) > 0 FROM data_entries WHERE length(id) <= 11))"
        )
    )


def audit(conn: Connection, action: str, **detail: object) -> None:
    """Append an administrative action to the server's audit log (if it has one yet)."""
    if conn.execute(text("SELECT to_regprocedure('audit_event(text, jsonb)')")).scalar():
        conn.execute(
            text("SELECT audit_event(:a, CAST(:d AS jsonb))"),
            {"a": action, "d": json.dumps(detail, default=str)},
        )


_LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class TeacherLogin:
    teacher_id: str
    login: str
    created_teacher: bool
    created_account: bool


def add_teacher(
    url: str,
    *,
    teacher_id: str,
    login: str,
    password: str,
    name: str | None = None,
    email: str | None = None,
) -> TeacherLogin:
    """Create the teacher if missing and set its password for the Flourish service
    (an argon2 hash in ``teacher_accounts``); idempotent. The teacher gets no database
    login: laptops sync through the service, which acts for the teacher."""
    from sync.model.crud import TEACHERS
    from sync.model.records import Teacher
    from sync.server.accounts import set_password

    if not _LOGIN_NAME.match(login):
        raise ValidationError(
            f"login {login!r}: use lower-case letters, digits and _ (at most 63, not a digit first)"
        )
    if len(password) < 8:
        raise ValidationError("the password must have at least 8 characters")
    with _admin_connection(url) as conn, conn.begin():
        existing = TEACHERS.get(conn, teacher_id)
        created_teacher = existing is None
        if existing is None:
            if not name:
                raise ValidationError(f"teacher {teacher_id} does not exist yet: give --name")
            TEACHERS.insert(conn, Teacher(id=teacher_id, name=name, email=email))
        elif name or email:
            changes = {k: v for k, v in (("name", name), ("email", email)) if v}
            TEACHERS.update(conn, teacher_id, changes)
        created_account = set_password(conn, login=login, teacher_id=teacher_id, password=password)
        audit(
            conn,
            "add_teacher",
            teacher=teacher_id,
            login=login,
            created_teacher=created_teacher,
            created_account=created_account,
        )
    return TeacherLogin(teacher_id, login, created_teacher, created_account)


@dataclass(frozen=True)
class InitResult:
    before: str | None
    after: str
    seeded: int
    demo_rows: int

    def summary(self) -> str:
        moved = (
            f"schema already at {self.after}"
            if self.before == self.after
            else f"schema {self.before or 'empty'} -> {self.after}"
        )
        parts = [moved, f"{self.seeded} seed rows added"]
        if self.demo_rows:
            parts.append(f"{self.demo_rows} demo rows added")
        return "; ".join(parts)


def load_demo_central(conn: Connection) -> int:
    """Load the demo rows into the central database (inside the caller's transaction)."""
    added = load_demo_rows(conn)
    sync_sequences(conn)  # keep the server's own ids ahead of the explicit demo ids
    return added


def init_server(url: str, *, demo: bool = False) -> InitResult:
    """Create or upgrade the central schema and load seed (and demo) data. Idempotent."""
    with _admin_connection(url) as conn:
        cfg = alembic_config(conn)
        with conn.begin():
            _lock(conn)
            before = current_revision(conn)
            command.upgrade(cfg, "head")
            seeded = load_seed(conn)
            # the server's epoch: laptops notice when a restore replaces the database
            conn.execute(
                text(
                    "INSERT INTO flourish_meta (key, value) VALUES ('server_epoch', "
                    "gen_random_uuid()::text) ON CONFLICT (key) DO NOTHING"
                )
            )
            demo_rows = load_demo_central(conn) if demo else 0
            after = current_revision(conn)
            if before != after or seeded or demo_rows:  # a no-op run leaves no trace
                audit(
                    conn,
                    "server_init",
                    before=before,
                    after=after,
                    seeded=seeded,
                    demo_rows=demo_rows,
                )
    assert after is not None
    return InitResult(before=before, after=after, seeded=seeded, demo_rows=demo_rows)
