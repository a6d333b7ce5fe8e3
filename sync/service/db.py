"""The service's database access: one pool per process, one transaction per request.

The service's login (a member of ``flourish_service``) reads the sign-in tables as itself;
everything a request does for a teacher runs after :func:`act_as_teacher` in the same
transaction — ``SET LOCAL ROLE flourish_teacher`` and the transaction-local
``flourish.teacher_id`` that ``current_teacher_id()`` reads, the way PostgREST switches
roles — so row level security, column grants and triggers decide what the request may
read and write. Both end with the transaction; a pooled connection goes back clean.

The timeouts are transaction-local too: every transaction starts with one statement that
sets ``statement_timeout``, ``lock_timeout``, ``idle_in_transaction_session_timeout`` and
the UTC time zone with ``set_config(..., true)`` (``SET LOCAL``). Nothing is set on the
session and nothing is prepared on it, so the pool works through PgBouncer in transaction
mode, where consecutive transactions may run on different server connections.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from sync.errors import ServerError
from sync.server.accounts import Identity, authenticate
from sync.server.central import create_engine_for, server_errors

__all__ = ["TEACHER_ROLE", "Database", "DbSettings", "act_as_teacher"]

TEACHER_ROLE = "flourish_teacher"
_TEACHER_ID = re.compile(r"^[A-Za-z0-9_-]{1,10}$")


@dataclass(frozen=True)
class DbSettings:
    url: str
    pool_size: int = 8
    max_overflow: int = 4
    statement_timeout_ms: int = 15_000
    lock_timeout_ms: int = 5_000
    idle_in_transaction_timeout_ms: int = 30_000
    #: Where the live-update listener connects (LISTEN needs a session: not through a
    #: transaction-mode pooler); None: ``url``.
    listen_url: str | None = None


def act_as_teacher(conn: Connection, teacher_id: str) -> None:
    """Switch the open transaction to ``teacher_id``: from here on the database's policies
    see that teacher and nobody else. Must run inside a transaction (SET LOCAL)."""
    if not _TEACHER_ID.match(teacher_id):
        raise ValueError(f"not a teacher id: {teacher_id!r}")
    conn.execute(text(f"SET LOCAL ROLE {TEACHER_ROLE}"))
    conn.execute(text("SELECT set_config('flourish.teacher_id', :t, true)"), {"t": teacher_id})


class Database:
    """The process's one connection pool to the central database."""

    def __init__(self, settings: DbSettings) -> None:
        self.settings = settings
        self.engine: Engine = create_engine_for(
            settings.url,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            application_name="flourish-service",
            session_options=False,  # set per transaction (see the module docstring)
        )
        self._limits = text(
            "SELECT set_config('statement_timeout', :st, true), "
            "set_config('lock_timeout', :lt, true), "
            "set_config('idle_in_transaction_session_timeout', :it, true), "
            "set_config('TimeZone', 'UTC', true)"
        ).bindparams(
            st=str(settings.statement_timeout_ms),
            lt=str(settings.lock_timeout_ms),
            it=str(settings.idle_in_transaction_timeout_ms),
        )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction as the service's own login; committed if the block succeeds."""
        with server_errors(), self.engine.begin() as conn:
            conn.execute(self._limits)
            yield conn

    @contextmanager
    def as_teacher(self, teacher_id: str) -> Iterator[Connection]:
        """One transaction switched to ``teacher_id`` from its first statement."""
        with self.transaction() as conn:
            act_as_teacher(conn, teacher_id)
            yield conn

    @contextmanager
    def teacher_request(self, token: str) -> Iterator[tuple[Connection, Identity]]:
        """A request's one transaction: the device token is checked as the service, then
        the transaction is switched to the teacher it stands for."""
        with self.transaction() as conn:
            who = authenticate(conn, token)
            act_as_teacher(conn, who.teacher_id)
            yield conn, who

    def identify(self, token: str) -> Identity:
        """Whom a device token stands for (one short transaction as the service)."""
        with self.transaction() as conn:
            return authenticate(conn, token)

    def schema_revision(self) -> str | None:
        with self.transaction() as conn:
            value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if value is None else str(value)

    def check_service_login(self) -> None:
        """Refuse to serve as a login that could do more than the service needs."""
        with self.transaction() as conn:
            row = conn.execute(
                text(
                    "SELECT r.rolsuper, pg_has_role(r.oid, 'flourish_service', 'MEMBER') AS svc,"
                    " EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) AS owns "
                    "FROM pg_roles r WHERE r.rolname = current_user"
                )
            ).one()
        if not row.svc:
            raise ServerError(
                "the service's database login must be a member of flourish_service "
                "(create it with 'flourish server add-service-login')"
            )
        if row.rolsuper or row.owns:
            raise ServerError(
                "the service's database login must not be a superuser nor own objects: "
                "give it its own login ('flourish server add-service-login')"
            )

    def dispose(self) -> None:
        self.engine.dispose()
