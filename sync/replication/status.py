"""What ``flourish status`` reports: the queue, the last sync, conflicts, the server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from sync.paths import local_db_path
from sync.store.local import LocalStore, sqlite_of
from sync.store.queue import counts
from sync.store.state import (
    LAST_ERROR,
    LAST_SYNC,
    LOGIN,
    PROFILE,
    SERVER_CA,
    SERVER_URL,
    TEACHER_ID,
)

__all__ = ["local_status", "queue_status", "server_reachable"]


def server_reachable(
    url: str, login: str | None, ca_file: str | None = None
) -> tuple[bool, str | None]:
    """Does the server answer? An answer that rejects the sign-in still counts as reachable."""
    from urllib.parse import urlsplit

    from sync.credentials import get_secret, server_key_name
    from sync.errors import ServerError, TransientError
    from sync.replication.client.http import ServiceClient, require_service_url

    try:
        require_service_url(url)
    except ServerError as exc:  # an address from an older version (the database's)
        return False, str(exc)
    host = urlsplit(url).hostname or ""
    token = get_secret(server_key_name(login or "", host), env="FLOURISH_TOKEN")
    client = ServiceClient(url, token=token, ca_file=ca_file)
    try:
        client.hello()
    except TransientError as exc:
        return False, str(exc)
    except ServerError as exc:  # it answered: signed out, too old, ...
        return True, str(exc)
    finally:
        client.close()
    return True, None


def queue_status(store: LocalStore) -> dict[str, Any]:
    """Pending and quarantined changes (:mod:`sync.store.queue`), the age of the oldest
    pending one, and unresolved conflicts."""
    with store.read() as conn:
        queue = counts(sqlite_of(conn))
        conflicts = conn.execute(
            text("SELECT COUNT(*) FROM sync_conflicts WHERE resolution IS NULL")
        ).scalar_one()
    return {
        "pending": queue.pending,
        "quarantined": queue.quarantined,
        "oldest_pending_age_s": queue.oldest_pending_age_s,
        "conflicts": int(conflicts),
    }


def _shown_url(url: str | None, login: str | None) -> str | None:
    """The server URL without any password (an older version stored it as given)."""
    from sync.replication.client.http import is_service_url
    from sync.replication.login import clean_url

    if not url or not login or is_service_url(url):  # a service URL holds no credentials
        return url
    return clean_url(url, login)


def local_status(data_dir: str | None, *, check_server: bool = True) -> dict[str, Any]:
    path = local_db_path(data_dir)
    if not path.exists():
        return {
            "pending": 0,
            "quarantined": 0,
            "oldest_pending_age_s": None,
            "conflicts": 0,
            "last_sync": None,
            "last_error": None,
            "server": None,
            "server_reachable": None,
            "server_problem": None,
            "teacher_id": None,
            "device_no": None,
            "profile": None,
            "data_dir": str(path.parent),
        }
    with LocalStore.open(path, create=False) as store:
        status: dict[str, Any] = queue_status(store)
        status.update(
            {
                "last_sync": store.state(LAST_SYNC),
                "last_error": store.state(LAST_ERROR),
                "server": _shown_url(store.state(SERVER_URL), store.state(LOGIN)),
                "server_reachable": None,
                "server_problem": None,
                "teacher_id": store.state(TEACHER_ID),
                "device_no": store.device_no,
                "profile": store.state(PROFILE, "local"),
                "data_dir": str(path.parent),
            }
        )
        store_login = store.state(LOGIN)
        ca_file = store.state(SERVER_CA)
    if status["server"] and check_server:
        reachable, problem = server_reachable(status["server"], store_login, ca_file)
        status["server_reachable"] = reachable
        status["server_problem"] = problem
    return status
