"""Signing a laptop in to the central server: where it syncs, as whom, as which device.

:func:`login` checks the login against the server (schema version, the teacher it maps
to), registers this store as a device (which fixes its id range, see :mod:`sync.model.ids`),
and records the server URL (without password), login, teacher and device number in the
store. The password goes to the OS keyring only (see :mod:`sync.credentials`).

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

from sync.credentials import server_key_name, set_secret
from sync.errors import AuthError, StoreError, ValidationError
from sync.model.ids import ID_RANGE, allocate_id
from sync.model.tables import SYNCED_TABLES
from sync.replication.client.http import ServiceClient, is_service_url
from sync.replication.engine import check_schema, connect
from sync.server.central import normalise_url
from sync.store.local import LocalStore

__all__ = ["LoginResult", "clean_url", "login", "sign_out"]

_GENERATED = ("data_entries", "assessments", "teacher_corrections", "skill_targets", "badges")


@dataclass(frozen=True)
class LoginResult:
    teacher_id: str
    device_no: int
    renumbered: int
    password_stored: bool  # the password (direct) or the device token (service) is kept
    token: str | None = None  # the device token (service sign-in only)


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
    if store.state("profile") == "demo":
        raise StoreError("this is a demo store; sign in from your own data folder")
    if is_service_url(server_url):
        return _login_service(store, server_url, user, password, remember, ca_file)
    url = clean_url(server_url, user)
    conn = connect(url, password=password)
    try:
        with conn.cursor() as cur:
            check_schema(cur)
            cur.execute("SELECT current_teacher_id()")
            teacher = cur.fetchone()[0]
            if teacher is None:
                raise AuthError(
                    f"login {user} is not a teacher on this server; ask IT to run "
                    "'flourish server add-teacher'"
                )
            adopt = _check_store(store, url, user, teacher)
            cur.execute(
                "SELECT sync_register_device(%s, %s, %s)",
                (store.state("device_uuid"), socket.gethostname(), _client_version()),
            )
            new_device = int(cur.fetchone()[0])
        conn.commit()
    finally:
        conn.close()
    host = normalise_url(url).host or ""
    return _finish(
        store, url, user, teacher, new_device, adopt, password if remember else None, host
    )


def _login_service(
    store: LocalStore,
    server_url: str,
    user: str,
    password: str,
    remember: bool,
    ca_file: str | None,
) -> LoginResult:
    """Sign in through the Flourish service: the password buys a device token once; only
    the token is kept (keyring), and the service registers the laptop as the teacher."""
    url = clean_service_url(server_url)
    ca = str(Path(ca_file).expanduser().resolve()) if ca_file else None
    if ca is not None and not Path(ca).is_file():
        raise ValidationError(f"--ca-cert: no such file {ca_file}")
    client = ServiceClient(url, ca_file=ca)
    try:
        answer = client.sign_in(user, password, socket.gethostname() or "laptop")
        teacher = str(answer["teacher_id"])
        adopt = _check_store(store, url, user, teacher)
        device_no = int(
            client.register(str(store.state("device_uuid")), socket.gethostname())["device_no"]
        )
    finally:
        client.close()
    store.set_state({"server_ca": ca})
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


def clean_service_url(server_url: str) -> str:
    """``https://host[:port]`` (no path, no credentials); plain http is refused."""
    parts = urlsplit(server_url.strip())
    if parts.scheme.lower() != "https":
        raise ValidationError(f"{server_url}: the Flourish server is reached over https:// only")
    if not parts.hostname or parts.username or parts.password:
        raise ValidationError(f"{server_url}: expected https://HOST[:PORT]")
    port = f":{parts.port}" if parts.port else ""
    return f"https://{parts.hostname}{port}"


def _check_store(store: LocalStore, url: str, user: str, teacher: str) -> bool:
    """Refuse a store linked elsewhere; True if a local-only profile adopts ``teacher``."""
    linked = store.state("server_url")
    device_no = store.device_no
    known_teacher = store.state("teacher_id")
    if device_no and (linked != url or known_teacher != teacher):
        raise StoreError(
            f"this data folder is linked to {linked} as {known_teacher}; "
            "use another data folder (--data-dir) for this login"
        )
    adopt = (
        device_no == 0
        and store.state("profile") == "local"
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
    known_teacher = store.state("teacher_id")
    device_no = store.device_no
    renumbered = 0
    if adopt and known_teacher is not None:
        _adopt_teacher(store, known_teacher, teacher)
    if device_no == 0:
        renumbered = _renumber(store, new_device)
    store.set_state(
        {
            "server_url": url,
            "login": user,
            "teacher_id": teacher,
            "device_no": str(new_device),
            "profile": "server",
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


def _client_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("flourish-desktop")
    except metadata.PackageNotFoundError:
        return "source"


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
            conn.execute(text("DELETE FROM sync_operations"))
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
    from sync.credentials import delete_secret
    from sync.errors import ValidationError
    from sync.replication.status import queue_status
    from sync.store.storefile import store_key_name

    with LocalStore.open(path, create=False, key=key) as store:
        queue = queue_status(store)
        unsent = int(queue["pending"]) + int(queue["quarantined"])
        if unsent and not force:
            raise ValidationError(
                f"{unsent} change(s) have not reached the server: sync first, or sign out "
                "with --force to discard them"
            )
        url, user = store.state("server_url"), store.state("login")
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
