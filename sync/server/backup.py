"""Backup and restore of the central database with ``pg_dump``/``pg_restore`` (IT only).

``flourish server backup`` = :func:`backup_server`: ``pg_dump --format=custom`` into a
temporary file beside the target, checked with ``pg_restore --list`` and then renamed, so
a failed backup never leaves a half-written file under the final name.
``flourish server restore`` = :func:`restore_server`: ``pg_restore --clean --if-exists
--single-transaction`` into the database of the URL, created first when it does not exist.
One transaction means a restore that fails changes nothing. ``sql/README.md`` ("Backup and
restore runbook") has the nightly schedule, the restore test and the measured times.

* The PostgreSQL 15 client programs are found in ``$FLOURISH_PG_BINDIR``,
  ``/usr/lib/postgresql/15/bin``, ``pg_config --bindir``, then ``PATH``.
* The password travels in ``PGPASSWORD`` (never on a command line, where ``ps`` shows it).
* A backup needs a login that sees every row: a superuser, a role with ``BYPASSRLS``, or
  a member of ``flourish_admin`` (row level security is forced on every table; a teacher's
  login would silently dump only its own rows, so it is refused).
* Roles live in the cluster, not in the dump. Before restoring, the Flourish group roles
  are created when missing (``sql/objects/grants/roles.sql``); teacher *logins* named in
  ``teacher_logins`` (made by older versions, or by hand) that the cluster lacks are
  reported; laptops sync through the service and do not need them (restore
  ``pg_dumpall --roles-only`` first if another tool does).

Failures are one-line :class:`~sync.errors.FlourishError` messages: missing file, not a
custom-format dump, server unreachable, login rejected.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL

from sync.errors import ConfigurationError, ServerError, ValidationError
from sync.paths import sql_path
from sync.server.admin import audit
from sync.server.central import (
    create_engine_for,
    display_url,
    health_check,
    normalise_url,
    server_errors,
)

__all__ = [
    "BackupResult",
    "RestoreResult",
    "archive_tables",
    "backup_server",
    "pg_tool",
    "restore_server",
]

_MAGIC = b"PGDMP"


def pg_tool(name: str) -> Path:
    """Path of a PostgreSQL client program (``pg_dump``, ``pg_restore``)."""
    candidates: list[Path] = []
    if os.environ.get("FLOURISH_PG_BINDIR"):
        candidates.append(Path(os.environ["FLOURISH_PG_BINDIR"]))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    for folder in candidates:
        if (folder / name).is_file():
            return folder / name
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ConfigurationError(
        f"{name} not found: install the PostgreSQL 15 client (Debian: postgresql-client-15) "
        "or set FLOURISH_PG_BINDIR"
    )


def _libpq(url: URL, dbname: str | None = None) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it."""
    target = url.set(drivername="postgresql", password=None)
    if dbname is not None:
        target = target.set(database=dbname)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return target.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "error:" in ln), lines[-1] if lines else "failed")
        reason = reason.split("error:", 1)[-1].strip()
        raise ServerError(f"{what} failed: {reason}")
    return result


def archive_tables(path: str | os.PathLike[str]) -> list[str]:
    """Names of the tables whose data a custom-format dump holds (checks the file)."""
    file = Path(path)
    if not file.is_file():
        raise ValidationError(f"no backup file at {file}")
    with open(file, "rb") as fh:
        if fh.read(5) != _MAGIC:
            raise ValidationError(
                f"{file} is not a pg_dump custom-format backup (made with 'server backup')"
            )
    pg_restore = str(pg_tool("pg_restore"))
    try:
        listing = _run([pg_restore, "--list", str(file)], dict(os.environ), "")
    except ServerError as exc:
        reason = str(exc).removeprefix(" failed: ")
        raise ValidationError(f"{file} is not a readable backup ({reason})") from exc
    tables = []
    for line in listing.stdout.splitlines():
        parts = line.split()  # "3688; 0 16385 TABLE DATA public alembic_version owner"
        if parts[3:5] == ["TABLE", "DATA"] and len(parts) >= 7:
            tables.append(f"{parts[5]}.{parts[6]}")
    return tables


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    seconds: float
    tables: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"backup written to {self.path} ({self.size / 1_000_000:.1f} MB, "
            f"{len(self.tables)} tables) in {self.seconds:.1f} s"
        )


def _plain(url: URL) -> str:
    """The URL as text, password included (``str(URL)`` would mask it)."""
    return url.render_as_string(hide_password=False)


def _can_see_everything(url: URL) -> None:
    engine = create_engine_for(_plain(url), pool_size=1, statement_timeout_ms=0)
    try:
        health_check(engine)
        with server_errors(), engine.connect() as conn:
            allowed = conn.execute(
                text(
                    "SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_roles a "
                    "WHERE a.rolname = 'flourish_admin' AND pg_has_role(current_user, a.oid, "
                    "'MEMBER')) FROM pg_roles r WHERE r.rolname = current_user"
                )
            ).scalar()
    finally:
        engine.dispose()
    if not allowed:
        raise ValidationError(
            f"{url.username or 'this login'} cannot back up every row: use a superuser or a "
            "member of flourish_admin (row level security hides other teachers' rows)"
        )


def backup_server(url: str, out: str | os.PathLike[str]) -> BackupResult:
    """``pg_dump -Fc`` of the database at ``url`` into ``out`` (replaced atomically)."""
    parsed = normalise_url(url)
    target = Path(out).expanduser()
    if target.is_dir():
        raise ValidationError(f"{target} is a folder: give a file name for the backup")
    if not target.parent.is_dir():
        raise ValidationError(f"folder {target.parent} does not exist")
    _can_see_everything(parsed)
    uri, env = _libpq(parsed)
    partial = target.with_name(f".{target.name}.partial")
    started = time.perf_counter()
    try:
        _run(
            [
                str(pg_tool("pg_dump")),
                "--format=custom",
                "--enable-row-security",
                "--no-password",
                f"--file={partial}",
                f"--dbname={uri}",
            ],
            env,
            f"backup of {display_url(parsed)}",
        )
        tables = archive_tables(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, time.perf_counter() - started, tables)


@dataclass(frozen=True)
class RestoreResult:
    database: str
    created: bool
    seconds: float
    missing_logins: list[str] = field(default_factory=list)

    def summary(self) -> str:
        how = "created and restored" if self.created else "restored (replacing its contents)"
        text = f"database {self.database} {how} in {self.seconds:.1f} s"
        if self.missing_logins:
            text += (
                f"; {len(self.missing_logins)} teacher database login(s) do not exist on this "
                f"server ({', '.join(self.missing_logins)}): laptops sync through the Flourish "
                "service and do not need them; restore 'pg_dumpall --roles-only' first if "
                "another tool does"
            )
        return text


def _prepare_database(url: URL) -> bool:
    """Create the database when missing (and the Flourish group roles); True if created."""
    name = url.database
    if not name:
        raise ValidationError("the URL names no database to restore into")
    admin = create_engine_for(
        _plain(url.set(database="postgres")), pool_size=1, statement_timeout_ms=0
    ).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with server_errors(), admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
            roles = sql_path("objects", "grants", "roles.sql")
            if roles.exists():
                raw: Any = conn.connection.dbapi_connection
                with raw.cursor() as cur:  # no parameters: its %I must reach the server
                    cur.execute(roles.read_text(encoding="utf-8"))
    finally:
        admin.dispose()
    return not exists


def _missing_logins(url: URL) -> list[str]:
    engine = create_engine_for(_plain(url), pool_size=1)
    try:
        with server_errors(), engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('public.teacher_logins')")).scalar() is None:
                return []
            rows = conn.execute(
                text(
                    "SELECT login_role FROM teacher_logins WHERE login_role NOT IN "
                    "(SELECT rolname FROM pg_roles) ORDER BY login_role"
                )
            )
            return [str(r[0]) for r in rows]
    finally:
        engine.dispose()


def _new_epoch(url: URL) -> None:
    """A restored server is a new epoch: laptops notice, re-send what they hold and pull
    everything again (sync.replication.engine). Device numbers handed out after the backup
    must never be handed out again, so the device sequence jumps ahead."""
    engine = create_engine_for(url, pool_size=1)
    try:
        with server_errors(), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO flourish_meta (key, value) VALUES ('server_epoch', "
                    "gen_random_uuid()::text) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                )
            )
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('sync_devices', 'device_no'), "
                    "coalesce((SELECT max(device_no) FROM sync_devices), 0) + 1000)"
                )
            )
            audit(conn, "server_restore")
    finally:
        engine.dispose()


def restore_server(url: str, infile: str | os.PathLike[str], *, jobs: int = 1) -> RestoreResult:
    """Restore a ``server backup`` file into the database at ``url`` (created if missing).

    With ``jobs`` > 1 pg_restore works in parallel, which is faster on a large database but
    cannot run in one transaction: a failure may then leave a partial restore behind.
    """
    parsed = normalise_url(url)
    archive_tables(infile)  # missing file / wrong format: a clear error before any change
    started = time.perf_counter()
    try:
        created = _prepare_database(parsed)
    except ServerError as exc:
        raise type(exc)(f"restore into {display_url(parsed)}: {exc}") from exc
    uri, env = _libpq(parsed)
    cmd = [
        str(pg_tool("pg_restore")),
        "--clean",
        "--if-exists",
        "--exit-on-error",
        "--no-password",
        f"--dbname={uri}",
    ]
    cmd += [f"--jobs={jobs}"] if jobs > 1 else ["--single-transaction"]
    _run([*cmd, str(Path(infile))], env, f"restore into {display_url(parsed)}")
    _new_epoch(parsed)
    missing = _missing_logins(parsed)
    return RestoreResult(
        database=str(parsed.database),
        created=created,
        seconds=time.perf_counter() - started,
        missing_logins=missing,
    )
