"""A throwaway PostgreSQL 15 cluster for tests, benchmarks and smoke scripts.

``initdb``/``pg_ctl`` from the installed server binaries create a cluster in a temporary
directory, listening on 127.0.0.1 at a free port, with password (SCRAM) authentication over
TCP. PostgreSQL refuses to run as root, so when this process is root the cluster runs as an
unprivileged system user (``postgres`` by default, ``FLOURISH_TEST_PG_OSUSER`` to change it).

Usage::

    with PgCluster.started() as pg:
        url = pg.create_database("example")   # postgresql://...
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
from psycopg2 import sql

SUPERUSER = "flourish_su"
SUPERPASS = "su-test-password"


def _bindir() -> Path:
    explicit = os.environ.get("FLOURISH_PG_BINDIR")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    for candidate in candidates:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL 15 server binaries not found: install the Debian package postgresql-15 "
        "or set FLOURISH_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One running cluster. Not thread-safe; one per test session."""

    def __init__(
        self, *, durable: bool = False, port: int | None = None, settings: list[str] | None = None
    ) -> None:
        self.extra_settings = list(settings or [])
        self.bindir = _bindir()
        self.port = port or free_port()
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="flourish-pg-"))
        self.datadir = self.root / "data"
        self.sockdir = self.root / "sock"
        self.logfile = self.root / "server.log"
        self._osuser: str | None = None
        if os.geteuid() == 0:
            self._osuser = os.environ.get("FLOURISH_TEST_PG_OSUSER", "postgres")
            try:
                pw = pwd.getpwnam(self._osuser)
            except KeyError as exc:
                raise RuntimeError(
                    f"running as root needs an unprivileged OS user {self._osuser!r} to run "
                    "PostgreSQL (the postgresql-15 package creates 'postgres')"
                ) from exc
            os.chmod(self.root, 0o755)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.sockdir.mkdir()
        if self._osuser:
            pw = pwd.getpwnam(self._osuser)
            os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)

    # -- process control -------------------------------------------------------------
    def give_to_server(self, path: Path, mode: int = 0o600) -> None:
        """Make a file readable by the server process only (keys, certificates)."""
        os.chmod(path, mode)
        if self._osuser:
            pw = pwd.getpwnam(self._osuser)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._osuser:
            cmd = ["runuser", "-u", self._osuser, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def init(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(SUPERPASS + "\n")
        if self._osuser:
            pw = pwd.getpwnam(self._osuser)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.sockdir}'",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "timezone = 'UTC'",
            "log_min_messages = warning",
        ]
        if not self.durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        settings += self.extra_settings
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.write("\n# flourish test cluster\n" + "\n".join(settings) + "\n")

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.wait_ready()

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-m",
            mode,
            "-w",
            "stop",
            check=False,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.dsn("postgres")).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def started(
        cls, *, durable: bool = False, settings: list[str] | None = None
    ) -> Iterator[PgCluster]:
        cluster = cls(durable=durable, settings=settings)
        try:
            cluster.init()
            cluster.start()
            yield cluster
        finally:
            cluster.destroy()

    # -- addresses ---------------------------------------------------------------------
    def dsn(self, dbname: str, user: str = SUPERUSER, password: str = SUPERPASS) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} password={password}"

    def url(self, dbname: str, user: str = SUPERUSER, password: str | None = SUPERPASS) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    # -- databases ---------------------------------------------------------------------
    def admin_execute(self, statement: sql.Composable | str) -> None:
        conn = psycopg2.connect(self.dsn("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()

    def create_database(self, name: str, template: str = "template0") -> str:
        self.admin_execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin_execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
