"""Seed 000's teachers and students (``sql/seed/seed.sql``), for either store."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from sync.paths import sql_path

__all__ = ["load_seed"]


def load_seed(conn: Connection) -> int:
    """Seed 000's teachers and students; idempotent. Returns rows inserted."""
    script = sql_path("seed", "seed.sql").read_text(encoding="utf-8")
    inserted = 0
    for statement in _statements(script):
        inserted += conn.exec_driver_sql(statement).rowcount or 0
    return inserted


def _statements(script: str) -> Iterator[str]:
    pending: list[str] = []
    for line in script.splitlines():
        if line.strip().startswith("--") and not pending:
            continue
        pending.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(pending).strip()
            pending = []
            if statement:
                yield statement
