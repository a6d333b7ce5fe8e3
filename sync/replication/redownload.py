"""Download a fresh copy of the teacher's data from the server, keeping unsent changes.

A teacher whose store is damaged (:class:`sync.store.health.StoreDamagedError`), or who
simply wants a clean copy, gets the server's data again without losing what this laptop
has not sent yet. :func:`redownload` does it in this order, and nothing is deleted:

1. **Salvage** (:func:`salvage_unsent`): a copy of the store file (and its write-ahead log)
   is read with SQLite, its first bytes put back when only they were overwritten. From it
   come the sign-in (server, login, teacher, device), the bookkeeping that must never go
   back (the queue's operation counter, the id counters, the clock) and every unsent
   operation that can still be read. A damaged page does not stop the reading: the queue
   is then read one operation at a time and the unreadable ones are counted.
2. **Export**: the salvaged operations are written to
   ``<data dir>/backups/unsent-changes-<time>.json`` before anything else happens
   (:func:`load_unsent` reads such a file back).
3. **Download**: a new store beside the old one takes over the sign-in and the
   bookkeeping and pulls everything the server holds for the teacher, through the
   ordinary :class:`~sync.replication.engine.SyncEngine`.
4. **Re-apply**: each salvaged operation goes back into the queue with its own operation
   number and stamp, as if the old store were sending it again: the server answers
   ``duplicate`` for one it already applied, timestamp-wins decides the rest and the loser
   of a clash goes to the conflict log. A row whose change is newer than the downloaded
   one shows the change at once.
5. **Send**: one sync round pushes the queue and pulls what the server made of it; when
   the server cannot be reached now, the changes wait in the queue for the next sync.
6. **Swap**: the old file is kept beside the new one as ``*.damaged-<time>`` (or
   ``*.replaced-<time>`` when it was healthy) and the new store takes its name.

The old store must be closed (no process may have it open). Runs on a worker thread in
the app; it can take as long as a first sign-in's download.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.errors import FlourishError, StoreError, ValidationError
from sync.model.tables import LOCAL, SYNCED_TABLES
from sync.store.health import header_state, quick_check
from sync.store.local import LocalStore, sqlite_of
from sync.store.state import HLC, LOGIN, PROFILE, SERVER_URL, advance_hlc
from sync.store.storefile import PLAIN, Driver, driver_for, integrity_error, store_key_name

__all__ = ["RedownloadResult", "Salvage", "load_unsent", "redownload", "salvage_unsent"]

_MAGIC = b"SQLite format 3\x00"
_OP_COLUMNS = (
    "op_id",
    "table_name",
    "row_pk",
    "op",
    "payload",
    "sync_hlc",
    "student_id",
    "created_at",
    "status",
    "attempts",
    "last_error",
)
#: sync_state keys that belong to the old file, not to the sign-in (the new store makes
#: its own: a fresh pull cursor, the server's epoch as it finds it, its own last sync).
_FILE_STATE = frozenset(
    {"objects_hash", "pull_cursor", "pull_resume", "server_epoch", "last_sync", "last_error"}
)
Progress = Callable[[str, int, int | None], None]


def _db_errors(db: sqlite3.Connection) -> tuple[type[Exception], ...]:
    """sqlite3's DatabaseError and the one of the driver behind ``db`` (SQLCipher's)."""
    module = sys.modules[type(db).__module__]
    return (sqlite3.DatabaseError, getattr(module, "DatabaseError", sqlite3.DatabaseError))


@dataclass
class Salvage:
    """What could be read from a store (see the module docstring, step 1)."""

    state: dict[str, str]
    op_seq: int | None  # the queue's operation counter; None when it cannot be read
    counters: dict[str, int]
    hlc: int
    ops: list[dict[str, Any]]  # unsent operations, in queue order
    unreadable: int = 0  # operations that exist but cannot be read
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "flourish-unsent-changes/1",
            "state": {k: v for k, v in self.state.items() if k not in _FILE_STATE},
            "op_seq": self.op_seq,
            "counters": self.counters,
            "hlc": self.hlc,
            "operations": self.ops,
            "unreadable": self.unreadable,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class RedownloadResult:
    kept: int  # unsent changes carried over into the new store
    sent: bool  # pushed right away (False: they wait for the next sync)
    unreadable: int
    downloaded_rows: int
    export: Path
    old_file: Path
    send_error: str | None = None

    def summary(self) -> str:
        lines = [f"Downloaded a fresh copy from the server ({self.downloaded_rows} rows)."]
        if self.kept:
            lines.append(
                f"{self.kept} change(s) not sent before were kept and "
                + ("sent." if self.sent else f"wait for the next sync ({self.send_error}).")
            )
        if self.unreadable:
            lines.append(
                f"{self.unreadable} unsent change(s) could not be read from the old file "
                "and are lost."
            )
        lines.append(f"The unsent changes are also saved in {self.export}.")
        lines.append(f"The old data file is kept at {self.old_file}.")
        return "\n".join(lines)


def _key_for(path: Path, key: str | None) -> str | None:
    """The key of an encrypted store (the caller's, else the keyring's); None for a plain one."""
    if header_state(path) != "encrypted":
        return None
    if key is not None:
        return key
    from sync.credentials import get_secret
    from sync.store.storefile import KEY_ENV

    found = get_secret(store_key_name(path), env=KEY_ENV)
    if found is None:
        raise StoreError(
            f"{path} is encrypted and its key is not available (this computer's keyring, or "
            f"{KEY_ENV}): it cannot be read"
        )
    return found


# -- 1. salvage --------------------------------------------------------------------------


def _copy_for_reading(path: Path, work: Path) -> Path:
    """Copy the store and its write-ahead log to ``work``; put back overwritten first bytes."""
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    copy = work / path.name
    shutil.copyfile(path, copy)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    if header_state(path) == "damaged":  # only the magic is gone: SQLite can read the rest
        with open(copy, "r+b") as fh:
            fh.write(_MAGIC)
    return copy


def _read_ops(db: sqlite3.Connection, upper: int) -> tuple[list[dict[str, Any]], int]:
    """Every unsent operation that can be read, and how many could not be."""
    sql = f"SELECT {', '.join(_OP_COLUMNS)} FROM sync_operations"
    errors = _db_errors(db)
    found: dict[int, dict[str, Any]] = {}
    last = 0
    try:  # the quick way: one scan in queue order
        for row in db.execute(sql + " ORDER BY op_id"):
            found[int(row[0])] = dict(zip(_OP_COLUMNS, row, strict=True))
            last = int(row[0])
        return list(found.values()), 0
    except errors:
        pass
    unreadable = 0  # a damaged page: one operation at a time past the last good one
    for op_id in range(last + 1, max(upper, last) + 1):
        try:
            row = db.execute(sql + " WHERE op_id = ?", (op_id,)).fetchone()
        except errors:
            unreadable += 1
            continue
        if row is not None:
            found[op_id] = dict(zip(_OP_COLUMNS, row, strict=True))
    return [found[k] for k in sorted(found)], unreadable


def salvage_unsent(path: Path, *, key: str | None = None) -> Salvage:
    """Read the sign-in, the bookkeeping and the unsent operations of the store at
    ``path`` (closed; damaged or not). The file itself is not changed."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"no data file at {path}")
    key = _key_for(path, key)
    work = path.parent / f".salvage-{dt.datetime.now():%Y%m%d-%H%M%S-%f}"
    try:
        copy = _copy_for_reading(path, work)
        driver: Driver = PLAIN if key is None else driver_for(copy, key)
        db = driver.connect(copy, isolation_level=None)
        try:
            return _salvage(db, path)
        except _db_errors(db) as exc:
            raise StoreError(f"nothing can be read from {path} ({exc})") from exc
        finally:
            db.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _salvage(db: sqlite3.Connection, path: Path) -> Salvage:
    problems: list[str] = []
    errors = _db_errors(db)
    try:
        state = {str(k): str(v) for k, v in db.execute("SELECT key, value FROM sync_state")}
    except errors as exc:
        raise StoreError(
            f"the sign-in cannot be read from the damaged file {path} ({exc}): choose an "
            "empty data folder and sign in again to download your data"
        ) from exc
    try:
        row = db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'sync_operations'"
        ).fetchone()
        op_seq: int | None = int(row[0]) if row else 0
    except errors as exc:
        op_seq = None
        problems.append(f"the queue's counter cannot be read ({exc})")
    try:
        counters = {
            str(t): int(n) for t, n in db.execute("SELECT table_name, last_n FROM local_counters")
        }
    except errors as exc:
        counters = {}
        problems.append(f"the id counters cannot be read ({exc})")
    ops, unreadable = _read_ops(db, op_seq or 0)
    if unreadable:
        problems.append(f"{unreadable} queued operation(s) cannot be read")
    stamps = [int(op["sync_hlc"]) for op in ops]
    hlc = max([int(state.get(HLC, "0") or 0), *stamps])
    if ops:
        op_seq = max(op_seq or 0, max(int(op["op_id"]) for op in ops))
    return Salvage(state, op_seq, counters, hlc, ops, unreadable, problems)


def load_unsent(file: Path) -> Salvage:
    """A :class:`Salvage` from a file written by :func:`redownload` (step 2)."""
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        if data.get("format") != "flourish-unsent-changes/1":
            raise ValueError("not a file of unsent Flourish changes")
        return Salvage(
            state={str(k): str(v) for k, v in data["state"].items()},
            op_seq=None if data["op_seq"] is None else int(data["op_seq"]),
            counters={str(k): int(v) for k, v in data["counters"].items()},
            hlc=int(data["hlc"]),
            ops=list(data["operations"]),
            unreadable=int(data.get("unreadable", 0)),
            problems=list(data.get("problems", [])),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{file}: {exc}") from exc


# -- 3-4. download and re-apply ------------------------------------------------------------


def _carry_bookkeeping(store: LocalStore, salvage: Salvage) -> None:
    state = {k: v for k, v in salvage.state.items() if k not in _FILE_STATE and k != "hlc"}
    with store.apply_remote() as conn:
        raw = sqlite_of(conn)
        raw.executemany(
            "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", list(state.items())
        )
        raw.executemany(
            "INSERT INTO local_counters (table_name, last_n) VALUES (?, ?) ON CONFLICT "
            "(table_name) DO UPDATE SET last_n = max(last_n, excluded.last_n)",
            list(salvage.counters.items()),
        )
        _advance(raw, salvage.op_seq or 0, salvage.hlc)


def _advance(raw: sqlite3.Connection, op_seq: int, hlc: int) -> None:
    """The queue counter and the clock never go back."""
    raw.execute("DELETE FROM sqlite_sequence WHERE name = 'sync_operations' AND seq < ?", (op_seq,))
    raw.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'sync_operations', ? WHERE NOT EXISTS "
        "(SELECT 1 FROM sqlite_sequence WHERE name = 'sync_operations')",
        (op_seq,),
    )
    advance_hlc(raw, hlc)


def _row_values(table: str, payload: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import JSON

    values = {}
    for col in LOCAL.table(table).columns:
        if col.name in payload:
            value = payload[col.name]
            if isinstance(col.type, JSON) and value is not None:
                value = json.dumps(value)
            values[col.name] = value
    return values


def _reapply(store: LocalStore, ops: list[dict[str, Any]]) -> int:
    """Queue the operations again as they were and show the newer ones locally."""
    with store.apply_remote() as conn:
        raw = sqlite_of(conn)
        conflict = integrity_error(raw)
        for op in ops:
            table = str(op["table_name"])
            if table not in SYNCED_TABLES:
                raise StoreError(f"queued operation {op['op_id']}: unknown table {table!r}")
            payload = json.loads(op["payload"]) if isinstance(op["payload"], str) else {}
            now = raw.execute(f"SELECT sync_hlc FROM {table} WHERE id = ?", (op["row_pk"],))
            current = now.fetchone()
            newer = current is None or current[0] is None or int(current[0]) < int(op["sync_hlc"])
            raw.execute("SAVEPOINT reapply")
            try:
                if op["op"] == "delete" and current is not None and newer:
                    raw.execute(f"DELETE FROM {table} WHERE id = ?", (op["row_pk"],))
                elif op["op"] == "upsert" and newer:
                    values = _row_values(table, payload)
                    cols = ", ".join(values)
                    marks = ", ".join("?" for _ in values)
                    sets = ", ".join(f"{c} = excluded.{c}" for c in values if c != "id")
                    raw.execute(
                        f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
                        f"ON CONFLICT (id) DO UPDATE SET {sets}",
                        list(values.values()),
                    )
            except conflict:
                # e.g. its parent was lost with the damage: the server decides (and refuses
                # it visibly); the queue keeps it either way
                raw.execute("ROLLBACK TO reapply")
            raw.execute("RELEASE reapply")
            raw.execute(
                f"INSERT OR REPLACE INTO sync_operations ({', '.join(_OP_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _OP_COLUMNS)})",
                [op[c] for c in _OP_COLUMNS],
            )
        if ops:
            _advance(raw, max(int(o["op_id"]) for o in ops), max(int(o["sync_hlc"]) for o in ops))
    return len(ops)


# -- the whole ----------------------------------------------------------------------------


def redownload(
    path: Path,
    *,
    key: str | None = None,
    password: str | None = None,
    progress: Progress | None = None,
    salvage: Salvage | None = None,
) -> RedownloadResult:
    """Replace the closed store at ``path`` by a fresh copy from the server, keeping and
    sending its readable unsent changes (see the module docstring).

    ``password`` is the device token (default: the keyring's); ``salvage`` re-applies an
    exported file's changes instead of reading the old store's. Raises before anything is
    replaced when the store is not signed in to a server or the server cannot be reached.
    """
    from sync.replication.engine import SyncEngine

    path = Path(path)
    key = _key_for(path, key)  # the fresh copy is encrypted like the old file
    salvage = salvage or salvage_unsent(path, key=key)
    state = salvage.state
    if state.get(PROFILE) == "demo":
        raise ValidationError("the demo has no server to download from: start the demo afresh")
    if not state.get(SERVER_URL) or not state.get(LOGIN):
        raise ValidationError(
            "this laptop is not signed in to a server, so there is nothing to download: "
            "restore a backup instead"
        )
    if salvage.op_seq is None:
        raise StoreError(
            "the old data file's queue counter cannot be read, so changes made from now on "
            "could be mistaken for ones already sent: choose an empty data folder and sign "
            "in again to download your data as a new laptop"
        )
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    export = path.parent / "backups" / f"unsent-changes-{stamp}.json"
    export.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(export, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(salvage.to_json(), fh, indent=1)

    fresh_path = path.with_name(f"{path.name}.download-{stamp}")
    sent, send_error = False, None
    try:
        with LocalStore.open(fresh_path, key=key) as fresh:
            _carry_bookkeeping(fresh, salvage)
            with SyncEngine.from_store(fresh, password=password) as engine:
                pulled = engine.pull(progress=progress).pull.rows
                kept = _reapply(fresh, salvage.ops)
                if kept:
                    try:
                        # push, then pull what the server made of them (its triggers' flags)
                        engine.sync_once(progress=progress)
                        sent = True
                    except FlourishError as exc:  # offline now: they wait in the queue
                        send_error = str(exc)
            fresh.checkpoint()
    except BaseException:
        _remove(fresh_path)
        raise
    header = header_state(path)
    damaged = header == "damaged" or (header == "plain" and bool(quick_check(path)))
    old = path.with_name(f"{path.name}.{'damaged' if damaged else 'replaced'}-{stamp}")
    _move(path, old)
    _move(fresh_path, path)
    return RedownloadResult(
        kept=kept,
        sent=sent or not kept,
        unreadable=salvage.unreadable,
        downloaded_rows=pulled,
        export=export,
        old_file=old,
        send_error=send_error,
    )


def _move(path: Path, to: Path) -> None:
    """Rename a store file with its write-ahead log and shared-memory file."""
    for suffix in ("", "-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            side.rename(Path(str(to) + suffix))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            side.unlink()
