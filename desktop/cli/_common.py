"""What every ``flourish`` command shares: the one usage error, the one way to open the
local store, the ``--db`` URL, passwords, and printing rows as JSON or a table."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sync import paths
from sync.errors import FlourishError
from sync.store.state import TEACHER_ID

if TYPE_CHECKING:
    from sync.store.local import LocalStore

__all__ = [
    "UsageError",
    "db_url",
    "open_store",
    "parse_date",
    "password",
    "print_json",
    "print_table",
    "teacher_of",
]


class UsageError(Exception):
    """Bad command-line usage: ``main`` prints the command's usage and exits with 2."""


def open_store(args: argparse.Namespace, *, create: bool = False) -> LocalStore:
    """The local store of ``--data-dir`` (or the default folder); a missing store is a
    one-line failure unless ``create``."""
    from sync.store.local import LocalStore

    path = paths.local_db_path(args.data_dir)
    if not path.exists() and not create:
        raise FlourishError(
            f"no local store at {path}: run 'flourish login' or 'flourish demo' first"
        )
    return LocalStore.open(path, create=create)


def db_url(args: argparse.Namespace) -> str:
    url = args.db or os.environ.get("FLOURISH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise UsageError("--db URL is required (or set FLOURISH_DATABASE_URL)")
    return str(url)


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{option} must be a date like 2026-10-12, not {value!r}") from exc


def password(prompt: str) -> str:
    """FLOURISH_PASSWORD, else a prompt on a terminal, else one line of standard input."""
    if os.environ.get("FLOURISH_PASSWORD"):
        return os.environ["FLOURISH_PASSWORD"]
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("no password: set FLOURISH_PASSWORD or pass it on standard input")
    return line


def teacher_of(store: LocalStore) -> str:
    teacher = store.state(TEACHER_ID)
    if not teacher:
        raise FlourishError("no teacher is signed in on this laptop: run 'flourish login'")
    return str(teacher)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    widths = [min(w, 60) for w in widths]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))
