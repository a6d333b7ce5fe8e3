"""File system locations: the one module that knows where things live.

* **Resources** (curriculum, demo data, icons) and **SQL** (replaceable objects, Alembic
  migrations) ship with the program. From a source checkout they sit at the project root
  next to the ``sync`` package; in a PyInstaller bundle they are unpacked below
  ``sys._MEIPASS``. :func:`resource_path` and :func:`sql_path` hide the difference.
* **Data** (the local SQLite store, backups, logs, settings) goes to the platform's user data
  directory (platformdirs), or to ``FLOURISH_DATA_DIR`` / ``--data-dir`` when given. Nothing
  is ever written next to the executable.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "DATA_DIR_ENV",
    "LOCAL_DB_NAME",
    "data_dir",
    "local_db_path",
    "program_root",
    "resource_path",
    "sql_path",
]

APP_NAME = "Flourish"
APP_AUTHOR = "Flourish"
DATA_DIR_ENV = "FLOURISH_DATA_DIR"
LOCAL_DB_NAME = "flourish.sqlite3"


def program_root() -> Path:
    """The folder holding ``resources/`` and ``sql/``.

    The bundle when frozen; the project root when run from a source checkout (or an
    editable install); ``<prefix>/share/flourish`` when installed from a wheel.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    source = Path(__file__).resolve().parent.parent
    if (source / "sql").is_dir():
        return source
    installed = Path(sysconfig.get_path("data")) / "share" / "flourish"
    if (installed / "sql").is_dir():
        return installed
    raise FileNotFoundError(
        f"Flourish's sql/ and resources/ folders are missing: looked in {source} and "
        f"{installed}. Reinstall the program."
    )


def resource_path(*parts: str) -> Path:
    """Path of a file shipped in ``resources/`` (works from source and frozen)."""
    return program_root().joinpath("resources", *parts)


def sql_path(*parts: str) -> Path:
    """Path of a file shipped in ``sql/`` (works from source and frozen)."""
    return program_root().joinpath("sql", *parts)


def data_dir(override: str | os.PathLike[str] | None = None, *, create: bool = True) -> Path:
    """The user's data directory: ``override``, else ``$FLOURISH_DATA_DIR``, else platformdirs.

    Created with owner-only permissions when missing (``create=True``).
    """
    if override:
        path = Path(override).expanduser()
    elif os.environ.get(DATA_DIR_ENV):
        path = Path(os.environ[DATA_DIR_ENV]).expanduser()
    else:
        path = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            from sync.errors import StoreError

            raise StoreError(folder_problem(path, exc)) from exc
    return path.resolve()


def folder_problem(folder: Path, exc: BaseException) -> str:
    """One line naming the data folder that cannot be used and the fix."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return (
        f"the data folder {folder} cannot be used ({reason}): Flourish must be able to "
        "create and write files there. Choose another folder (--data-dir, "
        "FLOURISH_DATA_DIR, or the app's offer) or give yourself write access to it"
    )


def local_db_path(directory: str | os.PathLike[str] | None = None) -> Path:
    """``<data dir>/flourish.sqlite3``."""
    return data_dir(directory) / LOCAL_DB_NAME
