"""Bringing the server's changes to the laptop: a commit-safe, resumable, bounded pull.

The laptop's half. The service hands out a window's upper bound, pages and single rows
(:mod:`sync.service.pull_queries` says what they hold and why the cursor is commit-safe);
this module asks for them through a :class:`Source` (the HTTPS client) and writes them
into SQLite.

**Shared evidence.** A group transcript owned by another teacher's student that supports a
proposal for one of this teacher's students is readable (row level security) and arrives
without its owner (``student_id`` NULL), so the laptop holds no row of that student.

**Order.** Tombstones first (a row re-created after a deletion then wins), then the tables
parents first, then visibility events: a ``revoke`` (a student moved to another teacher,
which row level security hides from this teacher's ordinary pull) deletes the student's
rows here and quarantines queued edits for them; a ``grant`` fetches the student's whole
slice.

**Bounded and resumable.** Rows come in pages (keyset on ``(sync_txid, sync_version)``);
each page is applied in its own local transaction together with the resume point, so an
interrupted initial sync continues where it stopped, with the same window. While a page is
written locally the next one is already being requested, so an initial sync costs about
the larger of the two.

**Local changes win only if newer.** A pulled row is not applied over a local row that
has a queued change with a newer timestamp (that change will be pushed and judged by the
server); otherwise the server's row is applied and the queued change stays queued.
Applied rows are never queued again (``LocalStore.apply_remote``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection

from sync.model.rules import NATURAL_KEYS, PARENTS
from sync.replication.wire import INT_ID_TABLES, PULL_STEPS, exchanged_columns
from sync.store import queue
from sync.store.capture import capture_ddl, trigger_names
from sync.store.local import LocalStore, sqlite_of
from sync.store.state import PULL_CURSOR, PULL_RESUME, TEACHER_ID, advance_hlc
from sync.store.state import save as save_state
from sync.store.storefile import integrity_error

__all__ = ["Cancelled", "PullReport", "Source", "pull"]

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


class Source(Protocol):
    """Where a pull reads: the service's client half (:class:`ServiceClient`)."""

    def window_hi(self) -> str: ...

    def pages(
        self, lo: str, hi: str, step: str, after: tuple[str, int], limit: int
    ) -> tuple[list[tuple[str, list[tuple[Any, ...]]]], tuple[str, tuple[str, int]] | None]:
        """Pages of every step from ``step`` after ``after`` on, up to ``limit`` rows in
        all, and where the next call starts (None: the window is done)."""
        ...

    def fetch(self, table: str, by: str, value: str) -> list[tuple[Any, ...]]: ...

    def twin(self) -> Source:
        """A second reader for the applier (pages are read ahead on the first)."""
        ...


class _Applier:
    """Writes server rows into the local store inside one ``apply_remote`` transaction."""

    def __init__(
        self, conn: Connection, cur: Source, report: PullReport, teacher_id: str | None
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
            self._pending[table] = queue.pending_stamps(self.db, table)
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
                queue.quarantine_student(
                    self.db,
                    student_id,
                    f"student {student_id} now belongs to another teacher; this change was "
                    "not sent",
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
            advance_hlc(self.db, self.max_hlc)


def pull(
    source: Source,
    store: LocalStore,
    *,
    page_size: int = 5000,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> PullReport:
    """Pull every change visible to this teacher since the store's cursor.

    ``source`` (the client half) asks the service for the window's upper bound, then pages
    and rows. An interrupted pull is first completed with its own window, then the pull
    goes on to the present, so one call always ends up current."""
    report = PullReport()
    if progress is not None:
        progress("pull", 0, None)
    state = store.states(PULL_RESUME, PULL_CURSOR, TEACHER_ID)
    window = _Window(store, report, page_size, progress, cancel, state[TEACHER_ID])
    _run_windows(window, source, store, state, str(source.window_hi()))
    return report


def _run_windows(
    window: _Window, source: Source, store: LocalStore, state: dict[str, str | None], hi: str
) -> None:
    """Complete an interrupted window first, then pull from the cursor up to ``hi``."""
    report = window.report
    resume_raw = state[PULL_RESUME]
    if resume_raw:
        resume = json.loads(resume_raw)
        after = (resume["after"][0], int(resume["after"][1]))
        window.run(source, resume["lo"], resume["hi"], resume["step"], after)
    # after a resumed window the cursor has moved on: read it again
    lo = (store.state(PULL_CURSOR) if resume_raw else state[PULL_CURSOR]) or "0"
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

    def run(self, cur: Source, lo: str, hi: str, step_index: int, after: tuple[str, int]) -> None:
        # One request brings pages of as many steps as fit in page_size rows (tombstones
        # first, then the tables parents first, then visibility), and they are applied in
        # one local transaction together with where the next request starts: a small pull
        # is one request and one local transaction. The next request is under way (on
        # ``cur``) while the current answer is written; the applier fetches what it needs
        # on a reader of its own. Leaving the pool waits for a read still in flight, so the
        # connection is idle again whenever run() returns or raises.
        applier_cur = cur.twin()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="flourish-pull") as reader:
            ahead: Future[Any] | None = None
            while step_index < len(PULL_STEPS):
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled()  # everything read so far is applied, with its resume point
                if ahead is None:
                    found, following = cur.pages(
                        lo, hi, PULL_STEPS[step_index], after, self.page_size
                    )
                else:
                    (found, following), ahead = ahead.result(), None
                if following is None:
                    step_index, after = len(PULL_STEPS), ("0", 0)
                else:
                    step_index, after = PULL_STEPS.index(following[0]), following[1]
                    ahead = reader.submit(
                        cur.pages, lo, hi, PULL_STEPS[step_index], after, self.page_size
                    )
                self._flush(applier_cur, found, lo, hi, step_index, after)

    def _flush(
        self,
        cur: Source,
        buffer: list[tuple[str, list[tuple[Any, ...]]]],
        lo: str,
        hi: str,
        step_index: int,
        after: tuple[str, int],
    ) -> None:
        done = step_index >= len(PULL_STEPS)
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
            save_state(
                applier.db,
                {
                    PULL_RESUME: None if done else json.dumps(resume_point),
                    PULL_CURSOR: hi if done else lo,
                },
            )
        if self.progress is not None:
            self.progress("pull", self.report.rows + self.report.deleted, None)
