"""Signing a laptop in to the school's Flourish server: where it syncs, as whom, as which device.

:func:`login` exchanges the teacher's password once for a device token (the service
answers which teacher the login is), registers this store as a device (which fixes its id
range, see :mod:`sync.model.ids`), and records the server's address, login, teacher and
device number in the store. Only the token is kept, in the OS keyring (see
:mod:`sync.credentials`); the password is never stored.

A store that an older version signed in to the database directly (its address is a
``postgresql://`` URL) keeps its data and its queue: signing in to the service as the same
teacher takes it over (the device keeps its number), and the next sync sends the queue.

A store used without a server (device 0) may hold rows already: they are moved into the
new device's id range once, here, and queued for the first push. A store that is linked
to another server or teacher, or a demo store, is refused.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text

from sync.credentials import delete_secret, server_key_name, set_secret
from sync.errors import ConfigurationError, StoreError, ValidationError
from sync.model.ids import ID_RANGE, allocate_id
from sync.model.tables import SYNCED_TABLES
from sync.replication.client.http import (
    DIRECT_URL_MESSAGE,
    ServiceClient,
    check_ca_file,
    is_database_url,
    is_service_url,
)
from sync.server.central import normalise_url
from sync.store import queue
from sync.store.local import LocalStore, sqlite_of
from sync.store.state import (
    DEVICE_NO,
    DEVICE_UUID,
    LOGIN,
    PROFILE,
    SERVER_CA,
    SERVER_URL,
    TEACHER_ID,
)

__all__ = ["LoginResult", "clean_url", "login", "sign_out"]

_GENERATED = ("data_entries", "assessments", "teacher_corrections", "skill_targets", "badges")


@dataclass(frozen=True)
class LoginResult:
    teacher_id: str
    device_no: int
    renumbered: int
    password_stored: bool  # the device token is kept in the keyring
    token: str | None = None  # the device token


def clean_url(server_url: str, user: str) -> str:
    """The server URL with ``user`` as login and no password (safe to store and show).

    A password in the URL (``user:secret@host`` or ``?password=secret``) is dropped: the
    password travels separately and is kept in the keyring or nowhere."""
    parsed = normalise_url(server_url)
    # URL.set(password=None) would keep the password (None means "unchanged" there)
    parsed = parsed._replace(username=user, password=None).difference_update_query(
        [key for key in parsed.query if key.lower() in ("password", "user")]
    )
    rendered = parsed.render_as_string(hide_password=False)
    return rendered.replace("postgresql+psycopg2://", "postgresql://", 1)


def login(
    store: LocalStore,
    *,
    server_url: str,
    user: str,
    password: str,
    remember: bool = True,
    ca_file: str | None = None,
) -> LoginResult:
    """Sign in through the Flourish service: the password buys a device token once; only
    the token is kept (keyring), and the service registers the laptop as the teacher."""
    if store.state(PROFILE) == "demo":
        raise StoreError("this is a demo store; sign in from your own data folder")
    if is_database_url(server_url):
        raise ConfigurationError(DIRECT_URL_MESSAGE)
    url = clean_service_url(server_url)
    ca = check_ca_file(ca_file) if ca_file else None
    previous = store.states(SERVER_URL, LOGIN)
    client = ServiceClient(url, ca_file=ca)
    try:
        answer = client.sign_in(user, password, socket.gethostname() or "laptop")
        teacher = str(answer["teacher_id"])
        adopt = _check_store(store, url, user, teacher)
        device_no = int(
            client.register(str(store.state(DEVICE_UUID)), socket.gethostname())["device_no"]
        )
    finally:
        client.close()
    if store.device_no and device_no != store.device_no:
        raise StoreError(
            f"this data folder is device {store.device_no} of another server; "
            "use another data folder (--data-dir) for this login"
        )
    _forget_direct_password(previous[SERVER_URL], previous[LOGIN])
    store.set_state({SERVER_CA: ca})
    token = str(answer["token"])
    result = _finish(
        store,
        url,
        user,
        teacher,
        device_no,
        adopt,
        token if remember else None,
        urlsplit(url).hostname or "",
    )
    return LoginResult(
        result.teacher_id, result.device_no, result.renumbered, result.password_stored, token
    )


def _forget_direct_password(url: str | None, user: str | None) -> None:
    """An older version kept the teacher's database password in the keyring: drop it."""
    if url and user and is_database_url(url):
        delete_secret(server_key_name(user, normalise_url(url).host or ""))


def clean_service_url(server_url: str) -> str:
    """``https://HOST[:PORT]`` (no path, no credentials); plain http is refused.

    A password pasted into the address is refused without repeating the address."""
    parts = urlsplit(server_url.strip())
    if parts.username or parts.password:
        raise ValidationError(
            "the server address must not hold a login or password: give https://HOST[:PORT] "
            "and your login with --user"
        )
    if parts.scheme.lower() != "https":
        raise ValidationError(f"{server_url}: the Flourish server is reached over https:// only")
    if not parts.hostname:
        raise ValidationError(f"{server_url}: expected https://HOST[:PORT]")
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError as exc:
        raise ValidationError(f"{server_url}: expected https://HOST[:PORT] ({exc})") from exc
    return f"https://{parts.hostname}{port}"


def _check_store(store: LocalStore, url: str, user: str, teacher: str) -> bool:
    """Refuse a store linked elsewhere; True if a local-only profile adopts ``teacher``."""
    linked = store.state(SERVER_URL)
    device_no = store.device_no
    known_teacher = store.state(TEACHER_ID)
    moved = is_database_url(linked)  # signed in directly before: the service takes over
    if device_no and ((linked != url and not moved) or known_teacher != teacher):
        raise StoreError(
            f"this data folder is linked to {linked} as {known_teacher}; "
            "use another data folder (--data-dir) for this login"
        )
    adopt = (
        device_no == 0
        and store.state(PROFILE) == "local"
        and known_teacher is not None
        and known_teacher != teacher
    )
    if known_teacher and known_teacher != teacher and not adopt:
        raise StoreError(
            f"this data folder belongs to teacher {known_teacher}, but {user} is "
            f"{teacher} on the server"
        )
    return adopt


def _finish(
    store: LocalStore,
    url: str,
    user: str,
    teacher: str,
    new_device: int,
    adopt: bool,
    secret: str | None,
    host: str,
) -> LoginResult:
    """Adopt, renumber and record the sign-in; keep ``secret`` in the keyring if given."""
    known_teacher = store.state(TEACHER_ID)
    device_no = store.device_no
    renumbered = 0
    if adopt and known_teacher is not None:
        _adopt_teacher(store, known_teacher, teacher)
    if device_no == 0:
        renumbered = _renumber(store, new_device)
    store.set_state(
        {
            SERVER_URL: url,
            LOGIN: user,
            TEACHER_ID: teacher,
            DEVICE_NO: str(new_device),
            PROFILE: "server",
        }
    )
    stored = set_secret(server_key_name(user, host), secret) if secret is not None else False
    return LoginResult(teacher, new_device, renumbered, stored)


def _adopt_teacher(store: LocalStore, local_id: str, server_id: str) -> None:
    """A local-only profile becomes the server's teacher: its id changes and every
    reference follows (the local foreign keys cascade on update)."""
    with store.apply_remote() as conn:
        taken = conn.execute(text("SELECT 1 FROM teachers WHERE id = :s"), {"s": server_id})
        if taken.first():
            conn.execute(text("DELETE FROM teachers WHERE id = :s"), {"s": server_id})
        conn.execute(
            text("UPDATE teachers SET id = :s WHERE id = :l"), {"s": server_id, "l": local_id}
        )
        conn.execute(
            text("UPDATE students SET teacher_id = :s WHERE teacher_id = :l"),
            {"s": server_id, "l": local_id},
        )


def _renumber(store: LocalStore, device_no: int) -> int:
    """Move rows made before registration into the device's id range; queue them anew."""
    moved = 0
    with store.apply_remote() as conn:
        for table in _GENERATED:
            numeric = "CAST(substr(id, 3) AS INTEGER)" if table == "data_entries" else "id"
            old_ids = (
                conn.execute(
                    text(f"SELECT id FROM {table} WHERE {numeric} < :r ORDER BY {numeric}"),
                    {"r": ID_RANGE},
                )
                .scalars()
                .all()
            )
            for old in old_ids:
                new = allocate_id(conn, table, device_no)
                conn.execute(
                    text(f"UPDATE {table} SET id = :new WHERE id = :old"), {"new": new, "old": old}
                )
                moved += 1
        if moved:
            queue.discard_all(sqlite_of(conn))
    if moved:
        with store.write() as txn:
            stamp = txn.stamp()
            for table in SYNCED_TABLES:
                if table in ("teachers", "sync_conflicts"):
                    continue
                txn.conn.execute(
                    text(f"UPDATE {table} SET sync_hlc = max(sync_hlc + 1, :s), sync_origin = :d"),
                    {"s": stamp, "d": device_no},
                )
    return moved


def sign_out(path: Path, *, force: bool = False, key: str | None = None) -> int:
    """Wipe this laptop's store (and its backups and secrets); refuse while changes are
    unsent unless ``force``. Returns the number of unsent changes that were discarded.

    ``key`` opens an encrypted store whose key is not in the keyring (a passphrase)."""
    from sync.replication.status import queue_status
    from sync.store.storefile import store_key_name

    with LocalStore.open(path, create=False, key=key) as store:
        waiting = queue_status(store)
        unsent = int(waiting["pending"]) + int(waiting["quarantined"])
        if unsent and not force:
            raise ValidationError(
                f"{unsent} change(s) have not reached the server: sync first, or sign out "
                "with --force to discard them"
            )
        url, user = store.state(SERVER_URL), store.state(LOGIN)
    if url and user:
        host = urlsplit(url).hostname if is_service_url(url) else normalise_url(url).host
        delete_secret(server_key_name(user, host or ""))
    delete_secret(store_key_name(path))
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    backups = path.parent / "backups"
    if backups.is_dir():
        for item in backups.glob(f"{path.stem}-*"):
            item.unlink()
    return unsent
