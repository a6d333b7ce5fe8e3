"""Local profiles: which store a data folder holds (the teacher's own, or the demo).

A demo store is marked ``profile = demo`` in ``sync_state``. ``flourish demo`` recreates it
fresh on every run, but never touches a data folder that holds a teacher's own store.
"""

from __future__ import annotations

import os
from pathlib import Path

from sync.errors import StoreError
from sync.model.demo import DEMO_TEACHER, load_demo_rows
from sync.paths import LOCAL_DB_NAME
from sync.store.local import LocalStore, sqlite_of
from sync.store.state import PROFILE, TEACHER_ID
from sync.store.state import save as save_state

__all__ = ["LOCAL_TEACHER_ID", "create_demo_store", "create_local_profile", "is_demo_store"]

#: The id a teacher gets when working without a server (the server's id replaces it at
#: the first sign-in; every reference follows, see sync.replication.login).
LOCAL_TEACHER_ID = "T001"


def is_demo_store(path: Path) -> bool:
    with LocalStore.open(path, create=False) as store:
        return store.state(PROFILE) == "demo"


def _remove_store_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            candidate.unlink()


def load_demo_local(store: LocalStore, *, teacher_id: str = DEMO_TEACHER) -> int:
    """Fill a local store with the demo dataset and sign it in as ``teacher_id``: the rows
    arrive as if from the server, so nothing is queued."""
    with store.apply_remote() as conn:
        added = load_demo_rows(conn)
        save_state(sqlite_of(conn), {TEACHER_ID: teacher_id, PROFILE: "demo"})
    return added


def create_demo_store(directory: str | os.PathLike[str], *, keep: bool = False) -> Path:
    """Create (or with ``keep``, reuse) the demo store in ``directory``; returns its path."""
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


def create_local_profile(
    path: str | os.PathLike[str], *, teacher_name: str, email: str | None = None
) -> Path:
    """A teacher's own store for working without a server: the teacher is the profile.

    Signing in to a school server later keeps everything: rows made here move into the
    laptop's id range and the teacher takes the server's id (:func:`sync.replication.login.login`).
    """
    from sync.errors import ValidationError
    from sync.model.records import Teacher

    name = teacher_name.strip()
    if not name:
        raise ValidationError("your name is needed to work without a server")
    db_path = Path(path)
    if db_path.exists():
        raise StoreError(f"{db_path} already holds a Flourish store")
    with LocalStore.open(db_path) as store:
        with store.apply_remote() as conn:  # the teacher row is this laptop's, never sent
            from sync.model.crud import TEACHERS

            TEACHERS.insert(conn, Teacher(id=LOCAL_TEACHER_ID, name=name[:100], email=email))
        store.set_state({TEACHER_ID: LOCAL_TEACHER_ID, PROFILE: "local"})
    return db_path
