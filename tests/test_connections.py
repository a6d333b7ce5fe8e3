"""Connection failures become one line a person can act on, never a traceback."""

from __future__ import annotations

import pytest

from sync.errors import AuthError, ConfigurationError, TransientError, ValidationError
from sync.server.central import create_engine_for, display_url, health_check, normalise_url
from tests.support.pgcluster import PgCluster, free_port


def test_health_check_passes(pg_url: str) -> None:
    engine = create_engine_for(pg_url)
    health_check(engine)
    engine.dispose()


def test_wrong_password(pg: PgCluster) -> None:
    engine = create_engine_for(pg.url("postgres", password="wrong"))
    with pytest.raises(AuthError, match="login rejected: wrong password for user flourish_su"):
        health_check(engine)


def test_unknown_user(pg: PgCluster) -> None:
    engine = create_engine_for(pg.url("postgres", user="nobody", password="x"))
    with pytest.raises(AuthError, match="login rejected"):
        health_check(engine)


def test_missing_database(pg: PgCluster) -> None:
    engine = create_engine_for(pg.url("no_such_db"))
    with pytest.raises(ConfigurationError, match="database no_such_db does not exist"):
        health_check(engine)


def test_unreachable_port() -> None:
    engine = create_engine_for(f"postgresql://u:p@127.0.0.1:{free_port()}/db", connect_timeout=2)
    with pytest.raises(TransientError, match=r"server unreachable: connection refused \(127"):
        health_check(engine)


def test_tls_required_but_not_offered(pg: PgCluster) -> None:
    engine = create_engine_for(pg.url("postgres") + "?sslmode=require")
    with pytest.raises(ConfigurationError, match="TLS"):
        health_check(engine)


def test_messages_are_one_line_and_hide_passwords(pg: PgCluster) -> None:
    engine = create_engine_for(pg.url("postgres", password="s3cret-pw"))
    with pytest.raises(AuthError) as info:
        health_check(engine)
    assert "\n" not in str(info.value) and "s3cret-pw" not in str(info.value)
    assert display_url("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"


def test_urls_are_checked() -> None:
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg2"
    with pytest.raises(ValidationError, match="must be PostgreSQL"):
        normalise_url("mysql://u@h/db")


@pytest.mark.parametrize("password", ["plain-ascii-pass", "Pa\u00adss-w\u00f6rd-\u2163"])
def test_a_teacher_signs_in_with_the_password_add_teacher_set(pg_url: str, password: str) -> None:
    """add-teacher keeps an argon2 hash for the service and makes no database login; the
    service's sign-in takes exactly that password (non-ASCII included) and nothing else."""
    from sync.server.accounts import SignInRequired, issue_token
    from sync.server.admin import add_teacher
    from sync.service.db import Database, DbSettings
    from tests.support.laptops import admin_rows
    from tests.support.service import service_login_url

    login = add_teacher(pg_url, teacher_id="T001", login="t_saslprep", password=password)
    assert login.created_account
    assert admin_rows(pg_url, "SELECT 1 FROM pg_roles WHERE rolname = 't_saslprep'") == []
    db = Database(DbSettings(url=service_login_url(pg_url), pool_size=1))
    try:
        with db.transaction() as conn:
            _token, who = issue_token(conn, login="t_saslprep", password=password, device_name="x")
        assert who.teacher_id == "T001"
        with pytest.raises(SignInRequired), db.transaction() as conn:
            issue_token(conn, login="t_saslprep", password=password + "x", device_name="x")
    finally:
        db.dispose()
