"""Local profiles: which store a data folder holds (the teacher's own, or the demo).

A demo store is marked ``profile = demo`` in ``sync_state``. ``flourish demo`` recreates it
fresh on every run, but never touches a data folder that holds a teacher's own store.
"""

from __future__ import annotations

import os
from pathlib import Path

from sync.errors import StoreError
from sync.local import LocalStore
from sync.paths import LOCAL_DB_NAME

__all__ = ["create_demo_store", "is_demo_store"]


def is_demo_store(path: Path) -> bool:
    with LocalStore.open(path, create=False) as store:
        return store.state("profile") == "demo"


def _remove_store_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            candidate.unlink()


def create_demo_store(directory: str | os.PathLike[str], *, keep: bool = False) -> Path:
    """Create (or with ``keep``, reuse) the demo store in ``directory``; returns its path."""
    from sync.demo import load_demo_local

    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / LOCAL_DB_NAME
    if path.exists():
        if not is_demo_store(path):
            raise StoreError(
                f"{folder} holds a teacher's own Flourish data, not a demo; "
                "choose another folder with --data-dir"
            )
        if keep:
            return path
        _remove_store_files(path)
    with LocalStore.open(path) as store:
        load_demo_local(store)
    return path
