"""The sync commands of the CLI contract: add-teacher, login, sync, status."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sync.replication.retry import Backoff
from tests.support.pgcluster import PgCluster, free_port
from tests.test_cli import flourish

PASSWORD = "cli-pass-1234"


def teacher_url(pg: PgCluster, admin_url: str, login: str) -> str:
    db = admin_url.rsplit("/", 1)[1]
    return f"postgresql://{login}@127.0.0.1:{pg.port}/{db}"


def test_add_teacher_login_sync_status(pg: PgCluster, pg_url: str, tmp_path: Path) -> None:
    login = "rodriguez_" + pg_url.rsplit("/", 1)[1][:40]
    made = flourish(
        "server",
        "add-teacher",
        "--db",
        pg_url,
        "--id",
        "T001",
        "--login",
        login,
        input_text=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert "teacher T001 found; new login" in made.stdout
    again = flourish(
        "server",
        "add-teacher",
        "--db",
        pg_url,
        "--id",
        "T001",
        "--login",
        login,
        input_text=PASSWORD + "\n",
    )
    assert again.returncode == 0 and "login updated" in again.stdout  # idempotent
    new = flourish(
        "server",
        "add-teacher",
        "--db",
        pg_url,
        "--id",
        "T003",
        "--name",
        "Ms. Okafor",
        "--email",
        "okafor@flourishschools.edu",
        "--login",
        "okafor_" + login[10:],
        input_text=PASSWORD + "\n",
    )
    assert new.returncode == 0 and "teacher T003 created" in new.stdout

    env = {"FLOURISH_PASSWORD": PASSWORD}
    signed = flourish(
        "login",
        "--server",
        teacher_url(pg, pg_url, login),
        "--user",
        login,
        data_dir=tmp_path,
        env=env,
    )
    assert signed.returncode == 0, signed.stderr
    assert "signed in as teacher T001" in signed.stdout
    synced = flourish("sync", data_dir=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr
    students = json.loads(flourish("list", "students", "--json", data_dir=tmp_path).stdout)
    assert [s["id"] for s in students] == ["S001", "S002"]
    status = json.loads(flourish("status", "--json", data_dir=tmp_path, env=env).stdout)
    assert status["server_reachable"] is True
    assert status["pending"] == 0 and status["last_sync"] and status["teacher_id"] == "T001"
    assert PASSWORD not in json.dumps(status)


def test_wrong_password_is_one_line(pg: PgCluster, pg_url: str, tmp_path: Path) -> None:
    login = "thompson_" + pg_url.rsplit("/", 1)[1][:40]
    flourish(
        "server",
        "add-teacher",
        "--db",
        pg_url,
        "--id",
        "T002",
        "--login",
        login,
        input_text=PASSWORD + "\n",
    )
    bad = flourish(
        "login",
        "--server",
        teacher_url(pg, pg_url, login),
        "--user",
        login,
        data_dir=tmp_path,
        env={"FLOURISH_PASSWORD": "nope-nope"},
    )
    assert bad.returncode == 1
    assert "login rejected: wrong password" in bad.stderr and bad.stderr.count("\n") == 1


def test_unreachable_server_status_and_sync(pg: PgCluster, pg_url: str, tmp_path: Path) -> None:
    login = "t001u_" + pg_url.rsplit("/", 1)[1][:40]
    flourish(
        "server",
        "add-teacher",
        "--db",
        pg_url,
        "--id",
        "T001",
        "--login",
        login,
        input_text=PASSWORD + "\n",
    )
    env = {"FLOURISH_PASSWORD": PASSWORD}
    assert (
        flourish(
            "login",
            "--server",
            teacher_url(pg, pg_url, login),
            "--user",
            login,
            data_dir=tmp_path,
            env=env,
        ).returncode
        == 0
    )
    # the server moves: point the store at a port where nothing listens
    from sync.store.local import LocalStore

    with LocalStore.open(tmp_path / "flourish.sqlite3") as store:
        url = store.state("server_url") or ""
        store.set_state({"server_url": url.replace(f":{pg.port}/", f":{free_port()}/")})
    status = json.loads(flourish("status", "--json", data_dir=tmp_path, env=env).stdout)
    assert status["server_reachable"] is False
    assert "server unreachable" in status["server_problem"]
    failed = flourish("sync", data_dir=tmp_path, env=env)
    assert failed.returncode == 1
    assert "server unreachable: connection refused" in failed.stderr
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
