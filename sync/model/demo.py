"""The demo dataset: seed 000's teachers and students with a term of evidence and AI proposals.

The texts live in ``resources/demo/`` (``dataset.json`` plus one text file per entry). The
same rows go into a local store (``flourish demo``, :func:`sync.store.profiles.load_demo_local`)
or the central database (``flourish server init --demo``,
:func:`sync.server.admin.load_demo_central`). Loading is idempotent: rows that already exist
are left alone. Demo rows arrive as if they came from the server, so a local demo store has
nothing queued.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from sync.errors import ValidationError
from sync.model.crud import schema_for
from sync.model.curriculum import load_curriculum
from sync.model.seed import load_seed
from sync.paths import resource_path

__all__ = ["DEMO_TEACHER", "DemoDataset", "demo_dataset", "load_demo_rows"]

#: The teacher a demo store is signed in as.
DEMO_TEACHER = "T001"


@dataclass(frozen=True)
class DemoDataset:
    entries: list[dict[str, Any]]
    assessments: list[dict[str, Any]]
    awaiting: frozenset[str]


@cache
def demo_dataset() -> DemoDataset:
    """Read and check the demo dataset (every quote must be verbatim in its entry)."""
    base = resource_path("demo")
    raw = json.loads((base / "dataset.json").read_text(encoding="utf-8"))
    curriculum = load_curriculum()
    entries: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    for item in raw["entries"]:
        content = (base / item["file"]).read_text(encoding="utf-8").strip()
        texts[item["id"]] = content
        entries.append(
            {
                "id": item["id"],
                "student_id": item["student_id"],
                "teacher_id": item["teacher_id"],
                "type": item["type"],
                "date": dt.date.fromisoformat(item["date"]),
                "content": content,
                "metadata": dict(item.get("metadata") or {}, source_file=item["file"]),
                "created_at": dt.datetime.fromisoformat(item["date"] + "T15:00:00"),
            }
        )
    assessments: list[dict[str, Any]] = []
    for n, item in enumerate(raw["assessments"], start=1):
        where = f"demo assessment {n} ({item['data_entry_id']}, {item['skill_name']})"
        if item["source_quote"] not in texts[item["data_entry_id"]]:
            raise ValidationError(f"{where}: source quote is not in the entry text")
        if curriculum.category_of(item["skill_name"]) != item["skill_category"]:
            raise ValidationError(f"{where}: wrong category {item['skill_category']}")
        created = dt.datetime.fromisoformat(item["created_at"])
        assessments.append(
            {
                "id": n,
                "data_entry_id": item["data_entry_id"],
                "student_id": item["student_id"],
                "skill_name": item["skill_name"],
                "skill_category": item["skill_category"],
                "level": item["level"],
                "confidence_score": item["confidence_score"],
                "justification": item["justification"],
                "source_quote": item["source_quote"],
                "rubric_version": curriculum.rubric_version,
                "created_at": created,
                "updated_at": created,
                "provenance": {"model": "demo", "prompt_version": "demo"},
            }
        )
    return DemoDataset(entries, assessments, frozenset(raw.get("awaiting_assessment", [])))


def _insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=["id"])
    result = conn.execute(stmt, rows)
    return max(result.rowcount or 0, 0)


def load_demo_rows(conn: Connection) -> int:
    """Seed rows plus the demo entries and proposals, into either store; idempotent."""
    data = demo_dataset()
    schema = schema_for(conn)
    added = load_seed(conn)
    added += _insert_ignore(conn, schema.data_entries, data.entries)
    added += _insert_ignore(conn, schema.assessments, data.assessments)
    return added
