"""The sync commands of the CLI contract: add-teacher, login, sync, status."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import actions
from sync.replication.retry import Backoff
from sync.store.local import LocalStore
from tests.support.laptops import PASSWORD as LAPTOP_PASSWORD
from tests.support.laptops import Laptop, admin_rows, served
from tests.support.pgcluster import PgCluster, free_port
from tests.support.service import Service, service_login_url
from tests.test_cli import flourish

PASSWORD = "cli-pass-1234"
ASK_IT = "this version syncs through your school's Flourish server: ask IT for its https address"


@pytest.fixture
def service(pg_url: str, tmp_path: Path) -> Iterator[Service]:
    with Service(service_login_url(pg_url), tmp_path / "service") as running:
        yield running


def add_teacher(pg_url: str, teacher: str, login: str) -> str:
    made = flourish(
        "server", "add-teacher", "--db", pg_url, "--id", teacher, "--login", login,
        input_text=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout


def sign_in(service: Service, login: str, data_dir: Path, password: str = PASSWORD) -> str:
    """``flourish login`` through the service; the device token it prints (no keyring here)."""
    signed = flourish(
        "login", "--server", service.url, "--user", login, "--ca-cert", str(service.tls.ca),
        data_dir=data_dir, env={"FLOURISH_PASSWORD": password},
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert "FLOURISH_TOKEN=" in signed.stdout
    return signed.stdout.split("FLOURISH_TOKEN=", 1)[1].split()[0]


def test_add_teacher_login_sync_status(pg_url: str, service: Service, tmp_path: Path) -> None:
    login = "rodriguez_" + pg_url.rsplit("/", 1)[1][:40]
    made = add_teacher(pg_url, "T001", login)
    assert f"teacher T001 found; new login {login}" in made and "no database login" in made
    assert "login updated" in add_teacher(pg_url, "T001", login)  # idempotent
    new = flourish(
        "server", "add-teacher", "--db", pg_url, "--id", "T003", "--name", "Ms. Okafor",
        "--email", "okafor@flourishschools.edu", "--login", "okafor_" + login[10:],
        input_text=PASSWORD + "\n",
    )  # fmt: skip
    assert new.returncode == 0 and "teacher T003 created" in new.stdout
    # the teacher has a service account, and no database login at all
    assert admin_rows(pg_url, "SELECT 1 FROM pg_roles WHERE rolname = :r", r=login) == []
    assert admin_rows(pg_url, "SELECT COUNT(*) FROM teacher_logins") == [(0,)]

    token = sign_in(service, login, tmp_path)
    env = {"FLOURISH_TOKEN": token}
    synced = flourish("sync", data_dir=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr
    students = json.loads(flourish("list", "students", "--json", data_dir=tmp_path).stdout)
    assert [s["id"] for s in students] == ["S001", "S002"]
    status = json.loads(flourish("status", "--json", data_dir=tmp_path, env=env).stdout)
    assert status["server_reachable"] is True and status["server"] == service.url
    assert status["pending"] == 0 and status["last_sync"] and status["teacher_id"] == "T001"
    assert PASSWORD not in json.dumps(status) and token not in json.dumps(status)


def test_wrong_password_is_one_line(pg_url: str, service: Service, tmp_path: Path) -> None:
    login = "thompson_" + pg_url.rsplit("/", 1)[1][:40]
    add_teacher(pg_url, "T002", login)
    bad = flourish(
        "login", "--server", service.url, "--user", login, "--ca-cert", str(service.tls.ca),
        data_dir=tmp_path, env={"FLOURISH_PASSWORD": "nope-nope"},
    )  # fmt: skip
    assert bad.returncode == 1
    assert "wrong login or password" in bad.stderr and bad.stderr.count("\n") == 1


def test_a_database_address_gets_the_ask_it_message(
    pg: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    login = "direct_" + pg_url.rsplit("/", 1)[1][:40]
    add_teacher(pg_url, "T001", login)
    db = pg_url.rsplit("/", 1)[1]
    bad = flourish(
        "login", "--server", f"postgresql://{login}@127.0.0.1:{pg.port}/{db}", "--user", login,
        data_dir=tmp_path, env={"FLOURISH_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert bad.returncode == 1
    assert ASK_IT in bad.stderr and bad.stderr.count("\n") == 1
    assert not (tmp_path / "flourish.sqlite3").exists()  # a failed first sign-in leaves nothing


def test_a_store_signed_in_directly_keeps_its_queue_until_it_signs_in_again(
    pg: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """An older version signed this laptop in to the database itself; this version tells the
    teacher to ask IT for the service's address, and after that sign-in the queue goes out."""
    server = served(pg_url, tmp_path / "service")
    try:
        lap = Laptop(server, "T001", tmp_path / "L")
        lap.sync()
        device = lap.device_no
        made = [
            actions.correct(lap.store, assessment_id=a, teacher_id="T001", level=2).value.id
            for a in (4, 5, 6)
        ]
        lap.close()
        old_url = f"postgresql://{server.logins['T001']}@127.0.0.1:{pg.port}/{server.dbname}"
        with LocalStore.open(tmp_path / "L" / "flourish.sqlite3") as store:
            store.set_state({"server_url": old_url})  # what the older version kept
        data = tmp_path / "L"
        refused = flourish("sync", data_dir=data)
        assert refused.returncode == 1
        assert ASK_IT in refused.stderr and refused.stderr.count("\n") == 1
        status = json.loads(flourish("status", "--json", data_dir=data).stdout)
        assert status["pending"] == 3 and status["server_reachable"] is False
        assert status["server_problem"] == ASK_IT and status["last_error"] == ASK_IT
        assert admin_rows(pg_url, "SELECT COUNT(*) FROM teacher_corrections") == [(0,)]

        service = server.running()
        token = sign_in(service, server.logins["T001"], data, LAPTOP_PASSWORD)
        with LocalStore.open(data / "flourish.sqlite3") as store:
            assert store.device_no == device and store.state("server_url") == service.url
        synced = flourish("sync", data_dir=data, env={"FLOURISH_TOKEN": token})
        assert synced.returncode == 0, synced.stderr
        assert "pushed 3 change(s)" in synced.stdout
        on_server = admin_rows(pg_url, "SELECT id FROM teacher_corrections ORDER BY id")
        assert [r[0] for r in on_server] == sorted(made)
        status = json.loads(flourish("status", "--json", data_dir=data).stdout)
        assert status["pending"] == 0 and status["last_error"] is None
    finally:
        server.stop()


def test_unreachable_server_status_and_sync(pg_url: str, service: Service, tmp_path: Path) -> None:
    login = "t001u_" + pg_url.rsplit("/", 1)[1][:40]
    add_teacher(pg_url, "T001", login)
    env = {"FLOURISH_TOKEN": sign_in(service, login, tmp_path)}
    # the server moves: point the store at a port where nothing listens
    with LocalStore.open(tmp_path / "flourish.sqlite3") as store:
        url = store.state("server_url") or ""
        store.set_state({"server_url": url.replace(f":{service.port}", f":{free_port()}")})
    status = json.loads(flourish("status", "--json", data_dir=tmp_path, env=env).stdout)
    assert status["server_reachable"] is False
    assert "server unreachable" in status["server_problem"]
    failed = flourish("sync", data_dir=tmp_path, env=env)
    assert failed.returncode == 1
    assert "server unreachable" in failed.stderr and failed.stderr.count("\n") == 1
    status = json.loads(flourish("status", "--json", data_dir=tmp_path, env=env).stdout)
    assert "server unreachable" in status["last_error"]


def test_sync_without_login_says_so(tmp_path: Path) -> None:
    flourish("demo", "--no-window", data_dir=tmp_path)
    result = flourish("sync", data_dir=tmp_path)
    assert result.returncode == 1 and "not signed in to a server" in result.stderr


def test_backoff_grows_caps_and_spreads() -> None:
    b = Backoff(base_s=5, cap_s=300, jitter=0.2, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(10)]
    assert 4 <= delays[0] <= 6 and 8 <= delays[1] <= 12
    assert all(d <= 360 for d in delays) and max(delays) >= 240
    assert len({round(d, 3) for d in delays[-4:]}) == 4  # jittered, not identical
    b.reset()
    assert b.next_delay() <= 6
