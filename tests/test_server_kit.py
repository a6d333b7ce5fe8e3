"""The server kit, run where it can be: its pg_hba.conf in a real PostgreSQL 15, and its
systemd units checked by ``systemd-analyze``.

The pg_hba test starts a cluster of its own (``packaging/smoke_server.py``: TLS on, the
kit's ``pg_hba.conf`` with both placeholders set to 127.0.0.1/32, after the harness's
superuser lines) and shows who gets in: the service's login and IT's over TLS; nobody
over plain TCP; a teacher's login (a member of ``flourish_teacher``) refused even with the
right password and TLS; the service's login refused for any other database.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / "packaging" / "server" / "systemd"
PASSWORDS = {"flourish_svc": "svc-password-12345", "flourish_it": "it-password-12345"}


def _smoke_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "smoke_server", ROOT / "packaging" / "smoke_server.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kit_cluster() -> Iterator[tuple[Any, Path]]:
    cluster, ca = _smoke_server().start_cluster()
    try:
        for statement in (
            "CREATE ROLE flourish_teacher NOLOGIN",
            f"CREATE ROLE flourish_svc LOGIN PASSWORD '{PASSWORDS['flourish_svc']}'",
            f"CREATE ROLE flourish_it LOGIN CREATEROLE PASSWORD '{PASSWORDS['flourish_it']}'",
            "CREATE ROLE rodriguez LOGIN PASSWORD 'teacher-password-1' IN ROLE flourish_teacher",
            "CREATE DATABASE flourish OWNER flourish_it",
        ):
            cluster.admin_execute(statement)
        yield cluster, ca
    finally:
        cluster.destroy()


def _connect(
    cluster: Any, ca: Path, user: str, password: str, *, sslmode: str = "verify-full", db: str
) -> Any:
    return psycopg2.connect(
        host="127.0.0.1",
        port=cluster.port,
        dbname=db,
        user=user,
        password=password,
        sslmode=sslmode,
        sslrootcert=str(ca),
        connect_timeout=10,
    )


@pytest.mark.parametrize("login", ["flourish_svc", "flourish_it"])
def test_the_service_and_it_connect_over_tls(kit_cluster: tuple[Any, Path], login: str) -> None:
    cluster, ca = kit_cluster
    conn = _connect(cluster, ca, login, PASSWORDS[login], db="flourish")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            assert cur.fetchone() == (login, True)
    finally:
        conn.close()


def test_a_teacher_login_is_refused_even_with_tls_and_its_password(
    kit_cluster: tuple[Any, Path],
) -> None:
    cluster, ca = kit_cluster
    with pytest.raises(psycopg2.OperationalError, match='no pg_hba.conf entry.*"rodriguez"'):
        _connect(cluster, ca, "rodriguez", "teacher-password-1", db="flourish")


@pytest.mark.parametrize("login", ["flourish_svc", "flourish_it"])
def test_plain_tcp_is_refused(kit_cluster: tuple[Any, Path], login: str) -> None:
    cluster, ca = kit_cluster
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        _connect(cluster, ca, login, PASSWORDS[login], sslmode="disable", db="flourish")


def test_the_service_login_reaches_no_other_database(kit_cluster: tuple[Any, Path]) -> None:
    cluster, ca = kit_cluster
    with pytest.raises(psycopg2.OperationalError, match='no pg_hba.conf entry.*"postgres"'):
        _connect(cluster, ca, "flourish_svc", PASSWORDS["flourish_svc"], db="postgres")


def test_a_wrong_password_is_refused(kit_cluster: tuple[Any, Path]) -> None:
    cluster, ca = kit_cluster
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(cluster, ca, "flourish_svc", "not-the-password", db="flourish")


# -- systemd units ------------------------------------------------------------------------

UNITS = ["flourish-server.service", "flourish-backup.service", "flourish-backup.timer"]


def _unit_with_existing_programs(name: str, folder: Path) -> Path:
    """The unit, its programs pointed at /bin/true (verify wants them to exist)."""
    text = (SYSTEMD / name).read_text()
    text = re.sub(r"^(ExecStart=)\S+", r"\1/bin/true", text, flags=re.M)
    target = folder / name
    target.write_text(text)
    return target


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
@pytest.mark.parametrize("name", UNITS)
def test_systemd_units_verify(name: str, tmp_path: Path) -> None:
    for unit in UNITS:  # the timer names its service: both in one folder
        _unit_with_existing_programs(unit, tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / name)], capture_output=True, text=True
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_service_unit_is_hardened(tmp_path: Path) -> None:
    unit = _unit_with_existing_programs("flourish-server.service", tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(unit)],
        capture_output=True,
        text=True,
    )
    score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout)
    assert score, done.stdout[-2000:] + done.stderr
    assert float(score.group(1)) <= 2.5, done.stdout[-3000:]
    assert done.returncode == 0, done.stderr
    text = unit.read_text()
    for setting in ("DynamicUser=yes", "ProtectSystem=strict", "LoadCredential=server.key:"):
        assert setting in text
