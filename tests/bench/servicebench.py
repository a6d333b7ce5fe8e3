"""What the service benchmarks share: a seeded district, device tokens, a service process.

Not a benchmark itself. :func:`seed_district` fills a fresh database of a throwaway
PostgreSQL 15 (``tests/support/pgcluster.py``) with ``tests/support/district.py``'s COPY
generator, then gives every teacher an account (one argon2id hash, shared: the benchmarks
never sign in with a password) and every simulated laptop a real device token, written
the way ``/v1/login`` writes them (only the SHA-256 is stored), in one ``execute_values``.
:class:`ServiceProcess` runs ``flourish server serve`` as a child process with TLS (the
suite's throwaway CA) and the pool size asked for; :class:`BackendSampler` watches
``pg_stat_activity`` for the service login's backends.
"""

from __future__ import annotations

import os
import resource
import secrets
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg2
from psycopg2.extras import execute_values

from sync.replication.protocol import VERSION_HEADER, app_version
from sync.server.accounts import TOKEN_PREFIX, hash_password, token_hash
from sync.server.admin import migrate
from tests.support.district import DistrictSize, generate
from tests.support.pgcluster import PgCluster, free_port
from tests.support.service import Tls, make_tls, service_login_url

__all__ = [
    "BackendSampler",
    "Laptop",
    "ServiceProcess",
    "headers",
    "load",
    "percentile",
    "pg_cpu_seconds",
    "raise_open_files",
    "seed_district",
]

ROOT = Path(__file__).resolve().parents[2]


def headers(token: str | None = None) -> dict[str, str]:
    h = {VERSION_HEADER: app_version()}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load() -> str:
    """The machine's load averages (the benchmarks share it with other work)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


@dataclass(frozen=True)
class Laptop:
    """One simulated laptop: its teacher and its device token."""

    teacher_id: str
    token: str


def seed_district(
    pg: PgCluster,
    name: str,
    *,
    teachers: int,
    students_per_teacher: int,
    assessments_per_student: int,
    laptops: int,
) -> tuple[str, list[Laptop]]:
    """A migrated, seeded database; its admin URL and one device token per laptop
    (laptop ``i`` belongs to teacher ``i % teachers``)."""
    url = pg.create_database(name)
    migrate(url, "head")
    students = teachers * students_per_teacher
    generate(
        pg.dsn(name),
        DistrictSize(
            teachers=teachers,
            students=students,
            entries=max(students, students * assessments_per_student // 5),
            assessments=students * assessments_per_student,
            corrections=0,
        ),
    )
    teacher_ids = [f"T{n:03d}" for n in range(1, teachers + 1)]
    shared_hash = hash_password("bench-password-1")
    fleet = [
        Laptop(teacher_ids[i % teachers], TOKEN_PREFIX + secrets.token_urlsafe(32))
        for i in range(laptops)
    ]
    conn = psycopg2.connect(pg.dsn(name))
    try:
        with conn, conn.cursor() as cur:
            execute_values(
                cur,
                "INSERT INTO teacher_accounts (login, teacher_id, password_hash) VALUES %s",
                [(t.lower(), t, shared_hash) for t in teacher_ids],
            )
            execute_values(
                cur,
                "INSERT INTO device_tokens (teacher_id, login, token_hash, device_name, "
                "expires_at) VALUES %s",
                [
                    (lap.teacher_id, lap.teacher_id.lower(), token_hash(lap.token), f"bench {i}")
                    for i, lap in enumerate(fleet)
                ],
                template="(%s, %s, %s, %s, now() + interval '180 days')",
                page_size=5000,
            )
            cur.execute("ANALYZE teacher_accounts; ANALYZE device_tokens")
    finally:
        conn.close()
    return url, fleet


class ServiceProcess:
    """``flourish server serve`` (TLS unless ``tls=False``, ``--pool-size``) as a child
    process."""

    def __init__(
        self,
        admin_url: str,
        folder: Path,
        *,
        pool_size: int,
        tls: bool = True,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.tls: Tls = make_tls(folder / "tls")
        self.db_url = service_login_url(admin_url)
        self.login = self.db_url.split("//", 1)[1].split(":", 1)[0]
        self.pool_size = pool_size
        self.extra = extra  # more `server serve` options
        self.port = free_port()
        self.with_tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log = folder / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-c",
            "import sys; from desktop.cli import main; sys.exit(main())",
            "--data-dir",
            str(self.folder / "data"),
            "server",
            "serve",
            "--db",
            self.db_url,
            "--bind",
            f"127.0.0.1:{self.port}",
            *(
                ["--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)]
                if self.with_tls
                else []
            ),
            "--pool-size",
            str(self.pool_size),
            *self.extra,
        ]

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tls.ca))

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, verify=self.ssl_context(), timeout=5) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the service exited: {self.log.read_text()[-2000:]}")
                try:
                    if client.get("/readyz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the service did not get ready: {self.log.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kib(self) -> int:
        """Resident memory of the service process (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


def pg_cpu_seconds(pg: PgCluster) -> float:
    """CPU time of the whole cluster: the postmaster with its reaped children, plus every
    live backend and helper process."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((pg.datadir / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it just exited
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class BackendSampler:
    """Samples ``pg_stat_activity`` every ``every`` seconds on a thread of its own: the
    service login's backends (all of them, and those not idle)."""

    def __init__(self, pg: PgCluster, login: str, every: float = 0.1) -> None:
        self.pg = pg
        self.login = login
        self.every = every
        self.max_backends = 0
        self.max_active = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backend-sampler", daemon=True)

    def _run(self) -> None:
        conn = psycopg2.connect(self.pg.dsn("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self._stop.is_set():
                    cur.execute(
                        "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') "
                        "FROM pg_stat_activity WHERE usename = %s",
                        (self.login,),
                    )
                    total, active = cur.fetchone()
                    self.max_backends = max(self.max_backends, int(total))
                    self.max_active = max(self.max_active, int(active))
                    self.samples += 1
                    self._stop.wait(self.every)
        finally:
            conn.close()

    def __enter__(self) -> BackendSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
