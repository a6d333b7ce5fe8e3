"""What ``flourish status`` reports: the queue, the last sync, conflicts, the server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from sync.local import LocalStore
from sync.paths import local_db_path

__all__ = ["local_status", "queue_status"]


def queue_status(store: LocalStore) -> dict[str, Any]:
    """Pending and quarantined changes and the age of the oldest pending one."""
    with store.read() as conn:
        pending, quarantined, oldest = conn.execute(
            text(
                "SELECT COUNT(CASE WHEN status = 'pending' THEN 1 END), "
                "COUNT(CASE WHEN status = 'quarantined' THEN 1 END), "
                "MIN(CASE WHEN status = 'pending' THEN created_at END) "
                "FROM sync_operations"
            )
        ).one()
        conflicts = conn.execute(
            text("SELECT COUNT(*) FROM sync_conflicts WHERE resolution IS NULL")
        ).scalar_one()
    age = None
    if oldest:
        then = dt.datetime.fromisoformat(str(oldest))
        age = max(0.0, (dt.datetime.now(dt.UTC).replace(tzinfo=None) - then).total_seconds())
    return {
        "pending": int(pending),
        "quarantined": int(quarantined),
        "oldest_pending_age_s": None if age is None else round(age, 1),
        "conflicts": int(conflicts),
    }


def local_status(data_dir: str | None) -> dict[str, Any]:
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
            "teacher_id": None,
            "device_no": None,
            "profile": None,
            "data_dir": str(path.parent),
        }
    with LocalStore.open(path, create=False) as store:
        status: dict[str, Any] = queue_status(store)
        status.update(
            {
                "last_sync": store.state("last_sync"),
                "last_error": store.state("last_error"),
                "server": store.state("server_url"),
                "server_reachable": None,
                "teacher_id": store.state("teacher_id"),
                "device_no": store.device_no,
                "profile": store.state("profile", "local"),
                "data_dir": str(path.parent),
            }
        )
    return status
