"""Connections to the central PostgreSQL database: the one place that creates them.

:func:`create_engine_for` builds a small pool with connect and statement timeouts, UTC
session time zone and the ``sslmode`` the URL asks for. :func:`server_errors` turns any
driver failure into a :class:`~sync.errors.ServerError` whose message is one line a teacher
or an IT admin can act on (host unreachable, login rejected, database missing, TLS), and
:func:`health_check` runs the ``SELECT 1`` that ``flourish status`` reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from sync.errors import (
    AuthError,
    ConfigurationError,
    ServerError,
    TransientError,
    ValidationError,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_STATEMENT_TIMEOUT_MS",
    "create_engine_for",
    "describe",
    "display_url",
    "health_check",
    "normalise_url",
    "server_errors",
]

DEFAULT_CONNECT_TIMEOUT = 5
DEFAULT_STATEMENT_TIMEOUT_MS = 60_000


def normalise_url(url: str | URL) -> URL:
    """Accept ``postgresql://`` / ``postgres://`` URLs and pin the psycopg2 driver."""
    # str(URL) would mask the password: render it in full
    raw = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
    if isinstance(raw, str) and raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except Exception as exc:  # sqlalchemy raises ArgumentError for garbage
        raise ValidationError(f"not a database URL: {display_url(raw)!r} ({exc})") from exc
    if parsed.get_backend_name() != "postgresql":
        raise ValidationError(
            f"the central database must be PostgreSQL (postgresql://...), got {parsed.drivername}"
        )
    return parsed.set(drivername="postgresql+psycopg2")


def display_url(url: str | URL) -> str:
    """The URL with any password masked, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def create_engine_for(
    url: str | URL,
    *,
    password: str | None = None,
    pool_size: int = 2,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    application_name: str = "flourish",
    max_overflow: int = 2,
    lock_timeout_ms: int | None = None,
    idle_in_transaction_timeout_ms: int | None = None,
    session_options: bool = True,
) -> Engine:
    """An engine for the central database. ``password`` overrides the URL's (keyring).
    Lock waits and idle transactions may be bounded too (None: the server's). With
    ``session_options=False`` no setting is sent with the connection (the caller sets them
    per transaction, as a transaction-mode pooler such as PgBouncer requires)."""
    parsed = normalise_url(url)
    if password is not None:
        parsed = parsed.set(password=password)
    options = f"-c statement_timeout={statement_timeout_ms} -c timezone=UTC"
    if lock_timeout_ms is not None:
        options += f" -c lock_timeout={lock_timeout_ms}"
    if idle_in_transaction_timeout_ms is not None:
        options += f" -c idle_in_transaction_session_timeout={idle_in_transaction_timeout_ms}"
    engine = create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": connect_timeout,
            **({"options": options} if session_options else {}),
            "application_name": application_name,
            # Notice dead peers quickly instead of hanging on a half-open socket.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    )
    event.listen(engine, "connect", _on_connect)
    return engine


def _on_connect(dbapi_conn: psycopg2.extensions.connection, _record: object) -> None:
    dbapi_conn.autocommit = False


_Rule = tuple[re.Pattern[str], type[ServerError], str]


def _rules(cls: type[ServerError], table: dict[str, str]) -> list[_Rule]:
    return [(re.compile(pattern), cls, template) for pattern, template in table.items()]


# What a driver message means, tried in order; a template may use the pattern's groups
# ({0}, {1}), the whole match ({match}) and the server's address ({where}).
_RULES: list[_Rule] = [
    *_rules(
        AuthError,
        {
            r"password authentication failed for user \"([^\"]+)\"": (
                "login rejected: wrong password for user {0}"
            ),
            r"role \"([^\"]+)\" does not exist": "login rejected: no user {0}",
            r"no password supplied": "login rejected: no password supplied",
            r"permission denied for (\w+ \S+)": "permission denied for {0}",
            r"pg_hba\.conf.*?host \"([^\"]+)\", user \"([^\"]+)\"": (
                "the server does not accept connections from {0} for user {1} (pg_hba.conf)"
            ),
        },
    ),
    *_rules(
        ConfigurationError,
        {
            r"database \"([^\"]+)\" does not exist": "database {0} does not exist on the server",
            r"certificate verify failed|root certificate file .* does not exist|"
            r"server certificate for \"[^\"]+\"( \(and \d+ other names?\))? does not match": (
                "TLS: the server certificate could not be verified ({match})"
            ),
            r"server does not support SSL|SSL connection has been closed|SSL error": "TLS: {match}",
        },
    ),
    *_rules(
        TransientError,
        {
            r"could not translate host name \"([^\"]+)\"": "server unreachable: unknown host {0}",
            r"Connection refused": "server unreachable: connection refused ({where})",
            r"timeout expired": "server unreachable: timed out ({where})",
            r"No route to host|Network is unreachable": "server unreachable: {match} ({where})",
            r"server closed the connection unexpectedly|terminating connection|"
            r"connection already closed|SSL SYSCALL error|could not receive data|"
            r"could not send data|the database system is (starting up|shutting down)": (
                "connection to the server was lost ({match})"
            ),
            r"canceling statement due to statement timeout": (
                "the server took too long to answer (statement timeout)"
            ),
            r"canceling statement due to lock timeout": (
                "the server is busy: a row this needs stayed locked too long (lock timeout)"
            ),
            r"could not serialize access|deadlock detected": (
                "the server asked to retry the transaction ({match})"
            ),
        },
    ),
]

_WHERE = re.compile(r"at \"([^\"]+)\" \(([^)]+)\), port (\d+)|at \"([^\"]+)\", port (\d+)")


def describe(exc: BaseException) -> ServerError:
    """The ServerError (with a one-line reason) that a driver exception stands for."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = str(orig).strip()
    where_match = _WHERE.search(message)
    if where_match:
        host = where_match.group(1) or where_match.group(4)
        port = where_match.group(3) or where_match.group(5)
        where = f"{host}:{port}"
    else:
        where = "server"
    for pattern, cls, template in _RULES:
        m = pattern.search(message)
        if m:
            return cls(template.format(*m.groups(), match=m.group(0), where=where))
    if isinstance(orig, psycopg2.InterfaceError):
        return TransientError(f"connection to the server was lost ({message or 'closed'})")
    if isinstance(orig, psycopg2.OperationalError):
        first = message.splitlines()[0] if message else type(orig).__name__
        return TransientError(f"database connection problem: {first}")
    first = message.splitlines()[0] if message else type(orig).__name__
    return ServerError(f"server error: {first}")


@contextmanager
def server_errors() -> Iterator[None]:
    """Re-raise driver and SQLAlchemy failures as :class:`ServerError`."""
    try:
        yield
    except ServerError:
        raise
    except (SQLAlchemyError, psycopg2.Error) as exc:
        raise describe(exc) from exc


def health_check(engine: Engine) -> None:
    """``SELECT 1`` on a pooled connection; raises ServerError with the reason."""
    with server_errors(), engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()
