"""The sync loop retries on its own: an offline laptop catches up without a new write."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sync import actions
from sync.replication.engine import SyncEngine
from sync.replication.retry import Backoff
from sync.replication.worker import SyncLoop, SyncState, SyncStatus, outcome_of
from sync.server.central import create_engine_for
from tests.support.faultproxy import FaultProxy
from tests.support.laptops import Laptop, Server, make_server


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    """Teacher T001 behind a real service process; the laptops sync through it."""
    made = make_server(pg_url, teachers=("T001",), database_logins=False)
    made.serve(tmp_path / "service")
    yield made
    made.stop()


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    """A TCP fault proxy between the laptop and the service."""
    p = FaultProxy(server.running().port)
    yield p
    p.close()


def wait_for(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_offline_laptop_catches_up_on_its_own(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    lap = Laptop(server, "T001", tmp_path / "L", url=proxy.url(server.running().url))
    lap.sync()
    lap.engine.close()
    proxy.go_offline()
    statuses: list[SyncStatus] = []
    loop = SyncLoop(
        lap.store,
        engine_factory=lambda store: SyncEngine.from_store(store, token=lap.token),
        backoff=Backoff(base_s=0.1, cap_s=0.4, jitter=0.2),
        interval_s=60,
        on_status=statuses.append,
    )
    try:
        actions.add_entry(
            lap.store,
            student_id="S001",
            teacher_id="T001",
            entry_type="parent_note",
            content="Written while offline.",
        )
        loop.start()
        assert wait_for(lambda: loop.attempts >= 3)
        offline = [s for s in statuses if s.state is SyncState.OFFLINE]
        assert offline and offline[-1].pending == 1
        retry_at = offline[-1].next_retry_at
        assert retry_at is not None and offline[-1].counted_at is not None
        assert (retry_at - offline[-1].counted_at).total_seconds() <= 0.5
        assert offline[-1].message  # "server unreachable" or "connection ... lost"
        proxy.go_online()  # no new local write, no request(): the timer alone retries
        assert wait_for(
            lambda: loop.status().state is SyncState.IDLE and loop.status().pending == 0
        )
        assert loop.status().last_sync is not None
        engine = create_engine_for(server.admin_url)
        with engine.connect() as conn:
            n = conn.execute(
                text("SELECT COUNT(*) FROM data_entries WHERE content = 'Written while offline.'")
            ).scalar()
        engine.dispose()
        assert n == 1
    finally:
        loop.stop(timeout=10)
        lap.close()


def test_a_request_syncs_right_away(server: Server, tmp_path: Path) -> None:
    lap = Laptop(server, "T001", tmp_path / "L")
    lap.engine.close()
    loop = SyncLoop(
        lap.store,
        engine_factory=lambda store: SyncEngine.from_store(store, token=lap.token),
        interval_s=3600,
    )
    try:
        loop.start()
        assert wait_for(lambda: loop.status().state is SyncState.IDLE)
        actions.add_entry(
            lap.store,
            student_id="S001",
            teacher_id="T001",
            entry_type="parent_note",
            content="Now.",
        )
        loop.request()
        assert wait_for(lambda: loop.attempts == 2 and loop.status().pending == 0)
    finally:
        loop.stop(timeout=10)
        lap.close()


def test_not_configured_waits_quietly(tmp_path: Path) -> None:
    from sync.store.local import LocalStore

    with LocalStore.open(tmp_path / "flourish.sqlite3") as store:
        loop = SyncLoop(store)
        loop.start()
        try:
            assert wait_for(lambda: loop.status().state is SyncState.LOCAL_ONLY and loop.rounds)
            time.sleep(0.3)
            assert loop.attempts == 1  # no busy retrying without a server
        finally:
            loop.stop(timeout=10)


def test_a_database_address_waits_for_the_teacher_with_the_ask_it_message(
    server: Server, tmp_path: Path
) -> None:
    """A store an older version signed in to the database itself: the loop says what to do
    once and does not knock again; the queue stays."""
    lap = Laptop(server, "T001", tmp_path / "L")
    lap.sync()
    lap.engine.close()
    actions.add_entry(
        lap.store, student_id="S001", teacher_id="T001", entry_type="parent_note", content="Kept."
    )
    lap.store.set_state({"server_url": "postgresql://t001@127.0.0.1:5432/district"})
    loop = SyncLoop(
        lap.store,
        engine_factory=lambda store: SyncEngine.from_store(store, token=lap.token),
        backoff=Backoff(base_s=0.01, cap_s=0.01),
    )
    try:
        loop.start()
        assert wait_for(lambda: loop.rounds == 1)
        time.sleep(0.3)
        status = loop.status()
        assert loop.attempts == 1 and status.state is SyncState.NEEDS_ATTENTION
        assert "ask IT for its https address" in status.message
        assert status.pending == 1
    finally:
        loop.stop(timeout=10)
        lap.close()


@pytest.mark.parametrize(
    ("error", "state", "retry"),
    [
        ("TransientError", SyncState.OFFLINE, True),
        ("AuthError", SyncState.NEEDS_ATTENTION, False),
        ("SchemaVersionError", SyncState.NEEDS_ATTENTION, False),
        ("ConfigurationError", SyncState.NEEDS_ATTENTION, False),
        ("NotConfigured", SyncState.LOCAL_ONLY, False),
        ("StoreError", SyncState.NEEDS_ATTENTION, True),
        ("RuntimeError", SyncState.NEEDS_ATTENTION, True),
    ],
)
def test_one_retry_policy_for_the_app_and_the_command_line(
    error: str, state: SyncState, retry: bool
) -> None:
    """The app's worker and ``flourish sync --watch`` run the same loop, so a rejected
    sign-in waits for the teacher in both (it used to be retried for ever by one of them)."""
    import sync.errors
    import sync.replication.engine

    cls = getattr(sync.errors, error, None) or getattr(sync.replication.engine, error, None)
    exc = cls("x") if cls is not None else RuntimeError("x")
    outcome = outcome_of(exc)
    assert (outcome.state, outcome.retry) == (state, retry)


def test_an_auth_error_waits_for_the_teacher(tmp_path: Path) -> None:
    from sync.errors import AuthError
    from sync.store.local import LocalStore

    def refused(_store: LocalStore) -> SyncEngine:
        raise AuthError("password authentication failed")

    with LocalStore.open(tmp_path / "flourish.sqlite3") as store:
        loop = SyncLoop(store, engine_factory=refused, backoff=Backoff(base_s=0.01, cap_s=0.01))
        loop.start()
        try:
            assert wait_for(lambda: loop.rounds == 1)
            time.sleep(0.3)
            assert loop.attempts == 1 and loop.status().state is SyncState.NEEDS_ATTENTION
            assert loop.status().message.startswith("Sign-in needed")
            loop.request(force=False)  # a local change does not knock again
            time.sleep(0.2)
            assert loop.attempts == 1
            loop.reconfigured()  # a new sign-in does
            assert wait_for(lambda: loop.attempts == 2)
        finally:
            loop.stop(timeout=10)
