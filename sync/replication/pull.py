"""Bringing the server's changes to the laptop: a commit-safe, resumable, bounded pull.

**Shared evidence.** A group transcript owned by another teacher's student that supports a
proposal for one of this teacher's students is readable (row level security) and arrives
without its owner (``student_id`` NULL), so the laptop holds no row of that student.

**The cursor.** Every server write records its transaction id (``sync_txid``, ``xid8``).
A pull runs in one REPEATABLE READ snapshot and takes ``hi = pg_snapshot_xmin(snapshot)``:
every transaction below ``hi`` has finished, so rows with ``lo <= sync_txid < hi`` are final
and all visible. Rows of transactions still running (or that committed out of order) have
ids ``>= hi`` and wait for the next pull — nothing is skipped, which a plain "version >
last seen" cursor cannot promise (tests/test_sync_faults.py shows the difference). After a
complete pull the cursor becomes ``hi``.

**Order.** Tombstones first (a row re-created after a deletion then wins), then the tables
parents first, then visibility events: a ``revoke`` (a student moved to another teacher,
which row level security hides from this teacher's ordinary pull) deletes the student's
rows here and quarantines queued edits for them; a ``grant`` fetches the student's whole
slice.

**Bounded and resumable.** Rows come in pages (keyset on ``(sync_txid, sync_version)``);
each page is applied in its own local transaction together with the resume point, so an
interrupted initial sync continues where it stopped, with the same window. While a page is
written locally the next one is already being read from the server (one page ahead, on a
second cursor of the same snapshot), so an initial sync costs about the larger of the two.

**Planned once.** Each step's page query is a session-level prepared statement (planning
under row level security costs more than reading a small page), so a pooler that hands a
laptop's statements to different server sessions (transaction pooling) must not sit
between laptops and the server; laptops connect to PostgreSQL directly.

**Local changes win only if newer.** A pulled row is not applied over a local row that
has a queued change with a newer timestamp (that change will be pushed and judged by the
server); otherwise the server's row is applied and the queued change stays queued.
Applied rows are never queued again (``LocalStore.apply_remote``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from psycopg2 import sql
from sqlalchemy import Connection

from sync.model.rules import NATURAL_KEYS, PARENTS, SYNCED_TABLES
from sync.replication.wire import INT_ID_TABLES, exchanged_columns, select_list
from sync.store.capture import capture_ddl, trigger_names
from sync.store.local import LocalStore, sqlite_of
from sync.store.storefile import integrity_error

__all__ = [
    "FETCH_WHERE",
    "PULL_TABLES",
    "STEPS",
    "PgSource",
    "PullReport",
    "fetch_rows",
    "pull",
    "pull_remote",
]

PULL_TABLES = SYNCED_TABLES  # parents first
_STEPS = ("tombstones", *PULL_TABLES, "visibility")
STEPS = _STEPS

Progress = Callable[[str, int, int | None], None]
# Pages at least this large are applied without the (inert) capture triggers: see _quiet.
_QUIET_FROM = 1000


@dataclass
class PullReport:
    rows: int = 0
    deleted: int = 0
    skipped_local_newer: int = 0
    revoked: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    cursor: str = "0"


class Cancelled(Exception):
    """The pull was cancelled; what was applied stays, the resume point is saved."""


def _step_query(step: str) -> str:
    """The page query of one step, with ``$1 <= sync_txid < $2``, keyset after ``($3, $4)``
    and ``LIMIT $5``.

    The text form of sync_txid is named ``txid``: an output column called ``sync_txid``
    would be what ORDER BY sorts by, as text ("10000000" < "9999999"), and the keyset
    would then skip rows whenever a page crosses a power of ten.
    """
    window = (
        "sync_txid >= $1 AND sync_txid < $2 AND (sync_txid, sync_version) > ($3, $4) "
        "ORDER BY sync_txid, sync_version LIMIT $5"
    )
    if step == "tombstones":
        return (
            "SELECT table_name, row_pk, sync_hlc, sync_txid::text AS txid, sync_version "
            f"FROM sync_tombstones WHERE {window}"
        )
    if step == "visibility":
        return (
            "SELECT kind, student_id, 0, sync_txid::text AS txid, sync_version "
            f"FROM sync_visibility WHERE {window}"
        )
    return f'SELECT {select_list(step)}, sync_txid::text AS txid FROM "{step}" WHERE {window}'


def _statement_name(step: str) -> str:
    digest = hashlib.sha1(_step_query(step).encode(), usedforsecurity=False).hexdigest()
    return f"flourish_pull_{step}_{digest[:10]}"


# Each step's query is planned once per connection (PREPARE) and then only executed:
# under row level security planning costs more than running a small page.
_STATEMENTS = {step: _statement_name(step) for step in _STEPS}


def _prepare(cur: Any, held: Collection[str]) -> None:
    """Prepare the step queries this session does not hold yet."""
    for step, name in _STATEMENTS.items():
        if name not in held:
            cur.execute(
                f"PREPARE {name} (xid8, xid8, xid8, bigint, integer) AS {_step_query(step)}"
            )


def _remote(
    cur: Any, step: str, lo: str, hi: str, after: tuple[str, int], limit: int
) -> list[tuple[Any, ...]]:
    cur.execute(
        f"EXECUTE {_STATEMENTS[step]} (%s, %s, %s, %s, %s)",
        (lo, hi, after[0], after[1], limit),
    )
    return list(cur.fetchall())


#: The rows a pull may fetch outside its pages: a missing parent by id, a student's slice.
FETCH_WHERE = {
    "id": "id = %s",
    "student_id": "student_id = %s",
    "student_corrections": "assessment_id IN (SELECT id FROM assessments WHERE student_id = %s)",
}


def fetch_rows(cur: Any, table: str, by: str, value: str) -> list[tuple[Any, ...]]:
    cur.execute(
        sql.SQL("SELECT {cols} FROM {t} WHERE " + FETCH_WHERE[by]).format(
            cols=sql.SQL(select_list(table)), t=sql.Identifier(table)
        ),
        (value,),
    )
    return list(cur.fetchall())


class PgSource:
    """Where a pull reads: a cursor of the teacher's own connection (the direct path).
    The service's client half has the same three methods over HTTPS."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def page(
        self, step: str, lo: str, hi: str, after: tuple[str, int], limit: int
    ) -> list[tuple[Any, ...]]:
        return _remote(self.cur, step, lo, hi, after, limit)

    def fetch(self, table: str, by: str, value: str) -> list[tuple[Any, ...]]:
        return fetch_rows(self.cur, table, by, value)

    def twin(self) -> PgSource:
        """A second reader of the same snapshot (pages are read ahead on the first)."""
        return PgSource(self.cur.connection.cursor())


class _Applier:
    """Writes server rows into the local store inside one ``apply_remote`` transaction."""

    def __init__(
        self, conn: Connection, cur: Any, report: PullReport, teacher_id: str | None
    ) -> None:
        self.conn = conn
        self.teacher_id = teacher_id
        self.db = sqlite_of(conn)
        self.cur = cur
        self.report = report
        self.max_hlc = 0
        self._pending: dict[str, dict[str, int]] = {}

    def pending(self, table: str) -> dict[str, int]:
        if table not in self._pending:
            rows = self.db.execute(
                "SELECT row_pk, max(sync_hlc) FROM sync_operations "
                "WHERE status = 'pending' AND table_name = ? GROUP BY row_pk",
                (table,),
            ).fetchall()
            self._pending[table] = {pk: hlc for pk, hlc in rows}
        return self._pending[table]

    def rows(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        cols = exchanged_columns(table)
        hlc_at = cols.index("sync_hlc")
        pending = self.pending(table)
        values = []
        for row in rows:  # already in SQLite's storage form (see wire.select_list)
            stamp = int(row[hlc_at])
            if stamp > self.max_hlc:
                self.max_hlc = stamp
            pending_stamp = pending.get(str(row[0])) if pending else None
            if pending_stamp is not None and pending_stamp > stamp:
                self.report.skipped_local_newer += 1
                continue
            values.append(tuple(row))
        if not values:
            return
        insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        statement = f"{insert} ON CONFLICT(id) DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in cols if c != "id"
        )
        # An upsert costs SQLite about twice a plain insert even when nothing conflicts, and
        # most pulled rows (all of an initial sync) are new here: insert those, upsert the rest.
        held = {
            key
            for (key,) in self.db.execute(
                f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([row[0] for row in values]),),
            )
        }
        fresh = [row for row in values if row[0] not in held]
        known = [row for row in values if row[0] in held] if held else []
        self.db.execute("SAVEPOINT page")
        try:
            with self._quiet(table, len(values)):
                if fresh:
                    self.db.executemany(insert, fresh)
                if known:
                    self.db.executemany(statement, known)
        except integrity_error(self.db):
            self.db.execute("ROLLBACK TO SAVEPOINT page")
            for one in values:
                self._one(table, cols, statement, one)
        self.db.execute("RELEASE SAVEPOINT page")
        self.report.rows += len(values)

    @contextmanager
    def _quiet(self, table: str, rows: int) -> Iterator[None]:
        """For a large page, take the table's capture triggers out for the statement.

        They are inert while a pull applies rows anyway (the apply guard) but still cost a
        check per row. Trigger DDL is part of this transaction: no other connection ever
        sees the table without them, and a failure rolls their removal back.
        """
        if rows < _QUIET_FROM:
            yield
            return
        for name in trigger_names(table):
            self.db.execute(f"DROP TRIGGER IF EXISTS {name}")
        try:
            yield
        finally:
            for ddl in capture_ddl(table):
                self.db.execute(ddl)

    def _one(self, table: str, cols: tuple[str, ...], statement: str, row: tuple[Any, ...]) -> None:
        """The careful path: clear natural-key rivals and fetch missing parents first."""
        record = dict(zip(cols, row, strict=True))
        spec = NATURAL_KEYS.get(table)
        if spec is not None and spec.key(record) is not None:
            condition = spec.condition(central=False)
            rivals = self.db.execute(
                f"SELECT id FROM {table} WHERE "
                + " AND ".join(f"{c} = ?" for c in spec.columns)
                + " AND id <> ?"
                + (f" AND {condition}" if condition else ""),
                (*(record[c] for c in spec.columns), record["id"]),
            ).fetchall()
            pending = self.pending(table)
            for (rival,) in rivals:
                if pending.get(str(rival), 0) > record["sync_hlc"]:
                    self.report.skipped_local_newer += 1
                    return  # our newer local row goes to the server first
                self.db.execute(f"DELETE FROM {table} WHERE id = ?", (rival,))
        for column, parent in PARENTS.get(table, []):
            value = record.get(column)
            if (
                value is not None
                and not self.db.execute(f"SELECT 1 FROM {parent} WHERE id = ?", (value,)).fetchone()
            ):
                parent_rows = self.cur.fetch(parent, "id", str(value))
                if parent_rows:
                    self.rows(parent, parent_rows)
        self.db.execute(statement, row)

    def tombstones(self, rows: Sequence[Sequence[Any]]) -> None:
        for table, pk, hlc, _txid, _version in rows:
            self.max_hlc = max(self.max_hlc, int(hlc))
            if self.pending(table).get(pk, 0) > hlc:
                self.report.skipped_local_newer += 1
                continue
            key: int | str = int(pk) if table in INT_ID_TABLES else pk
            deleted = self.db.execute(f"DELETE FROM {table} WHERE id = ?", (key,)).rowcount
            self.report.deleted += max(deleted, 0)

    def visibility(self, rows: Sequence[Sequence[Any]]) -> None:
        for kind, student_id, _zero, _txid, _version in rows:
            if kind == "revoke":
                self.db.execute("DELETE FROM students WHERE id = ?", (student_id,))
                self.db.execute(
                    "UPDATE sync_operations SET status = 'quarantined', last_error = ? "
                    "WHERE student_id = ? AND status = 'pending'",
                    (
                        f"student {student_id} now belongs to another teacher; this change was "
                        "not sent",
                        student_id,
                    ),
                )
                self.report.revoked.append(student_id)
            else:
                self.grant(student_id)
                self.report.granted.append(student_id)
        if any(kind == "revoke" for kind, *_rest in rows):
            # Deleting a moved student cascades to evidence it owned, which may support
            # proposals for students who stay: fetch their slices again.
            own = self.db.execute(
                "SELECT id FROM students WHERE teacher_id = ?", (self.teacher_id,)
            ).fetchall()
            for (student,) in own:
                self.grant(student)

    def grant(self, student_id: str) -> None:
        self.rows("students", self.cur.fetch("students", "id", student_id))
        for table in ("data_entries", "assessments", "skill_targets", "badges"):
            self.rows(table, self.cur.fetch(table, "student_id", student_id))
        self.rows(
            "teacher_corrections",
            self.cur.fetch("teacher_corrections", "student_corrections", student_id),
        )

    def finish(self) -> None:
        if self.max_hlc:
            self.db.execute(
                "UPDATE sync_state SET value = CAST(max(CAST(value AS INTEGER), ?) AS TEXT) "
                "WHERE key = 'hlc'",
                (self.max_hlc,),
            )


def _save(db: sqlite3.Connection, values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            db.execute("DELETE FROM sync_state WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (key, value))


def pull(
    pg: Any,
    store: LocalStore,
    *,
    page_size: int = 5000,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> PullReport:
    """Pull every change visible to this login since the store's cursor.

    ``pg`` is an open psycopg2 connection of the teacher's login with no transaction in
    progress; the pull uses (and ends) one REPEATABLE READ transaction on it. An
    interrupted pull is first completed with its own window, then the pull goes on to the
    present, so one call always ends up current.
    """
    report = PullReport()
    if progress is not None:
        progress("pull", 0, None)  # the pull has begun (the first page may take a while)
    state = store.states("pull_resume", "pull_cursor", "teacher_id")
    window = _Window(store, report, page_size, progress, cancel, state["teacher_id"])
    pg.rollback()
    pg.set_session(isolation_level="REPEATABLE READ", readonly=True)
    try:
        cur = pg.cursor()
        # The snapshot is taken by this first query (REPEATABLE READ): a resumed window
        # below reads in it too, then the new window runs up to its xmin.
        cur.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, "
            "(SELECT coalesce(array_agg(name::text), '{}') FROM pg_prepared_statements)"
        )
        hi, held = cur.fetchone()
        hi = str(hi)
        _prepare(cur, held)
        _run_windows(window, PgSource(cur), store, state, hi)
        return report
    finally:
        if not pg.closed:
            try:
                pg.rollback()
                pg.set_session(isolation_level="READ COMMITTED", readonly=False)
            except psycopg2.Error:
                pass  # the connection died with the pull; the engine reconnects


def pull_remote(
    source: Any,
    store: LocalStore,
    *,
    page_size: int = 5000,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> PullReport:
    """The pull through the Flourish service: ``source`` (the client half) asks it for the
    window's upper bound, then pages and rows, with the same resume points as :func:`pull`.
    Each page is its own server transaction; a row changed meanwhile moves to a later
    transaction id and arrives with the next pull, as after a resumed pull."""
    report = PullReport()
    if progress is not None:
        progress("pull", 0, None)
    state = store.states("pull_resume", "pull_cursor", "teacher_id")
    window = _Window(store, report, page_size, progress, cancel, state["teacher_id"])
    _run_windows(window, source, store, state, str(source.window_hi()))
    return report


def _run_windows(
    window: _Window, source: Any, store: LocalStore, state: dict[str, str | None], hi: str
) -> None:
    """Complete an interrupted window first, then pull from the cursor up to ``hi``."""
    report = window.report
    resume_raw = state["pull_resume"]
    if resume_raw:
        resume = json.loads(resume_raw)
        after = (resume["after"][0], int(resume["after"][1]))
        window.run(source, resume["lo"], resume["hi"], resume["step"], after)
    # after a resumed window the cursor has moved on: read it again
    lo = (store.state("pull_cursor") if resume_raw else state["pull_cursor"]) or "0"
    report.cursor = lo
    if int(hi) > int(lo):
        window.run(source, lo, hi, 0, ("0", 0))
        report.cursor = hi
    if report.rows + report.deleted >= window.page_size:
        store.checkpoint()  # a large pull let the log grow (see LocalStore.apply_remote)


class _Window:
    """Pulls one window ``lo <= sync_txid < hi`` in pages, saving the resume point."""

    def __init__(
        self,
        store: LocalStore,
        report: PullReport,
        page_size: int,
        progress: Progress | None,
        cancel: threading.Event | None,
        teacher_id: str | None,
    ) -> None:
        self.store = store
        self.report = report
        self.page_size = page_size
        self.progress = progress
        self.cancel = cancel
        self.teacher_id = teacher_id

    def run(self, cur: Any, lo: str, hi: str, step_index: int, after: tuple[str, int]) -> None:
        # Pages are fetched step by step and applied together once a page's worth of rows
        # is waiting (or at the end): a small pull is one local transaction. The next page
        # is read (on ``cur``) while the current one is written; the applier fetches what it
        # needs on a cursor of its own. Leaving the pool waits for a read still in flight, so
        # the connection is idle again whenever run() returns or raises.
        applier_cur = cur.twin()
        buffer: list[tuple[str, list[tuple[Any, ...]]]] = []
        buffered = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flourish-pull") as reader:
            ahead: Future[list[tuple[Any, ...]]] | None = None
            while step_index < len(_STEPS):
                if self.cancel is not None and self.cancel.is_set():
                    if buffer:
                        self._flush(applier_cur, buffer, lo, hi, step_index, after)
                    raise Cancelled()
                step = _STEPS[step_index]
                if ahead is None:
                    rows = cur.page(step, lo, hi, after, self.page_size)
                else:
                    rows, ahead = ahead.result(), None
                if rows:
                    buffer.append((step, rows))
                    buffered += len(rows)
                if len(rows) == self.page_size:
                    last = rows[-1]
                    after = (
                        str(last[-2] if step in ("tombstones", "visibility") else last[-1]),
                        _version_of(step, last),
                    )
                else:
                    step_index, after = step_index + 1, ("0", 0)
                if buffered >= self.page_size or step_index >= len(_STEPS):
                    if step_index < len(_STEPS):
                        ahead = reader.submit(
                            cur.page, _STEPS[step_index], lo, hi, after, self.page_size
                        )
                    self._flush(applier_cur, buffer, lo, hi, step_index, after)
                    buffer, buffered = [], 0

    def _flush(
        self,
        cur: Any,
        buffer: list[tuple[str, list[tuple[Any, ...]]]],
        lo: str,
        hi: str,
        step_index: int,
        after: tuple[str, int],
    ) -> None:
        done = step_index >= len(_STEPS)
        with self.store.apply_remote() as conn:
            applier = _Applier(conn, cur, self.report, self.teacher_id)
            for step, rows in buffer:
                if step == "tombstones":
                    applier.tombstones(rows)
                elif step == "visibility":
                    applier.visibility(rows)
                else:
                    applier.rows(step, [r[:-1] for r in rows])
            applier.finish()
            resume_point = {"lo": lo, "hi": hi, "step": step_index, "after": list(after)}
            _save(
                applier.db,
                {
                    "pull_resume": None if done else json.dumps(resume_point),
                    "pull_cursor": hi if done else lo,
                },
            )
        if self.progress is not None:
            self.progress("pull", self.report.rows + self.report.deleted, None)


def _version_of(step: str, row: Sequence[Any]) -> int:
    if step in ("tombstones", "visibility"):
        return int(row[-1])
    cols = exchanged_columns(step)
    return int(row[cols.index("sync_version")])
