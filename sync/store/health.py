"""Is the store file healthy, encrypted, or damaged? SQLite's own checks decide.

* **The header.** A plain SQLite file starts with ``SQLite format 3\\0`` and its next
  bytes hold fixed values (offsets 18–23: file format 1 or 2, payload fractions 64, 32,
  32). An SQLCipher file is random from its first byte. So a file whose first bytes were
  overwritten but whose fixed header values are in place is a *damaged plain* store, not
  an encrypted one: Flourish must not ask for a passphrase it never had.
* **The pages.** ``PRAGMA quick_check`` walks every page; anything but ``ok`` (or
  SQLite's "database disk image is malformed" on the way) is damage.

:class:`StoreDamagedError` says so plainly, names the file and what can be done: restore
the newest automatic backup from ``<data dir>/backups/`` (:func:`automatic_backups`),
or, on a laptop signed in to a server, download the data again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

from sync.errors import StoreError

__all__ = [
    "StoreDamagedError",
    "automatic_backups",
    "damage_from",
    "header_state",
    "quick_check",
]

_MAGIC = b"SQLite format 3\x00"
HeaderState = Literal["missing", "empty", "plain", "encrypted", "damaged"]


class StoreDamagedError(StoreError):
    """The store file is damaged (see the module docstring); ``backups``: newest first."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        self.backups = automatic_backups(path)
        fix = (
            f"restore the automatic backup {self.backups[0]} "
            f"('flourish restore --in {self.backups[0]} --force' or the app's offer)"
            if self.backups
            else "restore a backup you made (flourish restore --in FILE --force)"
        )
        super().__init__(
            f"the data file {path} is damaged ({detail}); nothing was changed. To go on, "
            f"{fix}, or sign in again to download your data from the server"
        )


def header_state(path: Path) -> HeaderState:
    """What the file's first 100 bytes say (see the module docstring)."""
    if not path.exists():
        return "missing"
    with open(path, "rb") as fh:
        head = fh.read(100)
    if not head:
        return "empty"
    if head[:16] == _MAGIC:
        return "plain"
    if (
        len(head) >= 24
        and head[18] in (1, 2)
        and head[19] in (1, 2)
        and head[21:24] == b"\x40\x20\x20"
    ):
        return "damaged"
    return "encrypted"


def quick_check(path: Path) -> list[str]:
    """SQLite's ``PRAGMA quick_check`` on a plain store (read-only); [] when healthy."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def automatic_backups(path: Path) -> list[Path]:
    """The automatic backups beside the store (``<data dir>/backups/*.sqlite3``), newest first."""
    folder = path.parent / "backups"
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.sqlite3") if p.is_file() and header_state(p) == "plain"]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def damage_from(path: Path, exc: BaseException) -> StoreDamagedError | None:
    """A :class:`StoreDamagedError` when ``exc`` (from SQLite) means ``path`` is damaged."""
    text = str(getattr(exc, "orig", None) or exc)
    if "malformed" not in text and "not a database" not in text:
        return None
    if header_state(path) == "encrypted":
        return None
    problems = quick_check(path)
    return StoreDamagedError(path, problems[0] if problems else text)
