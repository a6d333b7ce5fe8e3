"""A real PgBouncer (the Debian package) on 127.0.0.1 in transaction mode, for tests.

It fronts one database of the suite's cluster for one login (SCRAM both ways: the
userlist holds the login's password) with ``server_pool`` server connections, so that
more client connections than that share them transaction by transaction. Run as the
cluster's unprivileged OS user when the tests run as root (PgBouncer refuses root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import psycopg2

from tests.support.pgcluster import free_port

__all__ = ["PgBouncer", "pgbouncer_binary"]


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )


class PgBouncer:
    """``pgbouncer`` in front of ``target_url``'s database; a context manager."""

    def __init__(self, target_url: str, *, server_pool: int = 2) -> None:
        parts = urlsplit(target_url)
        self.user = parts.username or ""
        self.password = parts.password or ""
        self.dbname = parts.path.lstrip("/")
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.server_pool = server_pool
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="flourish-pgbouncer-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The same login and database, through PgBouncer."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.dbname}"

    def _admin(self) -> psycopg2.extensions.connection:
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            dbname="pgbouncer",
            user=self.user,
            password=self.password,
        )
        conn.autocommit = True
        return conn

    def show(self, what: str) -> list[dict[str, object]]:
        """``SHOW POOLS``/``STATS``/... on PgBouncer's admin console, as dicts."""
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f"SHOW {what}")
                names = [d[0] for d in cur.description or ()]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()

    def start(self, timeout: float = 15.0) -> PgBouncer:
        host, port = self.target
        (self.root / "userlist.txt").write_text(f'"{self.user}" "{self.password}"\n')
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{self.dbname} = host={host} port={port} dbname={self.dbname}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = scram-sha-256\n"
            f"auth_file = {self.root / 'userlist.txt'}\n"
            f"admin_users = {self.user}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.server_pool}\n"
            "max_client_conn = 200\n"
            f"logfile = {self.root / 'pgbouncer.log'}\n"
        )
        command = [pgbouncer_binary() or "pgbouncer", str(self.root / "pgbouncer.ini")]
        if os.geteuid() == 0:  # PgBouncer will not run as root
            osuser = os.environ.get("FLOURISH_TEST_PG_OSUSER", "postgres")
            pw = pwd.getpwnam(osuser)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            command = ["runuser", "-u", osuser, "--", *command]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log()[-2000:]}")
            try:
                self._admin().close()
                return self
            except psycopg2.OperationalError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pgbouncer did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()
