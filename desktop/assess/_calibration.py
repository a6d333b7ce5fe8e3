"""What the teachers' decisions say about the AI: calibration, examples used, cost.

* :func:`calibration` — per skill and confidence band, how many proposals teachers decided
  and how many they accepted (a decision whose level equals the proposal's). The review
  queue's "lowest confidence first" is only as good as this table; the pipeline also feeds
  it back into new confidences (see :mod:`desktop.assess._confidence`).
* :func:`examples_used` — the teacher corrections a proposal's prompt carried as few-shot
  examples (``assessments.provenance.examples``), so the app can show them and a teacher
  can retire a bad one with :func:`sync.actions.set_example_use`.
* :func:`usage_summary` — tokens in and out per model and prompt version from ``llm_calls``,
  so a school can see what a term of assessments cost.

All take a connection from :meth:`LocalStore.read`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from sync.errors import NotFoundError
from sync.model.crud import ASSESSMENTS, CORRECTIONS
from sync.model.curriculum import load_curriculum
from sync.model.records import Correction

__all__ = [
    "BANDS",
    "CalibrationRow",
    "UsageRow",
    "band_label",
    "band_of",
    "band_counts",
    "calibration",
    "examples_used",
    "usage_summary",
]

#: Confidence bands (lower bound inclusive, upper exclusive; the last includes 1.00).
BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 1.0))


def band_of(confidence: float) -> int:
    for n, (_low, high) in enumerate(BANDS):
        if confidence < high:
            return n
    return len(BANDS) - 1


def band_label(n: int) -> str:
    low, high = BANDS[n]
    top = 1.0 if n == len(BANDS) - 1 else high - 0.01
    return f"{low:.2f}-{top:.2f}"


@dataclass(frozen=True)
class CalibrationRow:
    skill_name: str
    band: str  # "0.70-0.84"
    band_low: float
    band_high: float
    decided: int
    accepted: int
    acceptance_rate: float  # accepted / decided
    mean_confidence: float  # what the proposals in this band claimed, on average


def _decisions(conn: Connection) -> list[tuple[str, float, bool]]:
    rows = conn.execute(
        text(
            """
            SELECT a.skill_name, a.confidence_score, tc.corrected_level = tc.original_level
            FROM teacher_corrections tc
            JOIN assessments a ON a.id = tc.assessment_id
            WHERE a.confidence_score IS NOT NULL
            """
        )
    )
    return [(str(s), float(c), bool(ok)) for s, c, ok in rows]


def band_counts(conn: Connection) -> dict[tuple[str, int], tuple[int, int]]:
    """(skill, band) -> (decided, accepted)."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for skill, confidence, accepted in _decisions(conn):
        key = (skill, band_of(confidence))
        decided, ok = out.get(key, (0, 0))
        out[key] = (decided + 1, ok + int(accepted))
    return out


def calibration(conn: Connection) -> list[CalibrationRow]:
    """Per skill x confidence band with at least one decision, in curriculum order."""
    sums: dict[tuple[str, int], tuple[int, int, float]] = {}
    for skill, confidence, ok in _decisions(conn):
        key = (skill, band_of(confidence))
        decided, accepted, total = sums.get(key, (0, 0, 0.0))
        sums[key] = (decided + 1, accepted + int(ok), total + confidence)
    order = {name: n for n, name in enumerate(load_curriculum().skill_names)}
    rows = []
    for (skill, band), (decided, accepted, total) in sorted(
        sums.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0], kv[0][1])
    ):
        rows.append(
            CalibrationRow(
                skill_name=skill,
                band=band_label(band),
                band_low=BANDS[band][0],
                band_high=BANDS[band][1],
                decided=decided,
                accepted=accepted,
                acceptance_rate=round(accepted / decided, 3),
                mean_confidence=round(total / decided, 3),
            )
        )
    return rows


def examples_used(conn: Connection, assessment_id: int) -> list[Correction]:
    """The corrections used as few-shot examples for this proposal (those that still exist)."""
    assessment = ASSESSMENTS.get(conn, assessment_id)
    if assessment is None:
        raise NotFoundError(f"assessment {assessment_id}: no such assessment")
    ids = (assessment.provenance or {}).get("examples") or []
    found = [CORRECTIONS.get(conn, int(i)) for i in ids if isinstance(i, int | str)]
    return [c for c in found if c is not None]


@dataclass(frozen=True)
class UsageRow:
    model: str
    prompt_version: str
    calls: int
    tokens_in: int
    tokens_out: int
    first_call: dt.datetime | None
    last_call: dt.datetime | None


def _when(value: object) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def usage_summary(conn: Connection, *, since: dt.datetime | None = None) -> list[UsageRow]:
    """Tokens per model and prompt version (every call, including failed ones)."""
    rows = conn.execute(
        text(
            """
            SELECT COALESCE(model, '?'), COALESCE(prompt_version, '?'), COUNT(*),
                   COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0),
                   MIN(started_at), MAX(started_at)
            FROM llm_calls
            WHERE (:since IS NULL OR started_at >= :since)
            GROUP BY 1, 2
            ORDER BY 1, 2
            """
        ),
        {"since": since.isoformat(sep=" ") if since else None},
    )
    return [
        UsageRow(str(m), str(p), int(n), int(i), int(o), _when(first), _when(last))
        for m, p, n, i, o, first, last in rows
    ]
