"""Property: replicas doing random writes, syncs, offline spells and clock offsets converge.

A hypothesis state machine drives three laptops of one teacher through a real service
process (one for the whole run, in front of one database); each example has a teacher and
two students of its own, so examples share nothing but the server. At the end every
laptop comes online and syncs; then

* every replica equals the server (and so each other);
* each row holds the write with the greatest ``(hlc, origin)`` of all writes made to it
  (a simple reference model of timestamp-wins, deletions included);
* every write that did not survive is either superseded by a write whose author had seen
  it, or present in the conflict log — nothing is lost silently.

Clock offsets stay within the tolerance the server accepts without correction, so the
model can compare the laptops' own stamps.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import text

from sync import actions
from sync.errors import TransientError
from sync.model.crud import DATA_ENTRIES
from sync.model.records import DataEntry, Student
from sync.server.admin import add_teacher
from sync.server.central import create_engine_for
from sync.store import hlc as hlclock
from tests.support.compare import differences, local_slice, server_slice
from tests.support.laptops import PASSWORD, Laptop, Server, admin_rows, make_server
from tests.support.pgcluster import PgCluster

_HUB: list[Server] = []
_names = itertools.count(100)


@pytest.fixture(scope="module", autouse=True)
def _hub(pg: PgCluster, _template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The database and the service every example syncs through."""
    url = pg.create_database("prop_hub", template=_template)
    server = make_server(url, teachers=(), database_logins=False)
    server.serve(tmp_path_factory.mktemp("prop-service"))
    _HUB[:] = [server]
    yield
    server.stop()
    pg.drop_database("prop_hub")


@dataclass
class Write:
    table: str
    pk: str
    value: str | None  # None: a deletion
    key: tuple[int, int]
    base: tuple[int, int] | None  # the version the writer held when writing


class Replicas(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.server = server = _HUB[0]
        self.url = server.admin_url
        n = next(_names)
        self.teacher = f"T{n}"
        self.students = [f"S{2 * n}", f"S{2 * n + 1}"]
        login = f"prop_{self.teacher.lower()}"
        add_teacher(
            self.url, teacher_id=self.teacher, name=f"Teacher {n}", login=login, password=PASSWORD
        )
        server.logins[self.teacher] = login
        for student in self.students:
            admin_rows(
                self.url,
                "INSERT INTO students (id, name, grade, teacher_id) VALUES (:s, :s, 7, :t)",
                s=student,
                t=self.teacher,
            )
        self.folder = Path(tempfile.mkdtemp(prefix="flourish-prop-"))
        self.laptops = [Laptop(server, self.teacher, self.folder / f"L{i}") for i in range(3)]
        for lap in self.laptops:
            lap.sync()
        self.offline = [False, False, False]
        self.writes: list[Write] = []
        self.counter = itertools.count(1)

    def teardown(self) -> None:
        for lap in self.laptops:
            lap.close()

    # -- helpers --------------------------------------------------------------------------
    def _current(self, lap: Laptop, table: str, pk: str) -> tuple[int, int] | None:
        with lap.store.read() as conn:
            row = conn.execute(
                text(f"SELECT sync_hlc, sync_origin FROM {table} WHERE id = :i"), {"i": pk}
            ).first()
        return None if row is None else (int(row[0]), int(row[1]))

    def _entries(self, lap: Laptop) -> list[str]:
        with lap.store.read() as conn:
            return [e.id for e in DATA_ENTRIES.list(conn)]  # type: ignore[misc]

    def _record(
        self, lap: Laptop, table: str, pk: str, value: str | None, base: tuple[int, int] | None
    ) -> None:
        if value is None:
            with lap.store.read() as conn:
                stamp = conn.exec_driver_sql(
                    "SELECT sync_hlc FROM sync_operations WHERE table_name = ? AND row_pk = ? "
                    "ORDER BY op_id DESC LIMIT 1",
                    (table, pk),
                ).scalar()
            key = (int(stamp), lap.device_no)
        else:
            current = self._current(lap, table, pk)
            assert current is not None
            key = current
        self.writes.append(Write(table, pk, value, key, base))

    # -- rules ------------------------------------------------------------------------------
    @initialize()
    def start(self) -> None:
        pass

    @rule(i=st.integers(0, 2), offset_s=st.integers(-50, 50))
    def set_clock(self, i: int, offset_s: int) -> None:
        self.laptops[i].store.clock = lambda o=offset_s: hlclock.now_millis() + o * 1000

    @rule(i=st.integers(0, 2))
    def toggle_offline(self, i: int) -> None:
        self.offline[i] = not self.offline[i]

    @rule(i=st.integers(0, 2), which=st.integers(0, 1))
    def add_entry(self, i: int, which: int) -> None:
        lap = self.laptops[i]
        value = f"w{next(self.counter)}"
        entry = actions.add_entry(
            lap.store,
            student_id=self.students[which],
            teacher_id=self.teacher,
            entry_type="parent_note",
            content=value,
            date=dt.date(2026, 11, 2),
        ).value
        assert entry.id is not None
        self._record(lap, "data_entries", entry.id, value, None)

    @rule(i=st.integers(0, 2), pick=st.integers(0, 50))
    def edit_entry(self, i: int, pick: int) -> None:
        lap = self.laptops[i]
        entries = self._entries(lap)
        if not entries:
            return
        pk = entries[pick % len(entries)]
        base = self._current(lap, "data_entries", pk)
        value = f"w{next(self.counter)}"
        with lap.store.write() as txn:
            txn.update(DataEntry, pk, content=value)
        self._record(lap, "data_entries", pk, value, base)

    @rule(i=st.integers(0, 2), pick=st.integers(0, 50))
    def delete_entry(self, i: int, pick: int) -> None:
        lap = self.laptops[i]
        entries = self._entries(lap)
        if not entries:
            return
        pk = entries[pick % len(entries)]
        base = self._current(lap, "data_entries", pk)
        with lap.store.write() as txn:
            txn.delete(DataEntry, pk)
        self._record(lap, "data_entries", pk, None, base)

    @rule(i=st.integers(0, 2), which=st.integers(0, 1))
    def rename_student(self, i: int, which: int) -> None:
        lap = self.laptops[i]
        student = self.students[which]
        base = self._current(lap, "students", student)
        value = f"w{next(self.counter)}"
        with lap.store.write() as txn:
            txn.update(Student, student, name=value)
        self._record(lap, "students", student, value, base)

    @precondition(lambda self: not all(self.offline))
    @rule(i=st.integers(0, 2))
    def sync(self, i: int) -> None:
        if self.offline[i]:
            return
        try:
            self.laptops[i].sync()
        except TransientError:  # pragma: no cover - the server is local and up
            raise

    @invariant()
    def queues_never_hold_quarantined_changes(self) -> None:
        for lap in self.laptops:
            with lap.store.read() as conn:
                held = conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM sync_operations WHERE status = 'quarantined'"
                ).scalar()
            assert held == 0

    # -- the end ------------------------------------------------------------------------------
    def check_final(self) -> None:
        for lap in self.laptops:
            lap.store.clock = hlclock.now_millis
        for _round in range(2):
            for lap in self.laptops:
                lap.sync()
        expected = server_slice(self.server.running().db_url, self.teacher)
        for lap in self.laptops:
            assert differences(local_slice(lap.store), expected) == {}
        engine = create_engine_for(self.url)
        with engine.connect() as conn:
            entries = dict(conn.execute(text("SELECT id, content FROM data_entries")).all())
            names = dict(conn.execute(text("SELECT id, name FROM students")).all())
            conflicts = {
                (t, pk, h, o)
                for t, pk, h, o in conn.execute(
                    text("SELECT table_name, row_pk, losing_hlc, losing_origin FROM sync_conflicts")
                )
            }
        engine.dispose()
        by_row: dict[tuple[str, str], list[Write]] = {}
        for w in self.writes:
            by_row.setdefault((w.table, w.pk), []).append(w)
        for (table, pk), writes in by_row.items():
            winner = max(writes, key=lambda w: w.key)
            actual: Any = (entries if table == "data_entries" else names).get(pk)
            assert actual == winner.value, (table, pk, writes)
            for w in writes:
                if w is winner:
                    continue
                superseded = any(
                    o.key > w.key and o.base is not None and o.base >= w.key for o in writes
                )
                logged = (table, pk, w.key[0], w.key[1]) in conflicts
                assert superseded or logged, (table, pk, w, writes)


class _Machine(Replicas):
    def teardown(self) -> None:
        try:
            self.check_final()
        finally:
            super().teardown()


TestReplicasConverge = _Machine.TestCase
TestReplicasConverge.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
