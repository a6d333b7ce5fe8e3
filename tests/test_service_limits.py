"""What the service refuses, and how: rates, batch sizes, timeouts and malformed input.

The app runs in-process (Starlette's TestClient drives the real ASGI app) on a real
PostgreSQL database, so each test can give it limits small enough to reach quickly.
Every refusal is a 4xx (or a 503 the laptop retries) with a JSON error naming what is
wrong; never a 500.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from sync.errors import TransientError
from sync.server.admin import add_teacher
from sync.service.app import create_app
from sync.service.db import Database, DbSettings
from sync.service.limits import Limits
from tests.support.pgcluster import PgCluster
from tests.support.service import client_headers, service_login_url

PASSWORD = "teacher-pass-123"


@pytest.fixture(scope="module")
def urls(pg: PgCluster, _template: str) -> Iterator[tuple[str, str]]:
    """(admin URL, service login URL) of a database with T001 and T002 signed up."""
    name = "svc_limits"
    admin_url = pg.create_database(name, template=_template)
    for teacher, login in {"T001": "lim_one", "T002": "lim_two"}.items():
        add_teacher(admin_url, teacher_id=teacher, login=login, password=PASSWORD)
    yield admin_url, service_login_url(admin_url)
    pg.drop_database(name)


def _app(service_url: str, **limits: Any) -> TestClient:
    settings = DbSettings(url=service_url, pool_size=2, lock_timeout_ms=300)
    return TestClient(create_app(settings, limits=Limits(**limits)), raise_server_exceptions=False)


def _sign_in(http: TestClient, login: str = "lim_one") -> dict[str, str]:
    answer = http.post(
        "/v1/login",
        json={"login": login, "password": PASSWORD, "device_name": "limits"},
        headers=client_headers(),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}", **client_headers()}


def _register(http: TestClient, auth: dict[str, str]) -> int:
    answer = http.post(
        "/v1/sync/register",
        json={"device_uuid": str(uuid.uuid4()), "hostname": "limits"},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["device_no"])


def test_each_device_has_its_own_rate_answered_with_429_and_retry_after(
    urls: tuple[str, str],
) -> None:
    with _app(urls[1], device_per_second=2.0, device_burst=3) as http:
        first, second = _sign_in(http), _sign_in(http)
        answers = [http.get("/v1/sync/hello", headers=first) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["code"] == "rate_limited"
        assert "at most 2 a second, 3 at once" in refused.json()["error"]
        # another device of the same teacher keeps its own bucket
        assert http.get("/v1/sync/hello", headers=second).status_code == 200
        time.sleep(0.6)  # one request is back after 0.5 s
        assert http.get("/v1/sync/hello", headers=first).status_code == 200
        assert http.get("/v1/sync/hello", headers=first).status_code == 429


def _op(op_id: int, payload: str) -> dict[str, Any]:
    return {
        "op_id": op_id,
        "table": "skill_targets",
        "row_pk": str(op_id),
        "op": "upsert",
        "payload": payload,
        "sync_hlc": 1,
    }


def test_a_push_over_the_batch_limits_is_a_413_naming_the_limit(
    urls: tuple[str, str],
) -> None:
    with _app(urls[1]) as http:
        auth = _sign_in(http)
        device = _register(http, auth)
        body = {"device_no": device, "client_now_ms": 1, "ops": [_op(1, "{}")] * 2001}
        many = http.post("/v1/sync/push", json=body, headers=auth)
        big = "x" * (2 * 1024 * 1024 + 100)
        body = {"device_no": device, "client_now_ms": 1, "ops": [_op(1, big), _op(2, big)]}
        heavy = http.post("/v1/sync/push", json=body, headers=auth)
    assert many.status_code == 413 and many.json()["code"] == "batch_too_large"
    assert many.json()["error"].startswith("body.ops: a push takes at most 2000 operations")
    assert heavy.status_code == 413
    assert "at most 4194304 bytes of payloads, this one has 4194504" in heavy.json()["error"]


def test_timeouts_are_set_per_transaction_not_on_the_session(urls: tuple[str, str]) -> None:
    db = Database(
        DbSettings(
            url=urls[1],
            pool_size=1,
            max_overflow=0,
            statement_timeout_ms=1500,
            lock_timeout_ms=700,
            idle_in_transaction_timeout_ms=900,
        )
    )
    try:
        with db.transaction() as conn:
            inside = [
                conn.execute(text(f"SHOW {name}")).scalar()
                for name in (
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                    "TimeZone",
                )
            ]
        with db.engine.connect() as conn:  # the same pooled connection, outside it
            after = conn.execute(text("SHOW statement_timeout")).scalar()
        with pytest.raises(TransientError, match="statement timeout"):
            with db.transaction() as conn:
                conn.execute(text("SELECT pg_sleep(3)"))
        with pytest.raises(TransientError, match="connection"):
            with db.transaction() as conn:
                conn.execute(text("SELECT 1"))
                time.sleep(1.5)  # idle in the transaction past its timeout
                conn.execute(text("SELECT 1"))
    finally:
        db.dispose()
    assert inside == ["1500ms", "700ms", "900ms", "UTC"]
    assert after == "0"  # nothing stays on the session: a transaction-mode pooler is fine


def test_a_locked_table_stalls_no_request_past_the_lock_timeout(urls: tuple[str, str]) -> None:
    admin_url, service_url = urls
    locker = psycopg2.connect(admin_url)
    try:
        with _app(service_url) as http:
            auth = _sign_in(http)
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE teachers IN ACCESS EXCLUSIVE MODE")
            start = time.monotonic()
            answer = http.get("/v1/me", headers=auth)
            took = time.monotonic() - start
            locker.rollback()
            assert http.get("/v1/me", headers=auth).status_code == 200
    finally:
        locker.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "lock timeout" in answer.json()["error"]
    assert took < 3.0  # 300 ms of lock wait, not forever


MALFORMED: list[tuple[str, str, Any, str]] = [
    # (method, path, body: raw bytes or JSON, what the error must name)
    ("POST", "/v1/sync/push", b"{not json", "body"),
    ("POST", "/v1/sync/push", [], "body"),
    ("POST", "/v1/sync/push", {"device_no": "one", "client_now_ms": 1, "ops": []}, "device_no"),
    ("POST", "/v1/sync/push", {"device_no": 1, "client_now_ms": -5, "ops": []}, "client_now_ms"),
    ("POST", "/v1/sync/push", {"device_no": 1, "client_now_ms": 1, "ops": {}}, "body.ops"),
    ("POST", "/v1/sync/push", {"device_no": 1, "client_now_ms": 1, "ops": [{}]}, "body.ops.0"),
    ("POST", "/v1/sync/register", {"device_uuid": "not-a-uuid", "hostname": "x"}, "device_uuid"),
    ("POST", "/v1/sync/register", {"device_uuid": str(uuid.uuid4()), "hostname": ""}, "hostname"),
    ("POST", "/v1/sync/pull/rows", {"table": "pg_authid", "by": "id", "value": "1"}, "table"),
    ("POST", "/v1/sync/pull/rows", {"table": "students", "by": "name", "value": "1"}, "by"),
    (
        "POST",
        "/v1/sync/pull/page",
        {
            "step": "students",
            "lo": "9",
            "hi": "1",
            "after_txid": "0",
            "after_version": 0,
            "limit": 10,
        },
        "body.lo",
    ),
    (
        "POST",
        "/v1/sync/pull/page",
        {
            "step": "students",
            "lo": "0",
            "hi": "1",
            "after_txid": "0",
            "after_version": 0,
            "limit": 10**9,
        },
        "limit",
    ),
    ("POST", "/v1/login", {"login": "x", "password": "y"}, "device_name"),
    (
        "POST",
        "/v1/login",
        {"login": "Robert'); DROP", "password": "y", "device_name": "d"},
        "login",
    ),
    ("GET", "/v1/sync/wait?timeout=-1", None, "timeout"),
    ("GET", "/v1/nowhere", None, "not found"),
    ("DELETE", "/v1/sync/push", None, "not allowed"),
]


@pytest.mark.parametrize("method, path, body, names", MALFORMED)
def test_malformed_requests_get_a_4xx_json_error_naming_the_problem(
    urls: tuple[str, str], method: str, path: str, body: Any, names: str
) -> None:
    with _app(urls[1]) as http:
        auth = _sign_in(http)
        content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
        answer = http.request(
            method, path, content=content, headers={**auth, "Content-Type": "application/json"}
        )
    assert 400 <= answer.status_code < 500, answer.text
    error = answer.json()["error"]
    assert names.lower() in error.lower(), error


BAD_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("not JSON", {"payload": "{oops"}),
    ("a list", {"payload": "[1, 2]"}),
    ("an id that is not the row's", {"row_pk": "77"}),
    ("an unknown table", {"table": "pg_authid"}),
    ("a date that is no date", {"assigned_at": "2026-13-45T99:00:00"}),
    ("a level outside the rubric", {"target_level": "Wizard"}),
    ("a student that does not exist", {"student_id": "S999"}),
    ("another teacher's student", {"student_id": "S004"}),
    ("a number for a name", {"skill_name": 12345}),
    ("an overlong text", {"skill_name": "x" * 5000}),
    ("an id out of range", {"id": 10**30, "row_pk": str(10**30)}),
]


def test_bad_rows_in_a_push_are_refused_one_by_one_never_a_500(urls: tuple[str, str]) -> None:
    """Rows the database would refuse are answered per operation (quarantined on the
    laptop with the reason); the good operation of the same batch is applied."""
    with _app(urls[1]) as http:
        auth = _sign_in(http)
        device = _register(http, auth)
        hello = http.get("/v1/sync/hello", headers=auth).json()
        assert hello["teacher_id"] == "T001"
        base = device * 1_000_000_000
        good_row = {
            "id": base + 1,
            "student_id": "S001",
            "skill_name": "Evidence-Based Reasoning",
            "starting_level": "Emerging",
            "target_level": "Advanced",
            "assigned_by": "T001",
            "assigned_at": "2026-12-01T10:00:00",
            "completed": 0,
            "completed_at": None,
            "sync_hlc": 5,
            "sync_origin": device,
            "sync_version": 0,
        }
        ops = [_op(1, json.dumps(good_row)) | {"row_pk": str(base + 1), "sync_hlc": 5}]
        for n, (_why, change) in enumerate(BAD_ROWS, start=2):
            row = {**good_row, "id": base + n, "skill_name": f"Skill {n}"}
            op = _op(n, "") | {"row_pk": str(base + n), "sync_hlc": 5}
            fields = {k: v for k, v in change.items() if k in op}
            row.update({k: v for k, v in change.items() if k not in op})
            op.update({"payload": json.dumps(row), **fields})
            ops.append(op)
        answer = http.post(
            "/v1/sync/push",
            json={"device_no": device, "client_now_ms": 1, "ops": ops},
            headers=auth,
        )
    assert answer.status_code == 200, answer.text
    results = {r["op_id"]: r for r in answer.json()["results"]}
    assert results[1]["status"] == "applied", results[1]
    for n, (why, _change) in enumerate(BAD_ROWS, start=2):
        assert results[n]["status"] != "applied", (why, results[n])
        assert results[n].get("reason"), (why, results[n])


def test_concurrent_requests_share_the_pool_without_errors(urls: tuple[str, str]) -> None:
    """More requests at once than pooled connections: they queue, nobody gets a 500."""
    with _app(urls[1]) as http:
        auth = _sign_in(http)
        statuses: list[int] = []

        def call() -> None:
            statuses.append(http.get("/v1/sync/hello", headers=auth).status_code)

        threads = [threading.Thread(target=call) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert statuses == [200] * 12
