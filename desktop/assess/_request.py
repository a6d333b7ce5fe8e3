"""Building the one request for one evidence entry.

Who is assessed: the entry's owner and every roster student the entry names (capitalised,
in its text, or in its speaker/author details) — a group transcript supports proposals for
several students. Which skills: those in play (``in_play``: the entry type's likely skills or
the teacher's choice, see :mod:`desktop.assess._skills`) that at least one of those students
does not yet have a proposal for *from this entry* (human over machine: an existing
proposal, decided or not, is never redone). Only their rubric goes into the prompt. Both
lists become ``enum`` values of the reply schema, so a strict endpoint cannot even express
anything else.

Message layout (see ``resources/prompts/assessment.toml``): the system message is fixed
text plus the rubric of the skills asked about; the user message carries the entry type and
date, the lists, the few-shot examples and the evidence, the untrusted parts each inside its
own marker block. Every text that leaves the laptop has been through
:class:`~desktop.assess._redact.Redactor`.

Fitting the model's context (:class:`~desktop.assess._budget.Budget`): when the endpoint's
context length is known, the request is split into *parts* that each fit, trying in order:
all skills with their full rubric; all skills with the compact rubric (no per-level
descriptors); one part per skill category, full then compact; one part per skill, full then
compact; and last, the evidence in overlapping chunks (one part per chunk and category,
compact rubric). Few-shot examples go in only where they fit. Every part's quotes are checked
against the *whole* entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from desktop.assess import _fewshot
from desktop.assess._budget import Budget, chunks
from desktop.assess._prompts import Prompts, new_code, response_schema, schema_text, system_message
from desktop.assess._redact import Mapped, Redactor
from sync.model.curriculum import Curriculum
from sync.model.records import DataEntry

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["MAX_CHARS", "NoRequest", "Part", "Request", "build_request", "existing_pairs"]

MAX_CHARS = 40_000  # about 10,000 tokens of evidence in one request
_MIN_CHUNK = 1_000  # characters: a smaller piece of a transcript tells a model little
_DETAIL_KEYS = ("title", "unit", "author", "speakers", "tutor", "tutee")
_PEOPLE_KEYS = ("author", "speakers", "tutor", "tutee")


@dataclass(frozen=True)
class NoRequest:
    """Nothing to send for this entry: ``status`` is ``done`` or ``skipped``."""

    status: str
    reason: str


@dataclass(frozen=True)
class Part:
    """One request to the model: some of the skills, all or a chunk of the evidence."""

    skills: list[str]
    messages: list[ChatCompletionMessageParam]
    schema: dict[str, Any]
    examples: list[int]  # teacher_corrections ids in the prompt
    tokens: int  # the estimate the budget used
    label: str = ""  # "skills 2/3, chunk 1/4" when split


@dataclass(frozen=True)
class Request:
    entry: DataEntry
    mapped: Mapped  # the whole entry: every part's quotes are grounded against it
    students: dict[str, str]  # placeholder -> student id, the owner first
    skills: list[str]
    parts: list[Part]
    existing: frozenset[tuple[str, str]]  # (student, skill) pairs this entry already has
    reviewed: dict[tuple[str, str], str]  # latest teacher level per (student, skill)
    scope: str = ""  # which skills were in play and why ("the 7 skills likely in a parent note")

    @property
    def messages(self) -> list[ChatCompletionMessageParam]:  # the first part's (tests)
        return self.parts[0].messages

    @property
    def schema(self) -> dict[str, Any]:
        return self.parts[0].schema

    @property
    def examples(self) -> list[int]:
        return list(dict.fromkeys(i for p in self.parts for i in p.examples))


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


def _groups(curriculum: Curriculum, skills: list[str]) -> list[list[list[str]]]:
    """Ways to split ``skills``, fewest requests first: all, by category, one by one."""
    by_cat = [
        [k.name for k in members if k.name in skills]
        for members in curriculum.by_category().values()
    ]
    by_cat = [g for g in by_cat if g]
    out = [[skills]]
    if len(by_cat) > 1:
        out.append(by_cat)
    if len(skills) > 1:
        out.append([[k] for k in skills])
    return out


def build_request(
    conn: Connection,
    entry: DataEntry,
    *,
    curriculum: Curriculum,
    prompts: Prompts,
    redactor: Redactor,
    budget: Budget | None = None,
    in_play: Sequence[str] | None = None,
    scope: str = "",
    schema_in_prompt: bool = True,
) -> Request | NoRequest:
    """The request for ``entry`` (in parts that fit ``budget``), or why there is nothing to send.

    ``in_play``: the skills to ask about (all when ``None``); ``scope`` says why, for the job.
    ``schema_in_prompt``: whether the call writes the schema into the prompt (the budget
    counts it then; a mode whose server enforces the schema sends it apart).
    """
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
    wanted = set(curriculum.skill_names if in_play is None else in_play)
    skills = [
        k.name
        for k in curriculum.skills
        if k.name in wanted and any((s, k.name) not in existing for s in students)
    ]
    if not students or not skills:
        where = f" ({scope})" if scope and in_play is not None else ""
        return NoRequest("done", f"every student and skill in play{where} already has a proposal")
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
    placeholders = [redactor.placeholder(s) for s in students]
    labels = [
        f"{p} (the student this entry belongs to)" if s == entry.student_id else p
        for p, s in zip(placeholders, students, strict=True)
    ]

    def part(group: list[str], text: str, *, compact: bool, label: str = "") -> Part:
        schema = response_schema(placeholders, group)
        system = system_message(prompts, curriculum, group, compact=compact)
        fixed = budget.tokens(system) if budget else 0
        if budget and schema_in_prompt:
            fixed += budget.tokens(schema_text(prompts, schema))

        def user_for(examples_text: str) -> str:
            return prompts.user.substitute(
                entry_type=entry.type.replace("_", " "),
                entry_date=str(entry.date),
                students=", ".join(labels),
                skills=", ".join(group),
                examples=examples_text,
                code=code,
                details=details or "(none)",
                text=text,
            )

        examples_text, example_ids = _fewshot.render(
            [r for r in rows if r.skill_name in group],
            prompts=prompts,
            code=code,
            redactor=redactor,
        )
        user = user_for(examples_text)
        if budget is not None and example_ids and not budget.fits(fixed + budget.tokens(user)):
            examples_text, example_ids = "", []  # examples only as the budget allows
            user = user_for("")
        return Part(
            skills=group,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            schema=schema,
            examples=example_ids,
            tokens=fixed + (budget.tokens(user) if budget else 0),
            label=label,
        )

    parts = _plan(curriculum, skills, mapped.text, part, budget)
    if isinstance(parts, NoRequest):
        return parts
    return Request(
        entry=entry,
        mapped=mapped,
        students=dict(zip(placeholders, students, strict=True)),
        skills=skills,
        parts=parts,
        existing=existing,
        reviewed=_reviewed(conn, entry.id, students),
        scope=scope,
    )


def _plan(
    curriculum: Curriculum,
    skills: list[str],
    text: str,
    part: Any,
    budget: Budget | None,
) -> list[Part] | NoRequest:
    if budget is None:
        return [part(skills, text, compact=False)]
    for grouping in _groups(curriculum, skills):
        for compact in (False, True):
            parts = [
                part(g, text, compact=compact, label=_label(n, len(grouping)))
                for n, g in enumerate(grouping)
            ]
            if all(budget.fits(p.tokens) for p in parts):
                return parts
    # the evidence itself is too long: overlapping chunks, with the fewest skill groups
    # that leave room for a useful piece of it (the compact rubric)
    for grouping in _groups(curriculum, skills):
        empty = [part(g, "", compact=True) for g in grouping]
        size = budget.chars_for(budget.limit - max(p.tokens for p in empty))
        if size >= min(len(text), _MIN_CHUNK):
            pieces = chunks(text, size)
            return [
                part(g, piece, compact=True, label=_label(n, len(grouping), c, len(pieces)))
                for c, piece in enumerate(pieces)
                for n, g in enumerate(grouping)
            ]
    return NoRequest(
        "skipped",
        f"the model's context ({budget.context:,} tokens, {budget.max_tokens:,} of them kept for "
        "the reply) is too small for this entry: give the server a larger context",
    )


def _label(n: int, of: int, chunk: int = 0, chunks: int = 1) -> str:
    out = [f"skills {n + 1}/{of}"] if of > 1 else []
    if chunks > 1:
        out.append(f"chunk {chunk + 1}/{chunks}")
    return ", ".join(out)
