"""The sync engine: push the laptop's queue, then pull the server's changes.

:class:`SyncEngine` is used by ``flourish sync`` (once, headless) and by the desktop's
sync worker (on a worker thread, with retry and backoff around it). One engine holds one
warm connection of the teacher's own login; it is not thread-safe: use it from one
thread at a time. ``sync_once`` never leaves the local store half-updated: each pushed
batch is acknowledged in one local transaction, each pulled page is applied in one.

Push in batches (one server transaction each, see :mod:`sync.replication.push`): the batch's
operations are first marked as sent (``attempts + 1``) so later edits of the same rows
queue new operations instead of changing ones the server may already have applied; after
the server commits, the results are applied locally and the batch leaves the queue. A
crash anywhere in between only means the batch is sent again, and the server answers
``duplicate`` for what it already has.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg2

from sync.credentials import get_secret, server_key_name
from sync.errors import AuthError, FlourishError, SchemaVersionError, ServerError
from sync.replication.client.http import ServiceClient, is_service_url
from sync.replication.pull import PullReport, pull
from sync.replication.push import MAX_SKEW_MS, BatchResult, OpResult, apply_batch
from sync.replication.wire import BadOp, Op, exchanged_columns, local_value, parse_op, pk_value
from sync.server.central import describe, display_url, normalise_url
from sync.store import hlc as hlclock
from sync.store.local import LocalStore, sqlite_of

__all__ = [
    "SYNC_PROTOCOL",
    "NotConfigured",
    "SyncEngine",
    "SyncReport",
    "connect",
]

#: Version of the sync contract (flourish_meta.sync_protocol on the server).
SYNC_PROTOCOL = 2
log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]


class NotConfigured(FlourishError):
    """This store has no server to sync with (``flourish login`` first)."""


@dataclass
class SyncReport:
    pushed: int = 0
    lost: int = 0
    rejected: int = 0
    duplicates: int = 0
    conflicts: int = 0
    clock_events: int = 0
    pull: PullReport = field(default_factory=PullReport)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"pushed {self.pushed} change(s) ({self.lost} lost, {self.rejected} rejected), "
            f"pulled {self.pull.rows} row(s) and {self.pull.deleted} deletion(s), "
            f"{self.conflicts} new conflict(s) in {self.seconds:.2f} s"
        )


def connect(url: str, *, password: str | None, connect_timeout: int = 5) -> Any:
    """A psycopg2 connection for sync (UTC, statement timeout, keepalives)."""
    parsed = normalise_url(url)
    try:
        conn = psycopg2.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            dbname=parsed.database,
            user=parsed.username,
            password=password if password is not None else parsed.password,
            connect_timeout=connect_timeout,
            application_name="flourish-sync",
            options="-c statement_timeout=120000 -c timezone=UTC",
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            **{k: str(v) for k, v in parsed.query.items()},
        )
    except psycopg2.Error as exc:
        raise describe(exc) from exc
    return conn


def check_schema(cur: Any) -> None:
    """Stop with 'update required' unless client and server speak the same protocol."""
    from sync.server.admin import head_revision, known_revisions

    cur.execute("SELECT version_num FROM alembic_version")
    row = cur.fetchone()
    server_rev = row[0] if row else None
    cur.execute("SELECT value FROM flourish_meta WHERE key = 'sync_protocol'")
    row = cur.fetchone()
    server_protocol = int(row[0]) if row else 0
    client = f"{head_revision()} (protocol {SYNC_PROTOCOL})"
    server = f"{server_rev or 'empty'} (protocol {server_protocol})"
    if server_rev not in known_revisions() or server_protocol > SYNC_PROTOCOL:
        raise SchemaVersionError(f"update required: client {client}, server {server}")
    if server_protocol < SYNC_PROTOCOL:
        raise SchemaVersionError(
            f"the server's schema is older than this Flourish: client {client}, server {server}; "
            "ask IT to run 'flourish server migrate'"
        )


class SyncEngine:
    """Push then pull for one local store (see the module docstring for the rules)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        url: str,
        password: str | None,
        batch_size: int = 2000,
        page_size: int = 5000,
        ca_file: str | None = None,
    ) -> None:
        self.store = store
        self.url = url
        self.password = password  # the device token when syncing through the service
        self.batch_size = batch_size
        self.page_size = page_size
        self.ca_file = ca_file
        self._conn: Any = None
        self._service: ServiceClient | None = None

    @classmethod
    def from_store(
        cls, store: LocalStore, *, password: str | None = None, **options: Any
    ) -> SyncEngine:
        url = store.state("server_url")
        login = store.state("login")
        if not url or not login:
            raise NotConfigured("this laptop is not signed in to a server: run 'flourish login'")
        host = urlsplit(url).hostname or ""
        if is_service_url(url):
            token = password or get_secret(server_key_name(login, host), env="FLOURISH_TOKEN")
            if token is None:
                raise AuthError(
                    f"not signed in to {url} on this laptop: sign in again ('flourish login')"
                )
            return cls(store, url=url, password=token, ca_file=store.state("server_ca"), **options)
        from sync.replication.login import clean_url

        if clean_url(url, login) != url:  # a password kept by an older version: drop it
            url = clean_url(url, login)
            store.set_state({"server_url": url})
        host = urlsplit(url).hostname or ""
        if password is None:
            password = get_secret(server_key_name(login, host), env="FLOURISH_PASSWORD")
        if password is None:
            raise AuthError(
                f"no password for {login} at {display_url(url)}: sign in again "
                "('flourish login') or set FLOURISH_PASSWORD"
            )
        return cls(store, url=url, password=password, **options)

    # -- connection ------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._conn is not None and not self._conn.closed:
            try:  # a warm connection may have died with the network: one round trip tells
                self._conn.rollback()
                with self._conn.cursor() as cur:
                    cur.execute("SELECT 1")
                self._conn.rollback()
                return self._conn
            except psycopg2.Error:
                self.close()
        self._conn = connect(self.url, password=self.password)
        try:
            with self._conn.cursor() as cur:
                check_schema(cur)
                cur.execute("SELECT current_teacher_id()")
                teacher = cur.fetchone()[0]
            self._conn.rollback()
        except BaseException:
            self.close()
            raise
        expected = self.store.state("teacher_id")
        if teacher is None or (expected and teacher != expected):
            self.close()
            raise AuthError(
                f"this login is not the teacher this laptop belongs to "
                f"({teacher or 'no teacher'} vs {expected})"
            )
        return self._conn

    def _check_epoch(self) -> None:
        """A server restored from a backup has a new epoch: re-register, re-send, re-pull."""
        with self._conn.cursor() as cur:
            cur.execute("SELECT value FROM flourish_meta WHERE key = 'server_epoch'")
            row = cur.fetchone()
        self._conn.rollback()
        self.check_epoch(None if row is None else str(row[0]), self._register_directly)

    def _register_directly(self) -> int:
        import socket

        with self._conn.cursor() as cur:
            cur.execute(
                "SELECT sync_register_device(%s, %s, %s)",
                (self.store.state("device_uuid"), socket.gethostname(), "restore-recovery"),
            )
            device_no = int(cur.fetchone()[0])
        self._conn.commit()
        return device_no

    def check_epoch(self, epoch: str | None, register: Callable[[], int]) -> None:
        """Compare the server's epoch with the one this store last saw (see above)."""
        known = self.store.state("server_epoch")
        if epoch is None or epoch == known:
            return
        if known is not None:
            self._recover_after_restore(register())
        self.store.set_state({"server_epoch": epoch})

    def _recover_after_restore(self, device_no: int) -> None:
        """The server lost what came after its backup; this laptop still has it.

        Everything it holds is queued again as it is (same stamps: timestamp-wins keeps
        whichever side is newer), the device is registered again if the backup predates it
        (``device_no`` is what the registration answered), and the next pull starts from
        the beginning.
        """
        from sync.model.tables import SYNCED_TABLES
        from sync.store.capture import requeue_sql

        log.warning("the server was restored from a backup: re-sending this laptop's data")
        with self.store.apply_remote() as conn:
            raw = sqlite_of(conn)
            # operations sent before may have been lost with the restore: send them again
            raw.execute("UPDATE sync_operations SET attempts = 0 WHERE status = 'pending'")
            for table in SYNCED_TABLES:
                if table not in ("teachers", "sync_conflicts"):
                    raw.execute(requeue_sql(table))
            for key, value in (
                ("pull_cursor", "0"),
                ("device_no", str(device_no)),
            ):
                raw.execute(
                    "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (key, value)
                )
            raw.execute("DELETE FROM sync_state WHERE key = 'pull_resume'")

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg2.Error:
                pass
            self._conn = None

    def __enter__(self) -> SyncEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one round ---------------------------------------------------------------------
    def sync_once(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Push every pending change, then pull. Raises ServerError subclasses."""
        return self._run(progress, cancel, push=True, pull_after=True)

    def push(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Only push the queue (the pull part of :meth:`sync_once` is skipped)."""
        return self._run(progress, cancel, push=True, pull_after=False)

    def pull(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Only pull (nothing queued is sent)."""
        return self._run(progress, cancel, push=False, pull_after=True)

    def _run(
        self,
        progress: Progress | None,
        cancel: threading.Event | None,
        *,
        push: bool,
        pull_after: bool,
    ) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        if is_service_url(self.url):
            try:
                run_through_service(self, report, progress, cancel, push, pull_after)
            except ServerError as exc:
                self._record_error(exc)
                raise
            return self._finish(report, started, push and pull_after)
        try:
            conn = self._connection()
            self._check_epoch()  # every round: a restore does not drop our connection
            if push:
                device = self.store.device_no
                self._push_all(
                    lambda ops, now: self._apply(conn, device, ops, now), report, progress, cancel
                )
            if pull_after:
                report.pull = pull(
                    conn, self.store, page_size=self.page_size, progress=progress, cancel=cancel
                )
        except ServerError as exc:
            self._record_error(exc)
            self.close()
            raise
        except psycopg2.Error as exc:
            error = describe(exc)
            self._record_error(error)
            self.close()
            raise error from exc
        return self._finish(report, started, push and pull_after)

    def _finish(self, report: SyncReport, started: float, full: bool) -> SyncReport:
        report.seconds = time.perf_counter() - started
        if full:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
            self.store.set_state({"last_sync": now + "Z", "last_error": None})
        return report

    @staticmethod
    def _apply(conn: Any, device: int, ops: list[Op], client_now: int) -> BatchResult:
        """The direct path: the laptop applies its batch as its teacher's own login."""
        with conn.cursor() as cur:
            result = apply_batch(cur, device, ops, client_now_ms=client_now)
        conn.commit()
        return result

    def _record_error(self, exc: BaseException) -> None:
        try:
            self.store.set_state({"last_error": str(exc)})
        except Exception:  # never hide the original error
            log.exception("could not record the sync error")

    # -- push --------------------------------------------------------------------------
    def _next_batch(self, device: int, after: int) -> tuple[list[Op], bool, int]:
        """The next batch of pending operations with ids above ``after``: the operations,
        whether more may be waiting, and the last id looked at."""
        ops: list[Op] = []
        with self.store.write() as txn:
            raw = sqlite_of(txn.conn)
            rows = raw.execute(
                "SELECT op_id, table_name, row_pk, op, payload, sync_hlc FROM sync_operations "
                "WHERE status = 'pending' AND op_id > ? ORDER BY op_id LIMIT ?",
                (after, self.batch_size),
            ).fetchall()
            for op_id, table, pk, kind, payload, stamp in rows:
                try:
                    ops.append(parse_op(op_id, table, pk, kind, payload, stamp, device))
                except BadOp as exc:
                    raw.execute(
                        "UPDATE sync_operations SET status = 'quarantined', last_error = ? "
                        "WHERE op_id = ?",
                        (f"not sent: {exc}", op_id),
                    )
            if ops:
                raw.executemany(
                    "UPDATE sync_operations SET attempts = attempts + 1 WHERE op_id = ?",
                    [(op.op_id,) for op in ops],
                )
        last = int(rows[-1][0]) if rows else after
        return ops, len(rows) == self.batch_size, last

    def _push_all(
        self,
        send: Callable[[list[Op], int], BatchResult],
        report: SyncReport,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        # The local work runs beside the server's: while the server applies batch k, a
        # helper thread acknowledges batch k-1 locally and reads batch k+1 from the queue
        # (marking it as sent: from then on a local edit queues a new operation). Operation
        # ids only grow (AUTOINCREMENT), so "ids above the last batch" is the rest of the
        # queue; what is queued during the push has higher ids and goes in a later batch.
        # Acknowledgements are applied in batch order, and all of them before returning.
        total = self._pending_count() if progress is not None else 0
        done = 0
        device = self.store.device_no
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flourish-push") as local:
            ahead: Future[tuple[list[Op], bool, int]] | None = None
            acked: Future[None] | None = None
            ops, more, last = self._next_batch(device, 0)
            while ops or more:
                if cancel is not None and cancel.is_set():
                    break
                if not ops:  # a whole batch was quarantined
                    ops, more, last = self._next_batch(device, last)
                    continue
                if more:
                    ahead = local.submit(self._next_batch, device, last)
                offset = int(self.store.state("clock_offset_ms", "0") or 0)
                client_now = self.store.clock() + offset
                result = send(ops, client_now)
                if acked is not None:
                    acked.result()  # the previous batch's (raises what it raised)
                acked = local.submit(self._acknowledge, ops, result)
                for r in result.results:
                    if r.status == "applied":
                        report.pushed += 1
                    elif r.status == "lost":
                        report.lost += 1
                    elif r.status == "rejected":
                        report.rejected += 1
                    else:
                        report.duplicates += 1
                report.conflicts += result.conflicts
                report.clock_events += len(result.events)
                done += len(ops)
                if progress is not None:
                    progress("push", done, max(total, done))
                if ahead is not None:
                    (ops, more, last), ahead = ahead.result(), None
                else:
                    ops, more = [], False
            if acked is not None:
                acked.result()

    def _pending_count(self) -> int:
        with self.store.read() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM sync_operations WHERE status = 'pending'"
                ).scalar_one()
            )

    def _acknowledge(self, ops: list[Op], result: BatchResult) -> None:
        """Apply the server's answers locally and take the batch off the queue."""
        by_id = {op.op_id: op for op in ops}
        with self.store.apply_remote() as conn:
            raw = sqlite_of(conn)
            applied: dict[str, list[tuple[Any, ...]]] = {}
            for r in result.results:
                op = by_id[r.op_id]
                if r.status == "applied" and r.version is not None:
                    applied.setdefault(op.table, []).append(
                        (r.version, op.hlc, r.hlc, pk_value(op.table, op.pk))
                    )
                else:
                    self._apply_result(raw, op, r)
            for table, rows in applied.items():
                # The server's version becomes the row's base; its stamp (clock-adjusted)
                # too, unless the row has changed again here since.
                raw.executemany(
                    f"UPDATE {table} SET sync_version = ?, "
                    "sync_hlc = CASE WHEN sync_hlc = ? THEN ? ELSE sync_hlc END WHERE id = ?",
                    rows,
                )
            done = [(r.op_id,) for r in result.results if r.status != "rejected"]
            raw.executemany("DELETE FROM sync_operations WHERE op_id = ?", done)
            raw.executemany(
                "UPDATE sync_operations SET status = 'quarantined', last_error = ? WHERE op_id = ?",
                [
                    (f"refused by the server: {r.reason}", r.op_id)
                    for r in result.results
                    if r.status == "rejected"
                ],
            )
            if abs(result.skew_ms) > MAX_SKEW_MS:
                self._correct_clock(raw, result.skew_ms)

    def _apply_result(self, raw: sqlite3.Connection, op: Op, r: OpResult) -> None:
        key = pk_value(op.table, op.pk)
        if r.status == "lost":
            newer_local = raw.execute(
                "SELECT 1 FROM sync_operations WHERE table_name = ? AND row_pk = ? "
                "AND status = 'pending' AND op_id > ?",
                (op.table, op.pk, op.op_id),
            ).fetchone()
            if newer_local and not r.drop_local:
                return  # a newer local change is queued; the server will judge it
            if r.drop_local or r.server_row is None:
                raw.execute(f"DELETE FROM {op.table} WHERE id = ?", (key,))
            if r.server_row is not None and r.server_table:
                cols = exchanged_columns(r.server_table)
                raw.execute(
                    f"INSERT INTO {r.server_table} ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))}) ON CONFLICT(id) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id"),
                    [local_value(r.server_table, c, r.server_row.get(c)) for c in cols],
                )

    def _correct_clock(self, raw: sqlite3.Connection, skew_ms: int) -> None:
        row = raw.execute("SELECT value FROM sync_state WHERE key = 'clock_offset_ms'").fetchone()
        offset = int(row[0]) if row else 0
        offset -= skew_ms
        raw.execute(
            "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('clock_offset_ms', ?)",
            (str(offset),),
        )
        # The clock state may have run ahead with the wrong clock; bring it back.
        corrected = hlclock.from_millis(self.store.clock() + offset)
        raw.execute(
            "UPDATE sync_state SET value = ? WHERE key = 'hlc' AND CAST(value AS INTEGER) > ?",
            (str(corrected), corrected + hlclock.from_millis(MAX_SKEW_MS)),
        )
        log.warning("clock corrected by %d ms after the server reported a skew", -skew_ms)


from sync.replication.client.remote import run_through_service  # noqa: E402
