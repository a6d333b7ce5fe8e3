"""Sync under the known hard problems: commit order, clocks, bad input, versions, networks.

Every laptop here syncs through a real ``flourish server serve`` process on 127.0.0.1;
the network faults sit between laptop and service and between service and database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from sync import actions
from sync.errors import SchemaVersionError, TransientError
from sync.model.crud import ASSESSMENTS, CORRECTIONS, STUDENTS
from sync.replication.client.pull import Cancelled
from sync.replication.engine import SyncEngine
from sync.store import hlc as hlclock
from tests.support.compare import differences, local_slice, server_slice
from tests.support.faultproxy import FaultProxy
from tests.support.laptops import PASSWORD, Laptop, Server, served
from tests.support.laptops import admin_rows as rows_as_admin
from tests.support.pgcluster import PgCluster
from tests.support.service import Service

DAY_MS = 86_400_000


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    made = served(pg_url, tmp_path / "service")
    yield made
    made.stop()


def admin_rows(server: Server, sql: str, **params: object) -> list[tuple[object, ...]]:
    return rows_as_admin(server.admin_url, sql, **params)


# -- the commit-safe cursor ---------------------------------------------------------------


def test_cursor_never_skips_a_transaction_that_commits_late(
    server: Server, pg: PgCluster, tmp_path: Path
) -> None:
    laptop = Laptop(server, "T001", tmp_path / "L")
    naive_cursor = int(admin_rows(server, "SELECT last_value FROM sync_version_seq")[0][0])
    try:
        laptop.sync()
        slow = psycopg2.connect(pg.dsn(server.dbname))
        fast = psycopg2.connect(pg.dsn(server.dbname))
        with slow.cursor() as cur:  # transaction A takes its version first ...
            cur.execute("UPDATE students SET name = 'Eva (A)' WHERE id = 'S001'")
        with fast.cursor() as cur:  # ... B takes a later one and commits first
            cur.execute("UPDATE students SET name = 'Lucas (B)' WHERE id = 'S002'")
        fast.commit()

        # A naive puller ("every version above the last one I saw") reads now ...
        seen = admin_rows(
            server, "SELECT id, sync_version FROM students WHERE sync_version > :c", c=naive_cursor
        )
        assert [r[0] for r in seen] == ["S002"]
        naive_cursor = max(int(r[1]) for r in seen)  # type: ignore[call-overload]
        # ... and ours too.
        laptop.sync()
        slow.commit()  # A commits after both pulls
        late = admin_rows(server, "SELECT id FROM students WHERE sync_version > :c", c=naive_cursor)
        assert late == []  # the naive cursor has skipped A's change for ever
        laptop.sync()
        with laptop.store.read() as conn:
            names = {s.id: s.name for s in STUDENTS.list(conn)}
        assert names == {"S001": "Eva (A)", "S002": "Lucas (B)"}  # ours has both
        slow.close()
        fast.close()
    finally:
        laptop.close()


def test_cursor_holds_back_rows_of_running_transactions(
    server: Server, pg: PgCluster, tmp_path: Path
) -> None:
    laptop = Laptop(server, "T001", tmp_path / "L")
    try:
        laptop.sync()
        slow = psycopg2.connect(pg.dsn(server.dbname))
        with slow.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()")  # a transaction that stays open
        admin_rows(server, "UPDATE students SET grade = 8 WHERE id = 'S002'")
        first = laptop.sync()
        assert first.pull.rows == 0  # committed, but behind a running transaction: wait
        slow.rollback()
        second = laptop.sync()
        assert second.pull.rows == 1
        slow.close()
    finally:
        laptop.close()


# -- clocks ---------------------------------------------------------------------------


def test_a_laptop_a_day_fast_does_not_win_over_a_later_change(
    server: Server, tmp_path: Path
) -> None:
    fast = Laptop(server, "T001", tmp_path / "fast")
    right = Laptop(server, "T001", tmp_path / "right")
    try:
        fast.sync()
        right.sync()
        fast.store.clock = lambda: hlclock.now_millis() + DAY_MS
        actions.correct(fast.store, assessment_id=4, teacher_id="T001", level=1)  # earlier
        time.sleep(0.01)
        later = actions.correct(right.store, assessment_id=4, teacher_id="T001", level=4).value
        right.sync()
        report = fast.sync()
        assert report.lost == 1
        assert admin_rows(
            server, "SELECT id, corrected_level FROM teacher_corrections WHERE assessment_id = 4"
        ) == [(later.id, "Advanced")]
        events = admin_rows(server, "SELECT kind, detail->>'skew_ms' FROM sync_events")
        assert events and events[0][0] == "clock_skew"
        assert abs(int(str(events[0][1])) - DAY_MS) < 60_000
        offset = int(fast.store.state("clock_offset_ms") or 0)
        assert abs(offset + DAY_MS) < 60_000  # the laptop learnt its clock is a day fast
        # From now on its stamps are right: a new change made later wins normally.
        time.sleep(0.01)
        actions.correct(fast.store, assessment_id=4, teacher_id="T001", level=2)
        fast.sync()
        assert admin_rows(
            server, "SELECT corrected_level FROM teacher_corrections WHERE assessment_id = 4"
        ) == [("Developing",)]
    finally:
        fast.close()
        right.close()


def test_a_stamp_from_the_far_future_is_clamped_and_logged(server: Server, tmp_path: Path) -> None:
    lap = Laptop(server, "T001", tmp_path / "L")
    try:
        lap.sync()
        lap.store.clock = lambda: hlclock.now_millis() + 10 * DAY_MS
        decision = actions.correct(lap.store, assessment_id=5, teacher_id="T001", level=3).value
        lap.store.clock = hlclock.now_millis  # the clock was fixed before the push
        lap.sync()
        (stamp,) = admin_rows(
            server, "SELECT sync_hlc FROM teacher_corrections WHERE id = :i", i=decision.id
        )[0]
        assert abs(hlclock.physical_millis(int(str(stamp))) - hlclock.now_millis()) < 60_000
        events = admin_rows(server, "SELECT kind, detail->>'row_pk' FROM sync_events")
        assert ("clock_clamped", str(decision.id)) in events
        with lap.store.read() as conn:  # the laptop holds the server's stamp again
            assert CORRECTIONS.require(conn, decision.id).sync_hlc == int(str(stamp))
    finally:
        lap.close()


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs Debian's faketime")
def test_faketime_process_a_day_fast_loses_to_a_later_change(
    server: Server, tmp_path: Path
) -> None:
    """The same as above, with the fast laptop a real process under faketime."""
    right = Laptop(server, "T001", tmp_path / "right")
    fast_dir = tmp_path / "fast"
    service = server.running()
    env = dict(os.environ, FLOURISH_PASSWORD=PASSWORD)

    def flourish(*args: str, fake: bool = False) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "desktop.cli", "--data-dir", str(fast_dir), *args]
        if fake:
            cmd = ["faketime", "-f", "+1d", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)

    try:
        signed = flourish(
            "login", "--server", service.url, "--user", server.logins["T001"],
            "--ca-cert", str(service.tls.ca),
        )  # fmt: skip
        assert signed.returncode == 0, signed.stderr
        env["FLOURISH_TOKEN"] = signed.stdout.split("FLOURISH_TOKEN=", 1)[1].split()[0]
        assert flourish("sync").returncode == 0
        right.sync()
        made = flourish("correct", "6", "--level", "1", fake=True)
        assert made.returncode == 0, made.stderr
        time.sleep(0.05)
        later = actions.correct(right.store, assessment_id=6, teacher_id="T001", level=4).value
        right.sync()
        synced = flourish("sync", fake=True)
        assert synced.returncode == 0, synced.stderr
        assert "1 lost" in synced.stdout
        assert admin_rows(server, "SELECT id FROM teacher_corrections WHERE assessment_id = 6") == [
            (later.id,)
        ]
    finally:
        right.close()


# -- bad input --------------------------------------------------------------------------


def _enqueue_raw(lap: Laptop, table: str, pk: str, payload: str, stamp: int) -> None:
    with lap.store.write() as txn:
        txn.conn.exec_driver_sql(
            "INSERT INTO sync_operations (table_name, row_pk, op, payload, sync_hlc) "
            "VALUES (?, ?, 'upsert', ?, ?)",
            (table, pk, payload, stamp),
        )


def test_bad_operations_are_quarantined_and_never_block_the_queue(
    server: Server, tmp_path: Path
) -> None:
    lap = Laptop(server, "T001", tmp_path / "L")
    try:
        lap.sync()
        before = actions.correct(lap.store, assessment_id=7, teacher_id="T001", level=2).value
        stamp = hlclock.from_millis(hlclock.now_millis())
        _enqueue_raw(lap, "teacher_corrections", "123", "{not json", stamp)
        _enqueue_raw(lap, "no_such_table", "1", "{}", stamp)
        # an old client's out-of-range level
        row = {k: v for k, v in before.to_dict().items()}
        row.update(
            id=lap.device_no * 10**9 + 999,
            assessment_id=8,
            corrected_level="Superb",
            corrected_at=None,
        )
        import json

        _enqueue_raw(lap, "teacher_corrections", str(row["id"]), json.dumps(row), stamp + 5)
        after = actions.correct(lap.store, assessment_id=9, teacher_id="T001", level=3).value
        report = lap.sync()
        assert report.pushed == 2 and report.rejected == 1
        ids = {r[0] for r in admin_rows(server, "SELECT id FROM teacher_corrections")}
        assert ids == {before.id, after.id}
        with lap.store.read() as conn:
            held = dict(
                conn.exec_driver_sql(
                    "SELECT row_pk, last_error FROM sync_operations WHERE status = 'quarantined'"
                ).all()
            )
        assert "not valid JSON" in held["123"]
        assert "unknown table" in held["1"]
        assert "corrected level must be one of" in held[str(row["id"])]
        assert lap.sync().pushed == 0  # held-back changes are not resent
    finally:
        lap.close()


# -- versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "UPDATE flourish_meta SET value = '99' WHERE key = 'sync_protocol'",
            "update required: the Flourish server is {head} (protocol 2), "
            "its database {head} (protocol 99)",
        ),
        (
            "UPDATE alembic_version SET version_num = '0099'",
            "update required: the Flourish server is {head} (protocol 2), "
            "its database 0099 (protocol 2)",
        ),
        (
            "UPDATE flourish_meta SET value = '1' WHERE key = 'sync_protocol'",
            "ask IT to run 'flourish server migrate'",
        ),
    ],
)
def test_incompatible_schema_stops_without_changing_anything(
    server: Server, tmp_path: Path, sql: str, message: str
) -> None:
    from sync.server.admin import head_revision

    message = message.format(head=head_revision())
    lap = Laptop(server, "T001", tmp_path / "L")
    try:
        lap.sync()
        actions.correct(lap.store, assessment_id=10, teacher_id="T001", level=1)
        admin_rows(server, sql)
        lap.engine.close()
        with pytest.raises(
            SchemaVersionError, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            lap.sync()
        with lap.store.read() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar() == 1
        assert admin_rows(server, "SELECT COUNT(*) FROM teacher_corrections") == [(0,)]
    finally:
        lap.close()


# -- networks: between laptop and service ---------------------------------------------


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    """A TCP fault proxy between the laptops and the service."""
    p = FaultProxy(server.running().port, seed=11)
    yield p
    p.close()


def _correct_many(lap: Laptop, count: int) -> None:
    with lap.store.read() as conn:
        pending = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id FROM assessments WHERE corrected = 0 ORDER BY id"
            ).all()
        ]
    for i, assessment in enumerate(pending[:count]):
        actions.correct(
            lap.store, assessment_id=assessment, teacher_id="T001", level=1 + i % 4, notes=f"n{i}"
        )


def _sync_until_through(lap: Laptop, attempts: int = 200) -> list[str]:
    """Sync until a round gets through; the (retryable) errors on the way."""
    errors: list[str] = []
    for _attempt in range(attempts):
        try:
            lap.sync()
            return errors
        except TransientError as exc:
            errors.append(str(exc))
    pytest.fail(f"sync never got through: {errors[-3:]}")


def _exactly_once(server: Server, lap: Laptop, count: int) -> None:
    rows = admin_rows(server, "SELECT assessment_id, teacher_notes FROM teacher_corrections")
    assert len(rows) == count == len({r[0] for r in rows})
    assert admin_rows(server, "SELECT COUNT(*) FROM sync_conflicts") == [(0,)]
    with lap.store.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar() == 0
    expected = server_slice(server.running().db_url, "T001")
    assert differences(local_slice(lap.store), expected) == {}


def test_dropped_connections_and_latency_still_end_exactly_once(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    lap = Laptop(server, "T001", tmp_path / "L", url=proxy.url(server.running().url))
    try:
        lap.engine.batch_size = 7
        lap.sync()
        _correct_many(lap, 40)
        proxy.latency_s = 0.002
        proxy.drop_probability = 0.05
        errors = _sync_until_through(lap)
        proxy.drop_probability = 0
        lap.sync()
        assert errors and proxy.drops > 0  # faults really happened
        _exactly_once(server, lap, 40)
    finally:
        lap.close()


def test_a_drop_in_the_middle_of_the_commit_is_resent_safely(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    lap = Laptop(server, "T001", tmp_path / "L", url=proxy.url(server.running().url))
    try:
        lap.sync()
        for assessment in (11, 12, 13):
            actions.correct(lap.store, assessment_id=assessment, teacher_id="T001", level=2)
        for budget in (600, 1500, 3000, 4500, 6000, 9000, None):
            proxy.drop_after_bytes = budget
            proxy.cut_all()  # the next request opens a connection with this budget
            try:
                lap.sync()
                break
            except TransientError:
                continue
        assert admin_rows(server, "SELECT COUNT(*) FROM teacher_corrections") == [(3,)]
        with lap.store.read() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar() == 0
    finally:
        lap.close()


def test_a_pull_cut_by_the_network_says_so_in_one_line(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    """The network goes away in the middle of an initial pull: the teacher reads one line
    about the network (never a driver's "cursor already closed"), and the next sync goes on
    from the resume point."""
    lap = Laptop(server, "T001", tmp_path / "L", url=proxy.url(server.running().url))
    pages = []

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "pull" and done:
            pages.append(done)
            if len(pages) == 2:
                proxy.go_offline()

    engine = SyncEngine.from_store(lap.store, token=lap.token, page_size=10)
    try:
        with pytest.raises(TransientError) as cut:
            engine.sync_once(progress=progress)
        message = str(cut.value)
        assert "\n" not in message and "cursor" not in message
        assert message.startswith(("connection to the server was lost", "server unreachable"))
        assert lap.store.state("last_error") == message
        assert lap.store.state("pull_resume")  # what arrived stays
        proxy.go_online()
        engine.sync_once()
        assert lap.store.state("pull_resume") is None
        assert (
            differences(local_slice(lap.store), server_slice(server.running().db_url, "T001")) == {}
        )
    finally:
        engine.close()
        lap.close()


# -- networks: between service and database ---------------------------------------------


@pytest.fixture
def db_proxied(
    server: Server, pg: PgCluster, tmp_path: Path
) -> Iterator[tuple[Service, FaultProxy]]:
    """A second service process whose database connections go through a fault proxy."""
    p = FaultProxy(pg.port, seed=5)
    first = server.running()  # same certificate: the laptops trust one school CA
    service = Service(p.url(first.db_url), tmp_path / "service-proxied", tls=first.tls).start()
    yield service, p
    service.stop()
    p.close()


def test_the_services_database_connection_dropped_mid_push_and_pull_loses_nothing(
    server: Server, db_proxied: tuple[Service, FaultProxy], tmp_path: Path
) -> None:
    service, dbproxy = db_proxied
    lap = Laptop(server, "T001", tmp_path / "L", url=service.url)
    try:
        lap.engine.batch_size = 7
        lap.engine.page_size = 15
        lap.sync()
        _correct_many(lap, 40)
        admin_rows(server, "UPDATE students SET name = name || ' (renamed)'")  # work to pull
        admin_rows(server, "UPDATE assessments SET justification = justification || '.'")
        dbproxy.drop_probability = 0.01
        errors = _sync_until_through(lap)
        dbproxy.drop_probability = 0
        lap.sync()
        assert errors and dbproxy.drops > 0  # the database side really failed
        for error in errors:  # each one a clear, retryable line; never a 500
            assert error.startswith("the server is busy or unavailable: the school's database")
            assert "\n" not in error
        _exactly_once(server, lap, 40)
    finally:
        lap.close()


def test_the_database_gone_mid_request_is_a_503_the_laptop_retries(
    server: Server, db_proxied: tuple[Service, FaultProxy], tmp_path: Path
) -> None:
    service, dbproxy = db_proxied
    lap = Laptop(server, "T001", tmp_path / "L", url=service.url)
    try:
        lap.sync()
        actions.correct(lap.store, assessment_id=4, teacher_id="T001", level=3)
        dbproxy.go_offline()  # every pooled connection is cut; no new one gets through
        with pytest.raises(TransientError, match="the school's database is unavailable"):
            lap.sync()
        with lap.store.read() as conn:  # the change waits in the queue
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar() == 1
        dbproxy.go_online()
        assert lap.sync().pushed == 1
        assert admin_rows(server, "SELECT COUNT(*) FROM teacher_corrections") == [(1,)]
    finally:
        lap.close()


# -- an interrupted initial sync resumes -------------------------------------------------


def test_initial_sync_resumes_where_it_stopped(server: Server, tmp_path: Path) -> None:
    lap = Laptop(server, "T001", tmp_path / "L")
    cancel = threading.Event()
    pages = []

    def progress(phase: str, done: int, total: int | None) -> None:
        pages.append(done)
        if len(pages) == 3:
            cancel.set()

    engine = SyncEngine.from_store(lap.store, token=lap.token, page_size=10)
    try:
        with pytest.raises(Cancelled):
            engine.sync_once(progress=progress, cancel=cancel)
        assert lap.store.state("pull_resume")
        partial = local_slice(lap.store)
        # the server moves on meanwhile: the resumed sync must not stop at the old window
        admin_rows(server, "UPDATE students SET name = 'Eva (renamed)' WHERE id = 'S001'")
        report = engine.sync_once()
        with lap.store.read() as conn:
            assert (
                conn.exec_driver_sql("SELECT name FROM students WHERE id = 'S001'").scalar()
                == "Eva (renamed)"
            )
        assert lap.store.state("pull_resume") is None
        assert report.pull.rows > 0
        expected = server_slice(server.running().db_url, "T001")
        assert differences(local_slice(lap.store), expected) == {}
        assert sum(len(v) for v in partial.values()) < sum(len(v) for v in expected.values())
    finally:
        engine.close()
        lap.close()


def test_pages_follow_transaction_order_across_a_power_of_ten(tmp_path: Path) -> None:
    """Transaction ids are ordered as numbers, not as text: a pull whose pages cross
    9,999,999 -> 10,000,000 skips nothing ("10000001" sorts before "9999999" as text)."""
    cluster = PgCluster()
    server: Server | None = None
    try:
        cluster.init()
        # the next transaction id: the first of a commit-log page, as pg_resetwal advises
        cluster._run(
            str(cluster.bindir / "pg_resetwal"), "-x", str(305 * 32768), "-D", str(cluster.datadir)
        )
        cluster.start()
        url = cluster.create_database("xids")
        from sync.server.admin import init_server

        init_server(url)
        server = served(url, tmp_path / "service", ("T001",))
        laptop = Laptop(server, "T001", tmp_path / "L")
        laptop.engine.page_size = 7
        laptop.sync()
        ids = [
            int(r[0])  # type: ignore[call-overload]
            for r in rows_as_admin(
                url,
                "SELECT a.id FROM assessments a JOIN students s ON s.id = a.student_id "
                "WHERE s.teacher_id = 'T001' ORDER BY a.id LIMIT 60",
            )
        ]
        conn = psycopg2.connect(cluster.dsn("xids"))
        conn.autocommit = True  # one transaction (and one transaction id) per statement
        with conn.cursor() as cur:
            xid = 0
            while xid < 10_000_000 - len(ids) // 2:
                cur.execute("SELECT pg_current_xact_id()::text::bigint")
                xid = int(cur.fetchone()[0])
            for n, assessment in enumerate(ids):
                cur.execute(
                    "UPDATE assessments SET justification = %s WHERE id = %s",
                    (f"revised {n}", assessment),
                )
            cur.execute("SELECT pg_current_xact_id()::text::bigint")
            assert int(cur.fetchone()[0]) > 10_000_000
        conn.close()
        report = laptop.sync()
        assert report.pull.rows >= len(ids)
        with laptop.store.read() as local:
            got = {a: ASSESSMENTS.require(local, a).justification for a in ids}
        assert got == {a: f"revised {n}" for n, a in enumerate(ids)}
        laptop.close()
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
