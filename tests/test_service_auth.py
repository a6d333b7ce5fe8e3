"""The Flourish service's sign-in, as a real ``flourish server serve`` process over TLS.

Passwords -> device tokens, 401s that say what to do, IT listing and revoking devices, the
version handshake, JSON errors that name the field — and the two guarantees the service
exists for: a teacher's credentials open no database session, and the database still
refuses another teacher's rows to the service's own connection code.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import psycopg2
import pytest
from sqlalchemy import text

from sync.errors import AuthError, ServerError
from sync.server.admin import add_teacher
from sync.service.db import Database, DbSettings
from tests.support.dblogin import teacher_database_login
from tests.support.laptops import admin_rows
from tests.support.pgcluster import PgCluster
from tests.support.service import ROOT, Service, client_headers, service_login_url

PASSWORD = "teacher-pass-123"
LOGINS = {"T001": "rodriguez", "T002": "chen"}  # no database login by these names


@pytest.fixture(scope="module")
def site(
    pg: PgCluster, _template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Service]]:
    """One database (seed: T001, T002), its teachers' sign-ins, a running service."""
    name = "svc_auth"
    admin_url = pg.create_database(name, template=_template)
    for teacher, login in LOGINS.items():
        add_teacher(admin_url, teacher_id=teacher, login=login, password=PASSWORD)
    service_url = service_login_url(admin_url)
    service = Service(service_url, tmp_path_factory.mktemp("service")).start()
    yield admin_url, service_url, service
    service.stop()
    pg.drop_database(name)


def _login(service: Service, login: str, password: str = PASSWORD, **headers: str):  # type: ignore[no-untyped-def]
    with service.client() as http:
        return http.post(
            "/v1/login",
            json={"login": login, "password": password, "device_name": "laptop-a"},
            headers={**client_headers(), **headers},
        )


def _me(service: Service, token: str):  # type: ignore[no-untyped-def]
    with service.client() as http:
        return http.get("/v1/me", headers={**client_headers(), "Authorization": f"Bearer {token}"})


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from desktop.cli import main; sys.exit(main())", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_health_and_readiness(site: tuple[str, str, Service]) -> None:
    _admin, _svc, service = site
    with service.client() as http:
        health = http.get("/healthz")
        ready = http.get("/readyz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert ready.status_code == 200
    assert (
        ready.json()["schema_revision"]
        == admin_rows(_admin, "SELECT version_num FROM alembic_version")[0][0]
    )


def test_password_gives_a_device_token_for_that_teacher(site: tuple[str, str, Service]) -> None:
    admin_url, _svc, service = site
    answer = _login(service, "rodriguez")
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    assert answer.json()["teacher_id"] == "T001"
    me = _me(service, token)
    assert me.status_code == 200, me.text
    assert me.json()["teacher_id"] == "T001" and me.json()["login"] == "rodriguez"
    # only a hash is kept: the token itself is nowhere in the database
    stored = admin_rows(admin_url, "SELECT token_hash, device_name FROM device_tokens")
    assert all(bytes(h) != token.encode() and len(bytes(h)) == 32 for h, _ in stored)
    assert token not in str(admin_rows(admin_url, "SELECT * FROM device_tokens"))


def test_wrong_password_and_unknown_login_get_the_same_401(site: tuple[str, str, Service]) -> None:
    _admin, _svc, service = site
    wrong = _login(service, "rodriguez", "not-the-password")
    unknown = _login(service, "nobody_here", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert answer.json() == {
            "error": "sign-in rejected: wrong login or password",
            "code": "unauthorized",
        }


def test_revoked_device_is_signed_out_with_a_clear_message(
    site: tuple[str, str, Service],
) -> None:
    admin_url, _svc, service = site
    token = _login(service, "chen").json()["token"]
    other = _login(service, "rodriguez").json()["token"]
    assert _me(service, token).status_code == 200
    (device_id,) = admin_rows(
        admin_url,
        "SELECT id FROM device_tokens WHERE login = 'chen' ORDER BY id DESC LIMIT 1",
    )[0]
    listed = _cli("server", "devices", "--db", admin_url)
    assert listed.returncode == 0, listed.stderr
    assert f"{device_id}  T002  chen  laptop-a" in listed.stdout
    revoked = _cli("server", "revoke-device", "--db", admin_url, str(device_id))
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked device token(s) {device_id}" in revoked.stdout
    answer = _me(service, token)
    assert answer.status_code == 401
    assert answer.json()["error"] == "signed out by your school's IT: sign in again"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert _me(service, other).status_code == 200  # another device is untouched
    again = _cli("server", "revoke-device", "--db", admin_url, "999999")
    assert again.returncode == 1 and "no device 999999" in again.stderr


def test_forged_expired_and_missing_tokens_get_401(site: tuple[str, str, Service]) -> None:
    admin_url, _svc, service = site
    token = _login(service, "rodriguez").json()["token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "flt_" + "x" * 43, "garbage", "flt_"):
        answer = _me(service, bad)
        assert answer.status_code == 401, (bad, answer.text)
        assert "sign in" in answer.json()["error"]
    with service.client() as http:
        bare = http.get("/v1/me", headers=client_headers())
    assert bare.status_code == 401 and "not signed in" in bare.json()["error"]
    admin_rows(
        admin_url,
        "UPDATE device_tokens SET expires_at = now() - interval '1 second' "
        "WHERE id = (SELECT max(id) FROM device_tokens WHERE login = 'rodriguez')",
    )
    expired = _me(service, token)
    assert expired.status_code == 401
    assert expired.json()["error"] == "your sign-in has expired: sign in again"


def test_an_old_client_gets_426_and_nothing_changes(site: tuple[str, str, Service]) -> None:
    admin_url, _svc, service = site
    before = admin_rows(admin_url, "SELECT count(*) FROM device_tokens")
    for version in ("0.0.9", None, "not-a-version"):
        headers = {"Flourish-Version": version} if version else {}
        with service.client() as http:
            answer = http.post(
                "/v1/login",
                json={"login": "rodriguez", "password": PASSWORD, "device_name": "old"},
                headers=headers,
            )
        assert answer.status_code == 426, answer.text
        assert answer.json()["error"].startswith("update Flourish to 0.1.0")
    assert admin_rows(admin_url, "SELECT count(*) FROM device_tokens") == before


def test_malformed_sign_in_is_a_422_that_names_the_field(site: tuple[str, str, Service]) -> None:
    _admin, _svc, service = site
    with service.client() as http:
        missing = http.post(
            "/v1/login", json={"login": "rodriguez", "device_name": "x"}, headers=client_headers()
        )
        not_json = http.post(
            "/v1/login",
            content=b"{not json",
            headers={**client_headers(), "Content-Type": "application/json"},
        )
        bad_login = http.post(
            "/v1/login",
            json={"login": "Robert'); DROP", "password": "x", "device_name": "x"},
            headers=client_headers(),
        )
    assert missing.status_code == 422
    assert missing.json()["error"] == "body.password: field required"
    assert not_json.status_code == 422 and "json" in not_json.json()["error"].lower()
    assert bad_login.status_code == 422 and bad_login.json()["error"].startswith("body.login:")


def test_a_teachers_credentials_open_no_database_session(
    pg: PgCluster, site: tuple[str, str, Service]
) -> None:
    admin_url, _svc, service = site
    assert _login(service, "rodriguez").status_code == 200  # the service accepts them ...
    dsn = pg.dsn("svc_auth", user="rodriguez", password=PASSWORD)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(dsn, connect_timeout=5)  # ... the database does not
    assert admin_rows(admin_url, "SELECT 1 FROM pg_roles WHERE rolname = 'rodriguez'") == []
    roles = admin_rows(
        admin_url,
        "SELECT r.rolname FROM pg_roles r WHERE r.rolcanlogin "
        "AND pg_has_role(r.oid, 'flourish_teacher', 'MEMBER') AND r.rolname IN "
        "(SELECT login FROM teacher_accounts)",
    )
    assert roles == []
    # every session the service holds is its own login's
    sessions = admin_rows(
        admin_url,
        "SELECT DISTINCT usename FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'flourish-service'",
    )
    assert sessions and all(str(u).startswith("svc_") for (u,) in sessions)


def test_the_database_refuses_the_service_another_teachers_rows(
    site: tuple[str, str, Service],
) -> None:
    """A handler that asks for the wrong teacher's rows, through the service's own
    connection code, gets nothing and can change nothing: policies decide, not handlers."""
    _admin, service_url, _service = site
    db = Database(DbSettings(url=service_url, pool_size=1))
    try:
        with db.as_teacher("T001") as conn:
            teachers = {r[0] for r in conn.execute(text("SELECT teacher_id FROM students"))}
            assert teachers == {"T001"}
            hidden = conn.execute(text("UPDATE students SET name = 'X' WHERE teacher_id = 'T002'"))
            assert hidden.rowcount == 0
        with pytest.raises(ServerError, match="row-level security|row level security"):
            with db.as_teacher("T001") as conn:
                conn.execute(
                    text(
                        "INSERT INTO students (id, name, grade, teacher_id, sync_hlc, "
                        "sync_origin) VALUES ('S999', 'Eve Mallory', 7, 'T002', 1, 0)"
                    )
                )
        with pytest.raises(AuthError, match="permission denied"):
            with db.as_teacher("T001") as conn:  # the sign-in tables are not the teacher's
                conn.execute(text("SELECT password_hash FROM teacher_accounts"))
        with pytest.raises(AuthError, match="permission denied"):
            with db.transaction() as conn:  # the service's login itself reads no student
                conn.execute(text("SELECT * FROM students"))
        with pytest.raises(ServerError):
            with db.transaction() as conn:  # nor may it take a role it was not given
                conn.execute(text("SET LOCAL ROLE flourish_admin"))
        with db.transaction() as conn:  # outside a request it is nobody's teacher
            assert conn.execute(text("SELECT current_teacher_id()")).scalar() is None
    finally:
        db.dispose()


def test_the_service_refuses_to_run_as_an_admin_login(site: tuple[str, str, Service]) -> None:
    admin_url, _svc, _service = site
    db = Database(DbSettings(url=admin_url, pool_size=1))
    try:
        with pytest.raises(ServerError, match="must not be a superuser"):
            db.check_service_login()
    finally:
        db.dispose()


def test_a_direct_login_cannot_claim_a_teacher_through_the_setting(
    pg: PgCluster, site: tuple[str, str, Service]
) -> None:
    """flourish.teacher_id counts only for the service's login."""
    admin_url, _svc, _service = site
    # a login Flourish no longer makes, made by hand (tests/support/dblogin.py)
    teacher_database_login(admin_url, login="direct_t1", teacher_id="T001", password=PASSWORD)
    conn = psycopg2.connect(pg.dsn("svc_auth", user="direct_t1", password=PASSWORD))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('flourish.teacher_id', 'T002', false)")
            cur.execute("SELECT current_teacher_id(), array_agg(DISTINCT teacher_id) FROM students")
            assert cur.fetchone() == ("T001", ["T001"])
    finally:
        conn.close()


def test_password_guessing_is_slowed_to_ten_tries_a_minute(site: tuple[str, str, Service]) -> None:
    _admin, _svc, service = site
    answers = [_login(service, "guesser", f"guess-{n}") for n in range(11)]
    assert [a.status_code for a in answers] == [401] * 10 + [429]
    assert answers[-1].json()["error"].startswith("too many sign-in attempts: try again in")
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert _login(service, "chen").status_code == 200  # other logins are not held up


def test_an_oversized_body_is_a_413_before_any_handler(site: tuple[str, str, Service]) -> None:
    from fastapi.testclient import TestClient

    from sync.service.app import create_app

    _admin, service_url, _service = site
    with TestClient(create_app(DbSettings(url=service_url, pool_size=1))) as http:
        answer = http.post(
            "/v1/login",
            content=b"x" * (8 * 1024 * 1024 + 1),
            headers={**client_headers(), "Content-Type": "application/json"},
        )
    assert answer.status_code == 413
    assert answer.json() == {"error": "request body over 8388608 bytes", "code": "too_large"}
