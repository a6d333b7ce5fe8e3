"""Backup and restore of the teacher's local store (``flourish backup`` / ``restore``).

Both directions use SQLite's online backup API, never a file copy of an open database:
:func:`backup_local` is :meth:`LocalStore.backup` plus a check of what was written;
:func:`restore_local` copies a backup file *into* the open store page by page.

Restoring rules (the app's "Restore from backup…" calls :func:`restore_local` too):

* The file must be a Flourish store (application id, a schema version this program
  knows, ``PRAGMA quick_check`` ok). An older schema is upgraded after the restore. An
  encrypted store's backups are encrypted with its key (SQLCipher), so they restore into
  that store; plain and encrypted never mix (``flourish decrypt`` first).
* Refused while this store holds changes not yet synced (they would be lost), or when the
  file belongs to another teacher than the one signed in here — unless ``force``.
* A safety copy of the current store is taken first, to
  ``<data dir>/backups/flourish-before-restore-<time>.sqlite3``.
* The sync bookkeeping is carried over so that nothing already sent is lost or sent
  twice: the queue's operation counter, the per-table id counters and the clock never go
  back (an older backup would otherwise reuse operation numbers the server has already
  acknowledged, and ids it already holds). The pull cursor does go back, so the next sync
  fetches again everything the server changed since the backup was taken.

Threading: run it with no other writer on the store (stop the sync worker first); it holds
the store's in-process write lock while it copies.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sync.errors import StoreError, ValidationError
from sync.store.local import APPLICATION_ID, LOCAL_SCHEMA_VERSION, LocalStore, sqlite_of
from sync.store.queue import counts
from sync.store.state import DEVICE_NO, DEVICE_UUID, HLC, PROFILE, TEACHER_ID, advance_hlc
from sync.store.storefile import PLAIN, Driver, is_encrypted

__all__ = [
    "LocalRestoreResult",
    "RestoreRefused",
    "StoreInfo",
    "backup_local",
    "inspect_store_file",
    "restore_local",
]

_HEADER = b"SQLite format 3\x00"


class RestoreRefused(ValidationError):
    """The restore would lose data; nothing was changed (``force`` overrides)."""


@dataclass(frozen=True)
class StoreInfo:
    """What a store file holds."""

    path: Path
    schema_version: int
    teacher_id: str | None
    profile: str
    device_no: int
    students: int
    entries: int
    assessments: int
    unsent: int  # changes not sent yet, pending or held back (sync.store.queue)

    def summary(self) -> str:
        who = f"teacher {self.teacher_id}" if self.teacher_id else "no teacher signed in"
        return (
            f"{self.path.name}: {who}, {self.students} students, {self.entries} evidence "
            f"entries, {self.assessments} assessments, {self.unsent} unsynced changes"
        )


def _readonly(path: Path, driver: Driver) -> sqlite3.Connection:
    return driver.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def inspect_store_file(path: str | os.PathLike[str], *, driver: Driver = PLAIN) -> StoreInfo:
    """Check that ``path`` is a usable Flourish store and say what it holds.

    An encrypted store (and its backups) opens only with ``driver``, the driver of the
    store it belongs to (``LocalStore.driver``: SQLCipher and that store's key).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValidationError(f"no backup file at {file}")
    if is_encrypted(file) and not driver.encrypted:
        raise ValidationError(
            f"{file} is not a Flourish backup, or it is encrypted with a key this store "
            "does not have (restore an encrypted backup on the laptop that made it)"
        )
    if not is_encrypted(file) and driver.encrypted:
        raise ValidationError(
            f"{file} is not encrypted but this store is: run 'flourish decrypt' first, or "
            "restore a backup of this encrypted store"
        )
    try:
        db = _readonly(file, driver)
    except Exception as exc:  # sqlite3 or SQLCipher errors alike
        raise ValidationError(f"{file} is not a readable Flourish store ({exc})") from exc
    try:
        app_id, version = (
            db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version")
        )
        if app_id != APPLICATION_ID:
            raise ValidationError(f"{file} is an SQLite database but not a Flourish store")
        if not 1 <= version <= LOCAL_SCHEMA_VERSION:
            raise ValidationError(
                f"{file} has local schema {version}; this Flourish knows 1 to "
                f"{LOCAL_SCHEMA_VERSION} (update Flourish to restore it)"
            )
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise ValidationError(f"{file} is damaged ({check})")
        state = dict(db.execute("SELECT key, value FROM sync_state").fetchall())

        def count(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        return StoreInfo(
            path=file,
            schema_version=int(version),
            teacher_id=state.get(TEACHER_ID),
            profile=state.get(PROFILE, "local"),
            device_no=int(state.get(DEVICE_NO, 0) or 0),
            students=count("SELECT COUNT(*) FROM students"),
            entries=count("SELECT COUNT(*) FROM data_entries"),
            assessments=count("SELECT COUNT(*) FROM assessments"),
            unsent=counts(db).unsent,
        )
    except ValidationError:
        raise
    except Exception as exc:  # sqlite3 or SQLCipher's DatabaseError
        raise ValidationError(f"{file} is not a readable Flourish store ({exc})") from exc
    finally:
        db.close()


def backup_local(store: LocalStore, dest: str | os.PathLike[str]) -> StoreInfo:
    """Write a backup of ``store`` to ``dest`` (online backup API) and check it."""
    target = Path(dest).expanduser()
    if target.is_dir():
        raise ValidationError(f"{target} is a folder: give a file name for the backup")
    if target.resolve() == store.path.resolve():
        raise ValidationError("the backup cannot replace the store itself")
    store.backup(target)
    return inspect_store_file(target, driver=store.driver)


@dataclass(frozen=True)
class LocalRestoreResult:
    restored: StoreInfo
    safety_copy: Path
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"restored {self.restored.summary()}",
            f"the store as it was is kept at {self.safety_copy}",
        ]
        return "\n".join(lines + self.warnings)


def _bookkeeping(db: sqlite3.Connection) -> tuple[int, dict[str, int], int, str | None]:
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sync_operations'").fetchone()
    counters = dict(db.execute("SELECT table_name, last_n FROM local_counters").fetchall())
    state = dict(db.execute("SELECT key, value FROM sync_state").fetchall())
    return (
        (int(seq[0]) if seq else 0),
        counters,
        int(state.get(HLC, 0) or 0),
        state.get(DEVICE_UUID),
    )


def restore_local(
    store: LocalStore, source: str | os.PathLike[str], *, force: bool = False
) -> LocalRestoreResult:
    """Replace the contents of ``store`` with the backup ``source`` (see the module doc)."""
    info = inspect_store_file(source, driver=store.driver)
    if info.path.resolve() == store.path.resolve():
        raise ValidationError("that file is the store itself")
    with store.read() as conn:
        unsent = counts(sqlite_of(conn)).unsent
    teacher = store.state(TEACHER_ID)
    if not force:
        if unsent:
            raise RestoreRefused(
                f"{unsent} change(s) on this laptop are not synced yet and would be lost: "
                "sync first, or restore with --force (a safety copy is kept)"
            )
        if teacher and info.teacher_id and teacher != info.teacher_id:
            raise RestoreRefused(
                f"the backup belongs to teacher {info.teacher_id}, this laptop is signed in "
                f"as {teacher}: restore with --force to replace it anyway"
            )
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    safety = store.backup(
        store.path.parent / "backups" / f"flourish-before-restore-{stamp}.sqlite3"
    )
    warnings: list[str] = []
    with store._lock:  # no writer of this process may run while the pages are replaced
        dst = store.driver.connect(store.path, timeout=30, isolation_level=None)
        try:
            seq, counters, hlc, uuid = _bookkeeping(dst)
            src = _readonly(info.path, store.driver)
            try:
                src.backup(dst)
            finally:
                src.close()
            _carry_over(dst, seq, counters, hlc)
            restored_uuid = _bookkeeping(dst)[3]
        except Exception as exc:  # sqlite3 or SQLCipher errors alike
            raise StoreError(
                f"restore failed ({exc}); the store was left as it was (a copy is at {safety})"
            ) from exc
        finally:
            dst.close()
    if uuid and restored_uuid and uuid != restored_uuid:
        warnings.append(
            "note: the backup comes from another laptop; do not use both laptops with it"
        )
    if info.schema_version < LOCAL_SCHEMA_VERSION:  # upgrade in place (after a copy)
        LocalStore.open(store.path, create=False, key=store.driver.key).close()
    return LocalRestoreResult(info, safety, warnings)


def _carry_over(db: sqlite3.Connection, seq: int, counters: dict[str, int], hlc: int) -> None:
    """Never let the queue counter, id counters or clock go back (see the module doc)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'sync_operations'", (seq,)
        )
        if db.execute("SELECT changes()").fetchone()[0] == 0 and seq:
            db.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_operations', ?)", (seq,)
            )
        for key, last in counters.items():
            db.execute(
                "INSERT INTO local_counters (table_name, last_n) VALUES (?, ?) "
                "ON CONFLICT (table_name) DO UPDATE SET last_n = max(last_n, excluded.last_n)",
                (key, last),
            )
        advance_hlc(db, hlc)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
