"""Local bookkeeping of the pipeline: which entries wait, why, and every call's cost.

``assessment_jobs`` (one row per entry that a run has touched) and ``llm_calls`` (one row per
HTTP request) are local-only tables of schema v2: they are not synced, so they are written
with plain SQL inside :meth:`LocalStore.write` — never use these helpers for synced tables.

An entry with no job row and no assessment simply has not been tried yet ("waiting").
Statuses: ``waiting`` (offline, timeout, rate limit, refusal, cancelled: it will be tried
again), ``running`` (a run is working on it; a row left ``running`` by a run that died is
taken over after :data:`STALE_AFTER`), ``failed`` (the endpoint rejected it or its replies
were unusable: tried again after a back-off, at most :data:`MAX_ATTEMPTS` times),
``done`` and ``skipped`` (nothing to send, e.g. too long).

"Done" without a proposal ("the model found no evidence") is not final: its ``llm_calls``
rows name the model, prompt and rubric versions that said so, and a run with another model,
prompt version or rubric version takes the entry again (:func:`due_entries`, ``versions``).
A teacher can also ask for one entry again (``entry_ids``).

Times are UTC text ``YYYY-MM-DD HH:MM:SS``, like SQLite's ``CURRENT_TIMESTAMP``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from desktop.assess._client import Attempt

__all__ = [
    "MAX_ATTEMPTS",
    "STALE_AFTER",
    "AwaitingEntry",
    "awaiting_entries",
    "due_entries",
    "record_calls",
    "set_job",
    "stamp",
    "utcnow",
]

MAX_ATTEMPTS = 5
STALE_AFTER = dt.timedelta(minutes=15)
_FAILED_BACKOFF = dt.timedelta(minutes=10)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def stamp(when: dt.datetime | None = None) -> str:
    return (when or utcnow()).isoformat(sep=" ", timespec="seconds")


@dataclass(frozen=True)
class AwaitingEntry:
    """Evidence without proposals that is not done: what the app lists as "awaiting"."""

    data_entry_id: str
    student_id: str | None
    student_name: str | None
    type: str
    date: str
    status: str  # waiting | running | failed
    reason: str
    attempts: int
    next_attempt_at: str | None
    updated_at: str | None


_BASE = """
    FROM data_entries de
    LEFT JOIN students s ON s.id = de.student_id
    LEFT JOIN assessment_jobs j ON j.data_entry_id = de.id
"""
_UNASSESSED = "NOT EXISTS (SELECT 1 FROM assessments a WHERE a.data_entry_id = de.id)"


def awaiting_entries(conn: Connection) -> list[AwaitingEntry]:
    """Evidence with no assessments whose job is not done or skipped, oldest first."""
    rows = conn.execute(
        text(
            f"""
            SELECT de.id, de.student_id, s.name, de.type, de.date,
                   COALESCE(j.status, 'waiting'), j.reason, COALESCE(j.attempts, 0),
                   j.next_attempt_at, j.updated_at
            {_BASE}
            WHERE {_UNASSESSED}
              AND (j.status IS NULL OR j.status NOT IN ('done', 'skipped'))
            ORDER BY de.date, de.id
            """
        )
    )
    return [
        AwaitingEntry(
            data_entry_id=str(r[0]),
            student_id=r[1],
            student_name=r[2],
            type=str(r[3]),
            date=str(r[4]),
            status=str(r[5]),
            reason=str(r[6]) if r[6] else "not assessed yet",
            attempts=int(r[7]),
            next_attempt_at=None if r[8] is None else str(r[8]),
            updated_at=None if r[9] is None else str(r[9]),
        )
        for r in rows
    ]


def due_entries(
    conn: Connection,
    *,
    now: dt.datetime,
    limit: int | None,
    entry_ids: Sequence[str] | None,
    versions: tuple[str, str, str] | None = None,
) -> list[str]:
    """The entries a run should take: explicit ids as given, else those due, oldest first.

    ``versions`` is the run's (model, prompt version, rubric version): an entry that is done
    without proposals is due again when no successful call with exactly these produced that.
    """
    if entry_ids is not None:
        wanted = list(dict.fromkeys(entry_ids))
        query = text("SELECT id FROM data_entries WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        found = {str(r[0]) for r in conn.execute(query, {"ids": wanted})} if wanted else set()
        chosen = [e for e in wanted if e in found]
        return chosen[:limit] if limit is not None else chosen
    rows = conn.execute(
        text(
            f"""
            SELECT de.id
            {_BASE}
            WHERE {_UNASSESSED}
              AND (
                j.status IS NULL
                OR (j.status IN ('waiting', 'failed') AND j.attempts < :max_attempts
                    AND (j.next_attempt_at IS NULL OR j.next_attempt_at <= :now))
                OR (j.status = 'running' AND j.updated_at < :stale)
                OR (:model IS NOT NULL AND j.status = 'done' AND EXISTS (
                      SELECT 1 FROM llm_calls c WHERE c.data_entry_id = de.id
                        AND c.outcome = 'ok')
                    AND NOT EXISTS (
                      SELECT 1 FROM llm_calls c WHERE c.data_entry_id = de.id
                        AND c.outcome = 'ok' AND c.model = :model
                        AND c.prompt_version = :pv AND c.rubric_version = :rv))
              )
            ORDER BY de.date, de.id
            {"LIMIT :limit" if limit is not None else ""}
            """
        ),
        {
            "max_attempts": MAX_ATTEMPTS,
            "now": stamp(now),
            "stale": stamp(now - STALE_AFTER),
            "limit": limit,
            "model": versions[0][:100] if versions else None,
            "pv": versions[1] if versions else None,
            "rv": versions[2][:10] if versions else None,
        },
    )
    return [str(r[0]) for r in rows]


def set_job(
    conn: Connection,
    entry_id: str,
    status: str,
    reason: str | None,
    *,
    tried: bool = False,
    retry_after_s: float | None = None,
) -> None:
    """Upsert the entry's job row; ``tried`` counts an attempt that reached the model."""
    now = utcnow()
    row = conn.execute(
        text("SELECT attempts FROM assessment_jobs WHERE data_entry_id = :e"), {"e": entry_id}
    ).first()
    attempts = (int(row[0]) if row else 0) + int(tried)
    next_at: str | None = None
    if retry_after_s is not None:
        next_at = stamp(now + dt.timedelta(seconds=retry_after_s))
    elif status == "failed":
        next_at = stamp(now + _FAILED_BACKOFF * 2 ** max(0, attempts - 1))
    if status in ("done", "skipped"):
        attempts = 0
    if reason and attempts >= MAX_ATTEMPTS and status in ("waiting", "failed"):
        reason += f" (tried {attempts} times; assess it again explicitly)"
    conn.execute(
        text(
            """
            INSERT INTO assessment_jobs
                (data_entry_id, status, reason, attempts, next_attempt_at, updated_at)
            VALUES (:e, :status, :reason, :attempts, :next_at, :now)
            ON CONFLICT (data_entry_id) DO UPDATE SET
                status = excluded.status, reason = excluded.reason,
                attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
                updated_at = excluded.updated_at
            """
        ),
        {
            "e": entry_id,
            "status": status,
            "reason": (reason or None) and reason[:1000],
            "attempts": attempts,
            "next_at": next_at,
            "now": stamp(now),
        },
    )


def record_calls(
    conn: Connection,
    entry_id: str,
    attempts: Sequence[Attempt],
    *,
    model: str,
    prompt_version: str,
    rubric_version: str,
) -> list[int]:
    """Insert one ``llm_calls`` row per attempt; returns their ids in order."""
    ids = []
    for a in attempts:
        new_id = conn.execute(
            text(
                """
                INSERT INTO llm_calls (data_entry_id, started_at, duration_ms, model,
                    prompt_version, rubric_version, tokens_in, tokens_out, outcome, detail)
                VALUES (:e, :started, :ms, :model, :pv, :rv, :tin, :tout, :outcome, :detail)
                RETURNING id
                """
            ),
            {
                "e": entry_id,
                "started": stamp(a.started_at),
                "ms": a.duration_ms,
                "model": model[:100],
                "pv": prompt_version,
                "rv": rubric_version[:10],
                "tin": a.tokens_in,
                "tout": a.tokens_out,
                "outcome": a.outcome,
                "detail": a.detail,
            },
        ).scalar_one()
        ids.append(int(new_id))
    return ids
