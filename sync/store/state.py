"""The keys of the local store's ``sync_state`` table, named once.

``sync_state`` is a small key/value table in every local store. Code reads and writes it
through :meth:`LocalStore.state`, :meth:`LocalStore.states` and
:meth:`LocalStore.set_state` (or :func:`save` inside a transaction) and names a key only
by one of the constants below, so a misspelt key is a NameError instead of a silent
``None``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Final

__all__ = [
    "CLOCK_OFFSET_MS",
    "DEVICE_NO",
    "DEVICE_UUID",
    "HLC",
    "LAST_ERROR",
    "LAST_SYNC",
    "LOGIN",
    "OBJECTS_HASH",
    "PROFILE",
    "PULL_CURSOR",
    "PULL_RESUME",
    "SERVER_CA",
    "SERVER_EPOCH",
    "SERVER_URL",
    "TEACHER_ID",
    "advance_hlc",
    "save",
]

# -- who and where --------------------------------------------------------------------
#: The Flourish server this store syncs with (``https://HOST[:PORT]``).
SERVER_URL: Final = "server_url"
#: The teacher's sign-in name on that server.
LOGIN: Final = "login"
#: The teacher this store belongs to (``teachers.id``).
TEACHER_ID: Final = "teacher_id"
#: A CA certificate file trusted for the server (a school's own CA), or unset.
SERVER_CA: Final = "server_ca"
#: ``server`` (signed in), ``local`` (no server yet) or ``demo``.
PROFILE: Final = "profile"

# -- this device ------------------------------------------------------------------------
#: The device number the server gave this store (0 before the first sign-in).
DEVICE_NO: Final = "device_no"
#: A random id of this store, sent when it registers as a device.
DEVICE_UUID: Final = "device_uuid"
#: A hash of the replaceable local objects (triggers, views) the file holds.
OBJECTS_HASH: Final = "objects_hash"

# -- the clock ----------------------------------------------------------------------------
#: The hybrid logical clock's last stamp (see :mod:`sync.store.hlc`).
HLC: Final = "hlc"
#: How far this laptop's clock is off the server's, learnt from a push (ms).
CLOCK_OFFSET_MS: Final = "clock_offset_ms"

# -- the pull -----------------------------------------------------------------------------
#: The server's epoch last seen (a new one means the server was restored from a backup).
SERVER_EPOCH: Final = "server_epoch"
#: Everything below this server transaction id has been pulled.
PULL_CURSOR: Final = "pull_cursor"
#: Where an interrupted pull continues (JSON), or unset.
PULL_RESUME: Final = "pull_resume"

# -- what the user sees -----------------------------------------------------------------
LAST_SYNC: Final = "last_sync"
LAST_ERROR: Final = "last_error"


def save(db: sqlite3.Connection, values: Mapping[str, str | None]) -> None:
    """Set (or, for None, remove) state keys on a driver connection, in its transaction."""
    for key, value in values.items():
        if value is None:
            db.execute("DELETE FROM sync_state WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (key, value))


def advance_hlc(db: sqlite3.Connection, stamp: int) -> None:
    """Move the store's clock up to ``stamp`` (never back)."""
    db.execute(
        "UPDATE sync_state SET value = CAST(max(CAST(value AS INTEGER), ?) AS TEXT) WHERE key = ?",
        (stamp, HLC),
    )
