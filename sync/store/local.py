"""The teacher's local store: one SQLite file, the offline copy of their part of the schema.

Threading and transaction rules (read before using):

* **One writer.** Every write runs in :meth:`LocalStore.write`, which takes a per-file lock
  in this process and starts ``BEGIN IMMEDIATE`` (so writers in other processes queue on
  SQLite's busy timeout instead of failing half-way). Do not write through a connection
  from :meth:`LocalStore.read`; the capture triggers would refuse it anyway.
* **Rows and their queue entries commit together**: the capture triggers
  (:mod:`sync.store.capture`) put every change into ``sync_operations`` inside the same
  transaction; :class:`WriteTxn` stamps each row with the device's HLC and allocates ids
  in the device's own range (:mod:`sync.model.ids`).
* **Pulled rows are not captured**: :meth:`LocalStore.apply_remote` sets the apply guard
  inside its own transaction.
* WAL journal, ``synchronous=FULL`` (a teacher decision survives a power cut once
  :meth:`write` returns), foreign keys on, ``busy_timeout`` set, file mode 0600.
* Reads (:meth:`LocalStore.read`) run in a deferred transaction: a consistent snapshot that
  never blocks the writer. Any thread may read; keep GUI-thread reads out (see ``desktop``).

Opening a file from an older version upgrades it in place after a backup copy taken with
SQLite's online backup API; a file from a newer version is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from sync.errors import StoreError, ValidationError
from sync.model.crud import SYNCED_REPOS, Repo
from sync.model.ids import allocate_id
from sync.model.records import R, Record
from sync.paths import folder_problem, local_db_path, sql_path
from sync.sqlobjects import LOCAL_OBJECTS, load
from sync.store import hlc as hlclock
from sync.store.capture import all_capture_ddl, drop_capture_ddl
from sync.store.state import CLOCK_OFFSET_MS, DEVICE_NO, DEVICE_UUID, HLC, OBJECTS_HASH
from sync.store.storefile import PLAIN, Driver, driver_for

__all__ = ["LOCAL_SCHEMA_VERSION", "Change", "LocalStore", "WriteTxn", "sqlite_of"]


def sqlite_of(conn: Connection) -> sqlite3.Connection:
    """The driver connection under a store connection (for executemany-speed paths).

    sqlite3's, or SQLCipher's for an encrypted store (the same DB-API interface).
    """
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return cast(sqlite3.Connection, raw)


APPLICATION_ID = 0x464C5253  # "FLRS": marks a file as a Flourish store
LOCAL_SCHEMA_VERSION = 3
# Write-ahead log pages (4 KiB) allowed to build up while server rows are applied, and
# SQLite's default for everything else.
_APPLY_CHECKPOINT_PAGES = 16384
_DEFAULT_CHECKPOINT_PAGES = 1000

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path), threading.RLock())


@dataclass(frozen=True)
class Change:
    """One row a write touched: the app broadcasts these so views can refresh."""

    table: str
    pk: str
    op: Literal["insert", "update", "delete"]


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run a multi-statement script inside the current transaction.

    (``executescript`` would commit first, breaking the migration's atomicity.)
    """
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                db.execute(pending)
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise StoreError(f"incomplete SQL statement at end of script: {pending[:80]!r}")


def _migration_v1(db: sqlite3.Connection) -> None:
    _run_script(db, sql_path("local", "schema_v1.sql").read_text(encoding="utf-8"))


def _migration_v2(db: sqlite3.Connection) -> None:
    _run_script(db, sql_path("local", "schema_v2.sql").read_text(encoding="utf-8"))


def _migration_v3(db: sqlite3.Connection) -> None:
    _run_script(db, sql_path("local", "schema_v3.sql").read_text(encoding="utf-8"))


# version -> step that brings a file from version-1 to version. Steps are frozen: a new
# schema change is a new step, never an edit of an old one.
_MIGRATIONS = {1: _migration_v1, 2: _migration_v2, 3: _migration_v3}
assert max(_MIGRATIONS) == LOCAL_SCHEMA_VERSION

_STATE_DEFAULTS = {DEVICE_NO: "0", HLC: "0", CLOCK_OFFSET_MS: "0"}


def _objects_ddl() -> tuple[list[str], list[str]]:
    """(drop, create) statements for the replaceable local objects."""
    drops = drop_capture_ddl() + [load(n, local=True).drop for n in reversed(LOCAL_OBJECTS)]
    creates = [load(n, local=True).create for n in LOCAL_OBJECTS] + all_capture_ddl()
    return drops, creates


class LocalStore:
    """An open local store. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(self, path: Path, engine: Engine, driver: Driver = PLAIN) -> None:
        self.path = path
        self.engine = engine
        self.driver = driver
        self._lock = _lock_for(path)
        #: The wall clock (milliseconds since the epoch) this store stamps changes with.
        #: Tests give a laptop a skewed clock here; the program never changes it.
        self.clock: Callable[[], int] = hlclock.now_millis

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        key: str | None = None,
    ) -> LocalStore:
        """Open (creating or upgrading as needed) the store at ``path``.

        ``path`` defaults to ``<data dir>/flourish.sqlite3``. An encrypted store opens with
        ``key`` or the key in the keyring / ``FLOURISH_STORE_KEY`` (see
        :mod:`sync.store.storefile`); a new store is encrypted from the start when ``key`` is given.
        """
        db_path = Path(path) if path is not None else local_db_path()
        if not db_path.exists():
            if not create:
                raise StoreError(f"no local store at {db_path}")
            try:
                db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(db_path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            except OSError as exc:
                raise StoreError(folder_problem(db_path.parent, exc)) from exc
            os.close(fd)
        driver = driver_for(db_path, key)
        engine = create_engine(
            "sqlite://",
            module=driver.module,
            creator=lambda: driver.connect(db_path, check_same_thread=False, timeout=30),
            # a file store shared by threads: a real pool (the default for "sqlite://" is
            # one connection per thread, closed behind other threads' backs)
            poolclass=QueuePool,
            pool_size=8,
            max_overflow=16,
        )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        store = cls(db_path, engine, driver)
        try:
            store._prepare()
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self) -> None:
        with self._lock:
            raw = self.driver.connect(self.path, isolation_level=None, timeout=30)
            try:
                self._check_and_migrate(raw)
            finally:
                raw.close()

    def _check_and_migrate(self, db: sqlite3.Connection) -> None:
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except Exception as exc:  # sqlite3 or SQLCipher's DatabaseError
            from sync.store.health import damage_from

            if not os.access(self.path.parent, os.W_OK) or not os.access(self.path, os.W_OK):
                raise StoreError(folder_problem(self.path.parent, exc)) from exc
            damaged = damage_from(self.path, exc)
            if damaged is not None:
                raise damaged from exc
            raise StoreError(f"{self.path} is not a readable SQLite database: {exc}") from exc
        if tables and app_id != APPLICATION_ID:
            raise StoreError(f"{self.path} is an SQLite file but not a Flourish store")
        if version > LOCAL_SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer Flourish (local schema {version}, this "
                f"program knows up to {LOCAL_SCHEMA_VERSION}): update Flourish"
            )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=OFF")  # migrations may rebuild tables
        if 0 < version < LOCAL_SCHEMA_VERSION:
            self.backup(self._backup_name(f"schema-v{version}"), source=db)
        drops, creates = _objects_ddl()
        objects_hash = hashlib.sha256("\n".join(creates).encode()).hexdigest()
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # re-read under lock
            migrated = False
            for step in range(version + 1, LOCAL_SCHEMA_VERSION + 1):
                _MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {step}")
                migrated = True
            if version == 0:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("INSERT OR IGNORE INTO sync_apply_guard (id, applying) VALUES (1, 0)")
                defaults = {**_STATE_DEFAULTS, DEVICE_UUID: str(uuid.uuid4())}
                db.executemany(
                    "INSERT OR IGNORE INTO sync_state (key, value) VALUES (?, ?)",
                    list(defaults.items()),
                )
            row = db.execute(
                "SELECT value FROM sync_state WHERE key = ?", (OBJECTS_HASH,)
            ).fetchone()
            if migrated or row is None or row[0] != objects_hash:
                for stmt in drops + creates:
                    db.execute(stmt)
                db.execute(
                    "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)",
                    (OBJECTS_HASH, objects_hash),
                )
            problems = db.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise StoreError(f"{self.path}: foreign key check failed after upgrade: {problems}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _backup_name(self, reason: str) -> Path:
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        return self.path.parent / "backups" / f"{self.path.stem}-{reason}-{stamp}.sqlite3"

    # -- backup ------------------------------------------------------------------------
    def backup(
        self, dest: str | os.PathLike[str], *, source: sqlite3.Connection | None = None
    ) -> Path:
        """Copy the store to ``dest`` with SQLite's online backup API (safe while open)."""
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        own = source is None
        src = source or self.driver.connect(self.path, timeout=30)
        try:
            dst = self.driver.connect(target)  # an encrypted store's copy stays encrypted
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            if own:
                src.close()
        return target

    # -- state -------------------------------------------------------------------------
    def state(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            row = conn.exec_driver_sql("SELECT value FROM sync_state WHERE key = ?", (key,)).first()
        return default if row is None else str(row[0])

    def states(self, *keys: str) -> dict[str, str | None]:
        """Several state values in one read (None where unset)."""
        with self.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT key, value FROM sync_state WHERE key IN (SELECT value FROM json_each(?))",
                (json.dumps(keys),),
            ).all()
        found = {str(k): str(v) for k, v in rows}
        return {key: found.get(key) for key in keys}

    def set_state(self, values: Mapping[str, str | None]) -> None:
        with self.write() as txn:
            txn.set_state(values)

    @property
    def device_no(self) -> int:
        return int(self.state(DEVICE_NO, "0") or 0)

    # -- transactions ------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot (deferred transaction)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[WriteTxn]:
        """The one way to change synced data: ``BEGIN IMMEDIATE``, stamped, captured."""
        with self._lock, self.engine.connect() as conn:
            conn = conn.execution_options(flourish_begin="IMMEDIATE")
            with conn.begin():
                txn = WriteTxn(conn=conn, store=self)
                yield txn

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database now (without waiting for readers)."""
        with self._lock, self.engine.connect() as conn:
            sqlite_of(conn).execute("PRAGMA wal_checkpoint(PASSIVE)")

    @contextmanager
    def apply_remote(self) -> Iterator[Connection]:
        """Write rows that came from the server: not captured, not re-stamped.

        These transactions commit with ``synchronous=NORMAL``: a power cut may undo the
        last of them, which only means the same rows are pulled (or the same batch is
        acknowledged) again — both are idempotent. Teacher decisions always use FULL.
        They also let the write-ahead log grow to 64 MB before a checkpoint instead of
        SQLite's 4 MB, so a large pull copies each hot index page into the database once
        rather than once per page of rows; :meth:`checkpoint` settles it afterwards.
        """
        with self._lock, self.engine.connect() as conn:
            raw = sqlite_of(conn)  # pragmas outside any transaction
            raw.execute("PRAGMA synchronous = NORMAL")
            raw.execute(f"PRAGMA wal_autocheckpoint = {_APPLY_CHECKPOINT_PAGES}")
            try:
                conn = conn.execution_options(flourish_begin="IMMEDIATE")
                with conn.begin():
                    conn.exec_driver_sql("UPDATE sync_apply_guard SET applying = 1 WHERE id = 1")
                    yield conn
                    conn.exec_driver_sql("UPDATE sync_apply_guard SET applying = 0 WHERE id = 1")
            finally:
                raw.execute("PRAGMA synchronous = FULL")
                raw.execute(f"PRAGMA wal_autocheckpoint = {_DEFAULT_CHECKPOINT_PAGES}")


def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
    for pragma in (
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = FULL",
        "PRAGMA busy_timeout = 30000",
    ):
        dbapi_conn.execute(pragma)


def _on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("flourish_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class WriteTxn:
    """An open write transaction on the local store (see :meth:`LocalStore.write`)."""

    conn: Connection
    store: LocalStore
    changes: list[Change] = field(default_factory=list)
    _device_no: int | None = None

    @property
    def device_no(self) -> int:
        if self._device_no is None:
            row = self.conn.exec_driver_sql(
                "SELECT value FROM sync_state WHERE key = ?", (DEVICE_NO,)
            ).first()
            self._device_no = int(row[0]) if row else 0
        return self._device_no

    def stamp(self) -> int:
        """A fresh HLC stamp, persisted as the store's clock state."""
        row = self.conn.exec_driver_sql(
            "SELECT value FROM sync_state WHERE key = ?", (CLOCK_OFFSET_MS,)
        ).first()
        offset = int(row[0]) if row else 0
        physical = hlclock.from_millis(self.store.clock() + offset)
        value = self.conn.exec_driver_sql(
            "UPDATE sync_state SET value = CAST(max(CAST(value AS INTEGER) + 1, ?) AS TEXT) "
            "WHERE key = ? RETURNING value",
            (physical, HLC),
        ).scalar_one()
        return int(value)

    def new_id(self, table: str) -> int | str:
        return allocate_id(self.conn, table, self.device_no)

    def set_state(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                self.conn.exec_driver_sql("DELETE FROM sync_state WHERE key = ?", (key,))
            else:
                self.conn.exec_driver_sql(
                    "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (key, value)
                )

    # -- row writes (stamped and captured) -----------------------------------------------
    def _repo(self, table: str) -> Repo[Any]:
        return SYNCED_REPOS[table]

    def insert(self, record: R) -> R:
        if getattr(record, "id", None) is None:
            if record.table in ("teachers", "students"):
                raise ValidationError(f"{record.table}: a new row needs an id")
            record = record.replace(id=self.new_id(record.table))
        stamped = record.replace(sync_hlc=self.stamp(), sync_origin=self.device_no, sync_version=0)
        stored: R = self._repo(record.table).insert(self.conn, stamped)
        self.changes.append(Change(record.table, str(stored.to_dict()["id"]), "insert"))
        return stored

    def update(self, cls: type[R], pk: object, **changes: Any) -> R:
        stamped = dict(changes, sync_hlc=self.stamp(), sync_origin=self.device_no)
        stored: R = self._repo(cls.table).update(self.conn, pk, stamped)
        self.changes.append(Change(cls.table, str(pk), "update"))
        return stored

    def delete(self, cls: type[Record], pk: object) -> bool:
        self.stamp()
        deleted = self._repo(cls.table).delete(self.conn, pk)
        if deleted:
            self.changes.append(Change(cls.table, str(pk), "delete"))
        return deleted
