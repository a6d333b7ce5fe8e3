"""The local store's file: plain SQLite, or encrypted at rest with SQLCipher.

An encrypted store is an SQLCipher database (``sqlcipher3``, the optional ``encryption``
extra) whose key lives in the OS keyring under ``local-store:<path>`` — or, where there is
no keyring, is typed in each session via ``FLOURISH_STORE_KEY``. A file is recognised as
encrypted by its first bytes (a plain SQLite file starts with ``SQLite format 3``).

:func:`encrypt` and :func:`decrypt` convert a closed store in place: the new file is
written next to the old one (``sqlcipher_export``), synced to disk, and atomically renamed
over it, so a crash leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from sync.credentials import delete_secret, get_secret, set_secret
from sync.errors import StoreError

__all__ = [
    "Driver",
    "KEY_ENV",
    "decrypt",
    "driver_for",
    "encrypt",
    "integrity_error",
    "is_encrypted",
    "store_key_name",
]

KEY_ENV = "FLOURISH_STORE_KEY"
_MAGIC = b"SQLite format 3\x00"
_RAW_KEY = re.compile(r"^[0-9a-f]{64}$")


def store_key_name(path: Path) -> str:
    return f"local-store:{path.resolve()}"


def is_encrypted(path: Path) -> bool:
    """True for an SQLCipher file; a plain file with damaged first bytes is not one
    (:func:`sync.store.health.header_state`)."""
    from sync.store.health import header_state

    return header_state(path) == "encrypted"


def _sqlcipher() -> ModuleType:
    try:
        import sqlcipher3.dbapi2 as module
    except ImportError as exc:
        raise StoreError(
            "encryption at rest needs the sqlcipher3 package "
            "(pip install 'flourish-desktop[encryption]')"
        ) from exc
    return cast(ModuleType, module)


@dataclass(frozen=True)
class Driver:
    """How to open one store file: the DB-API module and, for SQLCipher, the key."""

    module: ModuleType
    key: str | None = None

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    def connect(self, path: Path | str, **kwargs: Any) -> sqlite3.Connection:
        conn = cast(sqlite3.Connection, self.module.connect(str(path), **kwargs))
        if self.key is not None:
            conn.execute(_key_pragma(self.key))
        return conn


PLAIN = Driver(sqlite3)


def _key_pragma(key: str) -> str:
    if _RAW_KEY.match(key):  # a generated key: used as is, no key derivation
        return f"PRAGMA key = \"x'{key}'\""
    return "PRAGMA key = '" + key.replace("'", "''") + "'"


def driver_for(path: Path, key: str | None = None) -> Driver:
    """The driver for ``path``: plain, or SQLCipher with the key from the caller, the
    keyring or ``FLOURISH_STORE_KEY``."""
    from sync.store.health import StoreDamagedError, header_state

    if header_state(path) == "damaged":
        raise StoreDamagedError(path, "its first bytes are not SQLite's")
    if not is_encrypted(path) and key is None:
        return PLAIN
    key = key or get_secret(store_key_name(path), env=KEY_ENV)
    if key is None:
        raise StoreError(
            f"{path} is not a readable SQLite database as it is: either it is encrypted and "
            f"its key is not available (this computer's keyring, or {KEY_ENV}), or it is "
            "damaged"
        )
    driver = Driver(_sqlcipher(), key)
    if is_encrypted(path):
        probe = driver.connect(path)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except Exception as exc:
            raise StoreError(
                f"{path} is not a readable SQLite database with this key: the key is wrong "
                "or the file is damaged"
            ) from exc
        finally:
            probe.close()
    return driver


def integrity_error(conn: sqlite3.Connection) -> type[Exception]:
    """The IntegrityError class of the driver behind ``conn`` (sqlite3 or sqlcipher3)."""
    module = sys.modules[type(conn).__module__]
    return cast(type[Exception], module.IntegrityError)


def _replace(tmp: Path, path: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        leftover = Path(str(path) + suffix)
        if leftover.exists():
            leftover.unlink()


def _export(src: sqlite3.Connection, tmp: Path, attach_key: str) -> None:
    version = src.execute("PRAGMA user_version").fetchone()[0]
    app_id = src.execute("PRAGMA application_id").fetchone()[0]
    src.execute(f"ATTACH DATABASE ? AS target KEY {attach_key}", (str(tmp),))
    src.execute("SELECT sqlcipher_export('target')")
    src.execute(f"PRAGMA target.user_version = {int(version)}")
    src.execute(f"PRAGMA target.application_id = {int(app_id)}")
    src.execute("DETACH DATABASE target")


def encrypt(path: Path, *, key: str | None = None) -> str:
    """Encrypt the (closed) plain store at ``path``; returns the key.

    A new random key goes to the keyring; without a keyring, pass ``key`` (a passphrase
    the teacher will type each session through ``FLOURISH_STORE_KEY``).
    """
    if is_encrypted(path):
        raise StoreError(f"{path} is already encrypted")
    module = _sqlcipher()
    new_key = key or secrets.token_hex(32)
    if key is None and not set_secret(store_key_name(path), new_key):
        raise StoreError(
            f"no keyring on this computer to keep the key: set {KEY_ENV} to a passphrase "
            "and encrypt with it"
        )
    tmp = path.with_name(path.name + ".encrypting")
    tmp.unlink(missing_ok=True)
    src = module.connect(str(path), isolation_level=None)
    try:
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pragma = _key_pragma(new_key).removeprefix("PRAGMA key = ")
        _export(src, tmp, pragma)
    finally:
        src.close()
    _replace(tmp, path)
    return new_key


def decrypt(path: Path, *, key: str | None = None) -> None:
    """Turn the (closed) encrypted store at ``path`` back into a plain file."""
    driver = driver_for(path, key)
    tmp = path.with_name(path.name + ".decrypting")
    tmp.unlink(missing_ok=True)
    src = driver.connect(path, isolation_level=None)
    try:
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _export(src, tmp, "''")
    finally:
        src.close()
    _replace(tmp, path)
    delete_secret(store_key_name(path))
