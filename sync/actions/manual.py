"""A level recorded by the teacher from the evidence, without (or instead of) the AI.

How it is stored — the honest representation in the seed's two tables:

* an ``assessments`` row like an AI proposal (entry, student, skill, level, the
  teacher's justification and the quote the teacher selected in the evidence), with
  **no confidence** (``confidence_score`` NULL: nobody estimated one) and
  ``provenance = {"source": "teacher", "assessed_by": T}`` instead of a model's name;
* its ``teacher_corrections`` row, written in the same transaction: the teacher
  confirmed that level (``corrected_level = original_level``), so the assessment is
  reviewed (``corrected``) and never waits in the review queue. Its
  ``corrected_justification`` is :data:`TEACHER_TEXT` (which keeps the seed's
  ``chk_levels_different``), and ``use_as_example`` is false: it is not a correction
  of the AI, so the AI is never shown it as one. AI calibration skips it too (no
  confidence).

One assessment per (entry, student, skill): where the AI already proposed one, the
teacher decides that proposal in the review queue instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sync.actions import Result
from sync.errors import ConflictError, NotFoundError, ValidationError
from sync.model.crud import ASSESSMENTS, DATA_ENTRIES, STUDENTS
from sync.model.curriculum import load_curriculum
from sync.model.records import Assessment, Correction
from sync.model.vocab import parse_level
from sync.store.local import LocalStore

__all__ = ["TEACHER_TEXT", "ManualAssessment", "assess_evidence", "is_teacher_made"]

TEACHER_TEXT = "Assessed by the teacher from the evidence."
ManualAssessment = tuple[Assessment, Correction]


def is_teacher_made(provenance: dict[str, Any] | None) -> bool:
    return (provenance or {}).get("source") == "teacher"


def _squash(text: str) -> str:
    return " ".join(text.split())


def assess_evidence(
    store: LocalStore,
    *,
    data_entry_id: str,
    student_id: str,
    skill_name: str,
    level: str | int,
    quote: str,
    teacher_id: str,
    justification: str | None = None,
    notes: str | None = None,
) -> Result[ManualAssessment]:
    """Record the teacher's own level for a skill shown in a piece of evidence."""
    where = f"evidence {data_entry_id}"
    try:
        level_name = parse_level(level)
    except ValueError as exc:
        raise ValidationError(f"{where}: {exc}") from exc
    skill = next(
        (s for s in load_curriculum().skills if s.name.lower() == skill_name.strip().lower()),
        None,
    )
    if skill is None:
        raise ValidationError(f"{where}: unknown skill {skill_name!r}")
    words = quote.strip()
    if not words:
        raise ValidationError(f"{where}: select the words in the evidence that show the level")
    text = (justification or "").strip() or f"{level_name}, from the teacher's reading."
    if text == TEACHER_TEXT:
        text = f"{level_name}: {text}"
    with store.write() as txn:
        entry = DATA_ENTRIES.get(txn.conn, data_entry_id)
        if entry is None:
            raise NotFoundError(f"{where}: no such evidence")
        if STUDENTS.get(txn.conn, student_id) is None:
            raise NotFoundError(f"{where}: no student {student_id}")
        if _squash(words) not in _squash(entry.content):
            raise ValidationError(f"{where}: the quote is not in the evidence text")
        existing = ASSESSMENTS.list(
            txn.conn,
            where={
                "data_entry_id": data_entry_id,
                "student_id": student_id,
                "skill_name": skill.name,
            },
        )
        if existing:
            raise ConflictError(
                f"{where} already has a level for {student_id} in {skill.name} "
                f"(assessment {existing[0].id}): decide it in the review queue"
            )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assessment = txn.insert(
            Assessment(
                data_entry_id=data_entry_id,
                student_id=student_id,
                skill_name=skill.name,
                skill_category=skill.category,
                level=level_name,
                confidence_score=None,
                justification=text,
                source_quote=words,
                provenance={"source": "teacher", "assessed_by": teacher_id},
            )
        )
        confirmed = txn.insert(
            Correction(
                assessment_id=assessment.id,
                original_level=level_name,
                corrected_level=level_name,
                original_justification=text,
                corrected_justification=TEACHER_TEXT,
                teacher_notes=(notes or "").strip() or None,
                corrected_by=teacher_id,
                corrected_at=now,
                use_as_example=False,
            )
        )
        return Result((assessment, confirmed), txn.changes)
