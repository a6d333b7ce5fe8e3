"""Read-side queries shared by the CLI and the desktop: lists, counts, the review queue.

All functions take an open connection (from :meth:`LocalStore.read`) and return plain
typed values. They use only SQL that both SQLite and PostgreSQL accept, so the same query
answers on the laptop and on the server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "StudentSummary",
    "assessment_rows",
    "conflict_rows",
    "count_pending_reviews",
    "student_summaries",
]


@dataclass(frozen=True)
class StudentSummary:
    id: str
    name: str
    grade: int
    teacher_id: str | None
    pending: int
    assessed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "grade": self.grade,
            "teacher_id": self.teacher_id,
            "pending": self.pending,
            "assessed": self.assessed,
        }


def student_summaries(conn: Connection, *, teacher_id: str | None = None) -> list[StudentSummary]:
    """Students (optionally of one teacher) with their pending-review counts."""
    where = "WHERE s.teacher_id = :teacher" if teacher_id else ""
    rows = conn.execute(
        text(
            f"""
            SELECT s.id, s.name, s.grade, s.teacher_id,
                   COUNT(CASE WHEN a.corrected = FALSE THEN 1 END) AS pending,
                   COUNT(a.id) AS assessed
            FROM students s
            LEFT JOIN assessments a ON a.student_id = s.id
            {where}
            GROUP BY s.id, s.name, s.grade, s.teacher_id
            ORDER BY s.name, s.id
            """
        ),
        {"teacher": teacher_id} if teacher_id else {},
    )
    return [StudentSummary(*row) for row in rows]


def count_pending_reviews(conn: Connection) -> int:
    return int(
        conn.execute(text("SELECT COUNT(*) FROM assessments WHERE corrected = FALSE")).scalar_one()
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def assessment_rows(
    conn: Connection,
    *,
    student_id: str | None = None,
    pending: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Assessments with the seed's column names plus student name and teacher decision.

    Pending ones come lowest confidence first (seed 001 query 2), the rest newest first.
    """
    clauses = []
    params: dict[str, Any] = {}
    if student_id:
        clauses.append("a.student_id = :student")
        params["student"] = student_id
    if pending:
        clauses.append("a.corrected = FALSE")
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    order = (
        "a.confidence_score ASC, a.created_at DESC, a.id"
        if pending
        else "a.created_at DESC, a.id DESC"
    )
    limit_sql = ""
    if limit is not None:
        limit_sql = "LIMIT :limit"
        params["limit"] = limit
    rows = conn.execute(
        text(
            f"""
            SELECT a.id, a.data_entry_id, a.student_id, s.name AS student_name, a.skill_name,
                   a.skill_category, a.level, a.confidence_score, a.justification,
                   a.source_quote, a.rubric_version, a.corrected, a.created_at,
                   tc.corrected_level, tc.corrected_by, tc.corrected_at
            FROM assessments a
            JOIN students s ON s.id = a.student_id
            LEFT JOIN teacher_corrections tc ON tc.assessment_id = a.id
            {where}
            ORDER BY {order}
            {limit_sql}
            """
        ),
        params,
    ).mappings()
    out = []
    for row in rows:
        item = {k: _jsonable(v) for k, v in row.items()}
        item["corrected"] = bool(item["corrected"])
        out.append(item)
    return out


def conflict_rows(conn: Connection, *, unresolved_only: bool = False) -> list[dict[str, Any]]:
    where = "WHERE resolution IS NULL" if unresolved_only else ""
    rows = conn.execute(
        text(
            f"""
            SELECT id, table_name, row_pk, student_id, teacher_id, kind, reason,
                   losing_row, losing_hlc, losing_origin, winning_row, winning_hlc,
                   winning_origin, created_at, resolution, resolved_at
            FROM sync_conflicts {where}
            ORDER BY created_at DESC, id DESC
            """
        )
    ).mappings()
    import json

    out = []
    for row in rows:
        item = {k: _jsonable(v) for k, v in row.items()}
        for key in ("losing_row", "winning_row"):
            if isinstance(item[key], str):
                item[key] = json.loads(item[key])
        out.append(item)
    return out
