"""Sync through a real ``flourish server serve`` process: what only the service path has.

The shared proofs (tests/test_sync_*.py) run through the service too; here: another
teacher's device, exactly-once pushes answered by the service, the version handshake and
malformed pushes, revocation mid-use, and the ``flourish login --server https://...
--ca-cert`` / ``flourish sync`` commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync import actions
from sync.errors import AuthError, ConfigurationError
from sync.model.curriculum import load_curriculum
from sync.replication.client.http import ServiceClient
from sync.replication.wire import PULL_STEPS, exchanged_columns, parse_op
from sync.store.local import LocalStore, sqlite_of
from tests.support.laptops import PASSWORD, Laptop, Server, admin_rows, load_demo, make_server
from tests.support.pgcluster import PgCluster
from tests.support.service import ROOT, client_headers


@pytest.fixture(scope="module")
def server(
    pg: PgCluster, _template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    name = "svc_sync"
    url = pg.create_database(name, template=_template)
    load_demo(url)
    made = make_server(url).serve(tmp_path_factory.mktemp("service"))
    yield made
    made.stop()
    pg.drop_database(name)


@pytest.fixture
def laptop(server: Server, tmp_path: Path) -> Iterator[Laptop]:
    lap = Laptop(server, "T001", tmp_path / "L1")
    yield lap
    lap.close()


def _client(server: Server, token: str | None) -> ServiceClient:
    assert server.service is not None
    return ServiceClient(server.service.url, token=token, ca_file=str(server.service.tls.ca))


def _queued(store: LocalStore) -> list[tuple[int, str, str, str, str, int]]:
    with store.read() as conn:
        rows = sqlite_of(conn).execute(
            "SELECT op_id, table_name, row_pk, op, payload, sync_hlc FROM sync_operations "
            "WHERE status = 'pending' ORDER BY op_id"
        )
        return [tuple(r) for r in rows]


def _a_change(laptop: Laptop) -> None:
    """A new skill target for the laptop's first student (pulled first if need be)."""
    if laptop.store.state("pull_cursor") in (None, "0"):
        laptop.sync()
    with laptop.store.read() as conn:
        db = sqlite_of(conn)
        taken = set(
            db.execute("SELECT student_id, skill_name FROM skill_targets WHERE completed = 0")
        )
        students = [r[0] for r in db.execute("SELECT id FROM students ORDER BY id")]
    skills = [k.name for k in load_curriculum().skills]
    student, skill = next((s, k) for s in students for k in skills if (s, k) not in taken)
    actions.assign_target(
        laptop.store,
        student_id=student,
        skill_name=skill,
        target_level="Advanced",
        teacher_id="T001",
    )


def test_a_resent_batch_is_applied_once(server: Server, laptop: Laptop) -> None:
    laptop.sync()
    _a_change(laptop)
    queued = _queued(laptop.store)
    assert queued
    ops = [parse_op(*q, laptop.device_no) for q in queued]
    client = _client(server, laptop.result.token)
    try:
        first = client.push(laptop.device_no, ops, laptop.store.clock())
        again = client.push(laptop.device_no, ops, laptop.store.clock())
    finally:
        client.close()
    assert {r.status for r in first.results} == {"applied"}
    assert {r.status for r in again.results} == {"duplicate"}


def test_another_teachers_token_cannot_use_this_laptop(server: Server, laptop: Laptop) -> None:
    other = _client(server, None)
    try:
        other.sign_in(server.logins["T002"], PASSWORD, "someone-elses")
        with pytest.raises(AuthError, match="belongs to another teacher"):
            other.register(str(laptop.store.state("device_uuid")), "borrowed")
        _a_change(laptop)
        ops = [parse_op(*q, laptop.device_no) for q in _queued(laptop.store)]
        with pytest.raises(AuthError, match=f"device {laptop.device_no} is not registered"):
            other.push(laptop.device_no, ops, laptop.store.clock())
    finally:
        other.close()
    laptop.sync()  # its own teacher's token still works, and the change goes through
    assert not _queued(laptop.store)


def test_an_old_client_or_a_malformed_push_changes_nothing(server: Server, laptop: Laptop) -> None:
    assert server.service is not None
    laptop.sync()
    _a_change(laptop)
    op_id, table, pk, kind, payload, stamp = _queued(laptop.store)[0]
    op = {"op_id": op_id, "table": table, "row_pk": pk, "op": kind, "payload": payload}
    op["sync_hlc"] = stamp
    before = admin_rows(server.admin_url, "SELECT count(*), max(sync_version) FROM skill_targets")
    auth = {"Authorization": f"Bearer {laptop.result.token}"}
    body = {"device_no": laptop.device_no, "client_now_ms": laptop.store.clock(), "ops": [op]}
    with server.service.client() as http:
        old = http.post("/v1/sync/push", json=body, headers={**auth, "Flourish-Version": "0.0.1"})
        bad_kind = http.post(
            "/v1/sync/push",
            json={**body, "ops": [{**op, "op": "drop"}]},
            headers={**auth, **client_headers()},
        )
        no_device = http.post(
            "/v1/sync/push",
            json={k: v for k, v in body.items() if k != "device_no"},
            headers={**auth, **client_headers()},
        )
        too_many = http.post(
            "/v1/sync/push",
            json={**body, "ops": [op] * 2001},
            headers={**auth, **client_headers()},
        )
        page = http.post(
            "/v1/sync/pull/page",
            json={
                "step": "pg_authid",
                "lo": "0",
                "hi": "1",
                "after_txid": "0",
                "after_version": 0,
                "limit": 10,
            },
            headers={**auth, **client_headers()},
        )
    assert old.status_code == 426 and old.json()["error"].startswith("update Flourish to")
    assert bad_kind.status_code == 422 and bad_kind.json()["error"].startswith("body.ops.0.op:")
    assert no_device.status_code == 422
    assert no_device.json()["error"] == "body.device_no: field required"
    assert too_many.status_code == 413
    assert too_many.json()["error"].startswith("body.ops: a push takes at most 2000 operations")
    assert page.status_code == 422 and page.json()["error"].startswith("body.step:")
    after = admin_rows(server.admin_url, "SELECT count(*), max(sync_version) FROM skill_targets")
    assert after == before


def test_a_revoked_laptop_is_told_to_sign_in_again(server: Server, tmp_path: Path) -> None:
    lap = Laptop(server, "T001", tmp_path / "L9")
    try:
        lap.sync()
        admin_rows(
            server.admin_url,
            "UPDATE device_tokens SET revoked_at = now() WHERE id = "
            "(SELECT max(id) FROM device_tokens)",
        )
        with pytest.raises(AuthError, match="signed out by your school's IT: sign in again"):
            lap.sync()
        assert "signed out by your school's IT" in (lap.store.state("last_error") or "")
    finally:
        lap.close()


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
    )


def test_login_and_sync_commands_through_the_service(server: Server, tmp_path: Path) -> None:
    assert server.service is not None
    url, ca = server.service.url, str(server.service.tls.ca)
    user = server.logins["T001"]
    untrusted = _cli(
        tmp_path / "a", "login", "--server", url, "--user", user, FLOURISH_PASSWORD=PASSWORD
    )
    assert untrusted.returncode == 1
    assert "TLS: the server certificate could not be verified" in untrusted.stderr
    wrong = _cli(
        tmp_path / "b",
        "login",
        "--server",
        url,
        "--user",
        user,
        "--ca-cert",
        ca,
        FLOURISH_PASSWORD="not-it-at-all",
    )
    assert wrong.returncode == 1 and "wrong login or password" in wrong.stderr
    signed = _cli(
        tmp_path / "c",
        "login",
        "--server",
        url,
        "--user",
        user,
        "--ca-cert",
        ca,
        FLOURISH_PASSWORD=PASSWORD,
    )
    assert signed.returncode == 0, signed.stderr
    assert "signed in as teacher T001" in signed.stdout
    token = signed.stdout.split("FLOURISH_TOKEN=", 1)[1].split()[0]
    synced = _cli(tmp_path / "c", "sync", FLOURISH_TOKEN=token)
    assert synced.returncode == 0, synced.stderr
    assert "pulled" in synced.stdout
    status = _cli(tmp_path / "c", "status", "--json", FLOURISH_TOKEN=token)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["server"] == url and shown["server_reachable"] is True
    assert shown["server_problem"] is None and shown["pending"] == 0
    anonymous = _cli(tmp_path / "c", "sync")  # no token anywhere
    assert anonymous.returncode == 1 and "sign in again" in anonymous.stderr


def test_a_foreign_certificate_is_refused(server: Server, tmp_path: Path) -> None:
    from tests.support.service import make_tls

    assert server.service is not None
    other = make_tls(tmp_path / "other")
    client = ServiceClient(server.service.url, ca_file=str(other.ca))
    try:
        with pytest.raises(ConfigurationError, match="could not be verified"):
            client.sign_in(server.logins["T001"], PASSWORD, "x")
    finally:
        client.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.service.url + "/healthz", verify=True)


def test_one_pages_request_holds_what_the_per_step_pages_hold(
    laptop: Laptop, server: Server
) -> None:
    """``/v1/sync/pull/pages`` crosses steps under one row budget and hands out where to go
    on; followed to the end it yields exactly the rows, in the order, that the per-step
    ``/v1/sync/pull/page`` requests (kept for older laptops) yield."""
    client = _client(server, laptop.token)
    try:
        hi = client.window_hi()
        steps: list[tuple[str, tuple[object, ...]]] = []
        for step in PULL_STEPS:
            after: tuple[str, int] = ("0", 0)
            while True:
                rows = client.page(step, "0", hi, after, 7)
                steps += [(step, r) for r in rows]
                if len(rows) < 7:
                    break
                last = rows[-1]
                plain = step in ("tombstones", "visibility")
                version = last[-1] if plain else last[exchanged_columns(step).index("sync_version")]
                after = (str(last[-2] if plain else last[-1]), int(str(version)))
        combined: list[tuple[str, tuple[object, ...]]] = []
        requests = 0
        position: tuple[str, tuple[str, int]] | None = (PULL_STEPS[0], ("0", 0))
        while position is not None:
            found, position = client.pages("0", hi, position[0], position[1], 7)
            requests += 1
            assert sum(len(rows) for _step, rows in found) <= 7
            combined += [(step, r) for step, rows in found for r in rows]
    finally:
        client.close()
    assert len(steps) > 7 * len(PULL_STEPS)  # the demo fills more than a page per step
    assert combined == steps
    assert requests == len(steps) // 7 + 1


def test_an_incremental_sync_is_four_requests(laptop: Laptop) -> None:
    """hello, push, the window's bound and one pages request for every step."""
    laptop.sync()
    _a_change(laptop)
    sent: list[str] = []
    http = laptop.engine._client().http
    http.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    report = laptop.sync()
    assert report.pushed == 1
    assert sent == [
        "/v1/sync/hello",
        "/v1/sync/push",
        "/v1/sync/pull/window",
        "/v1/sync/pull/pages",
    ]
