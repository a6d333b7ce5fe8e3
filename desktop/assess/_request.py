"""Building the one request for one evidence entry.

Who is assessed: the entry's owner and every roster student the entry names (capitalised,
in its text, or in its speaker/author details) — a group transcript supports proposals for
several students. Which skills: every curriculum skill that at least one of those students
does not yet have a proposal for *from this entry* (human over machine: an existing
proposal, decided or not, is never redone). Both lists become ``enum`` values of the reply
schema, so a strict endpoint cannot even express anything else.

Message layout (see ``resources/prompts/assessment.toml``): the system message is fixed
text plus the rubric; the user message carries the entry type and date, the lists, the
few-shot examples and the evidence, the untrusted parts each inside its own marker block.
Every text that leaves the laptop has been through :class:`~desktop.assess._redact.Redactor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from desktop.assess import _fewshot
from desktop.assess._prompts import Prompts, new_code, response_schema
from desktop.assess._redact import Mapped, Redactor
from sync.model.curriculum import Curriculum
from sync.model.records import DataEntry

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["MAX_CHARS", "NoRequest", "Request", "build_request", "existing_pairs"]

MAX_CHARS = 40_000  # about 10,000 tokens of evidence in one request
_DETAIL_KEYS = ("title", "unit", "author", "speakers", "tutor", "tutee")
_PEOPLE_KEYS = ("author", "speakers", "tutor", "tutee")


@dataclass(frozen=True)
class NoRequest:
    """Nothing to send for this entry: ``status`` is ``done`` or ``skipped``."""

    status: str
    reason: str


@dataclass(frozen=True)
class Request:
    entry: DataEntry
    mapped: Mapped
    students: dict[str, str]  # placeholder -> student id, the owner first
    skills: list[str]
    messages: list[ChatCompletionMessageParam]
    schema: dict[str, Any]
    examples: list[int]  # teacher_corrections ids in the prompt
    existing: frozenset[tuple[str, str]]  # (student, skill) pairs this entry already has
    reviewed: dict[tuple[str, str], str]  # latest teacher level per (student, skill)


def _values(metadata: dict[str, Any], keys: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for key in keys:
        value = metadata.get(key)
        if isinstance(value, list):
            out.append((key, ", ".join(str(v) for v in value)))
        elif value not in (None, ""):
            out.append((key, str(value)))
    return out


def existing_pairs(conn: Connection, entry_id: str) -> frozenset[tuple[str, str]]:
    rows = conn.execute(
        text("SELECT student_id, skill_name FROM assessments WHERE data_entry_id = :e"),
        {"e": entry_id},
    )
    return frozenset((str(s), str(k)) for s, k in rows)


def _reviewed(conn: Connection, entry_id: str, students: list[str]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    rows = conn.execute(
        text(
            """
            SELECT a.student_id, a.skill_name, tc.corrected_level
            FROM teacher_corrections tc JOIN assessments a ON a.id = tc.assessment_id
            WHERE a.data_entry_id <> :e
            ORDER BY a.created_at, a.id
            """
        ),
        {"e": entry_id},
    )
    for student, skill, level in rows:
        if student in students:
            out[(str(student), str(skill))] = str(level)
    return out


def build_request(
    conn: Connection,
    entry: DataEntry,
    *,
    curriculum: Curriculum,
    prompts: Prompts,
    system_text: str,
    redactor: Redactor,
) -> Request | NoRequest:
    """The request for ``entry``, or why there is nothing to send."""
    assert entry.id is not None
    if entry.student_id is None or entry.student_id not in redactor.people:
        return NoRequest("skipped", "the entry belongs to no student on this roster")
    if len(entry.content) > MAX_CHARS:
        return NoRequest(
            "skipped",
            f"too long for one request ({len(entry.content)} characters; limit {MAX_CHARS})",
        )
    metadata = entry.metadata if isinstance(entry.metadata, dict) else {}
    mapped = redactor.redact(entry.content)
    named = mapped.present | redactor.named([v for _k, v in _values(metadata, _PEOPLE_KEYS)])
    others = sorted(
        (k for k in named if redactor.people[k].kind == "student" and k != entry.student_id),
        key=lambda k: int(redactor.placeholder(k).strip("[]").split("_")[1]),
    )
    existing = existing_pairs(conn, entry.id)
    everyone = [entry.student_id, *others]
    students = [s for s in everyone if any((s, k.name) not in existing for k in curriculum.skills)]
    skills = [
        k.name for k in curriculum.skills if any((s, k.name) not in existing for s in students)
    ]
    if not students or not skills:
        return NoRequest("done", "every student and skill of this entry already has a proposal")
    details = "\n".join(
        f"{key}: {redactor.redact_text(value)}" for key, value in _values(metadata, _DETAIL_KEYS)
    )
    rows = _fewshot.fetch_examples(
        conn,
        entry_id=entry.id,
        entry_text=entry.content,
        entry_type=entry.type,
        curriculum=curriculum,
    )
    code = new_code(
        mapped.text, details, *(r.excerpt + r.quote + r.justification + r.notes for r in rows)
    )
    examples_text, example_ids = _fewshot.render(
        rows, prompts=prompts, code=code, redactor=redactor
    )
    placeholders = [redactor.placeholder(s) for s in students]
    labels = [
        f"{p} (the student this entry belongs to)" if s == entry.student_id else p
        for p, s in zip(placeholders, students, strict=True)
    ]
    user = prompts.user.substitute(
        entry_type=entry.type.replace("_", " "),
        entry_date=str(entry.date),
        students=", ".join(labels),
        skills=", ".join(skills),
        examples=examples_text,
        code=code,
        details=details or "(none)",
        text=mapped.text,
    )
    return Request(
        entry=entry,
        mapped=mapped,
        students=dict(zip(placeholders, students, strict=True)),
        skills=skills,
        messages=[
            {"role": "system", "content": system_text},
            {"role": "user", "content": user},
        ],
        schema=response_schema(placeholders, skills),
        examples=example_ids,
        existing=existing,
        reviewed=_reviewed(conn, entry.id, students),
    )
