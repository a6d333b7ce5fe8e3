"""Few-shot examples from teacher corrections: the pipeline learns from the teachers.

The pool is seed 001's query 4 — corrections with teacher notes, newest first — minus
corrections a teacher retired (``use_as_example = 0``) and corrections of the entry being
assessed. From the newest :data:`POOL` of those, the most relevant come first:

1. *same skill first*: corrections of skills whose rubric keywords occur in this entry
   (more keyword hits first), then the others;
2. the same kind of evidence (journal, transcript, ...) before other kinds;
3. newer before older;

at most two per skill, at most :data:`MAX_EXAMPLES` in all, and only as many as fit in
:data:`TOKEN_BUDGET` (estimated at four characters a token). Each example shows an excerpt
around the quote, the quote, the proposed and the teacher's level, the teacher's reason and
notes — all through the same name redaction as the evidence. The ids used go into the
proposal's provenance (``examples``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from desktop.assess._prompts import Prompts, estimate_tokens
from desktop.assess._redact import Redactor
from sync.model.curriculum import Curriculum

__all__ = ["MAX_EXAMPLES", "POOL", "TOKEN_BUDGET", "ExampleRow", "fetch_examples", "render"]

MAX_EXAMPLES = 5
POOL = 50
TOKEN_BUDGET = 1200
_PER_SKILL = 2
_WINDOW = 200


@dataclass(frozen=True)
class ExampleRow:
    correction_id: int
    skill_name: str
    original_level: str
    corrected_level: str
    justification: str
    notes: str
    quote: str
    excerpt: str
    entry_type: str
    corrected_at: str


def _excerpt(content: str, quote: str) -> str:
    at = content.find(quote)
    if at < 0:
        return content[: 2 * _WINDOW].strip() + (" ..." if len(content) > 2 * _WINDOW else "")
    start = max(0, at - _WINDOW)
    end = min(len(content), at + len(quote) + _WINDOW)
    while start > 0 and not content[start - 1].isspace():
        start += 1
    while end < len(content) and not content[end].isspace():
        end -= 1
    piece = " ".join(content[start:end].split())
    return ("... " if start > 0 else "") + piece + (" ..." if end < len(content) else "")


def fetch_examples(
    conn: Connection, *, entry_id: str, entry_text: str, entry_type: str, curriculum: Curriculum
) -> list[ExampleRow]:
    """The candidate examples, most relevant first (not yet cut to the budget)."""
    rows = conn.execute(
        text(
            """
            SELECT tc.id, a.skill_name, tc.original_level, tc.corrected_level,
                   tc.corrected_justification, tc.teacher_notes, a.source_quote,
                   de.content, de.type, tc.corrected_at
            FROM teacher_corrections tc
            JOIN assessments a ON tc.assessment_id = a.id
            JOIN data_entries de ON a.data_entry_id = de.id
            WHERE tc.teacher_notes IS NOT NULL
              AND tc.use_as_example = 1
              AND de.id <> :entry
            ORDER BY tc.corrected_at DESC, tc.id DESC
            LIMIT :pool
            """
        ),
        {"entry": entry_id, "pool": POOL},
    )
    low = entry_text.lower()
    hits: dict[str, int] = {}
    for skill in curriculum.skills:
        hits[skill.name] = sum(
            1 for p in skill.indicators if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", low)
        )
    found = [
        ExampleRow(
            correction_id=int(r[0]),
            skill_name=str(r[1]),
            original_level=str(r[2]),
            corrected_level=str(r[3]),
            justification=str(r[4] or ""),
            notes=str(r[5] or ""),
            quote=str(r[6]),
            excerpt=_excerpt(str(r[7]), str(r[6])),
            entry_type=str(r[8]),
            corrected_at=str(r[9] or ""),
        )
        for r in rows
    ]
    recency = {row.correction_id: n for n, row in enumerate(found)}
    return sorted(
        found,
        key=lambda row: (
            hits.get(row.skill_name, 0) == 0,
            -hits.get(row.skill_name, 0),
            row.entry_type != entry_type,
            recency[row.correction_id],
        ),
    )


def render(
    rows: list[ExampleRow], *, prompts: Prompts, code: str, redactor: Redactor
) -> tuple[str, list[int]]:
    """The examples section of the user message and the correction ids it carries."""
    blocks: list[str] = []
    used: list[int] = []
    per_skill: dict[str, int] = {}
    budget = TOKEN_BUDGET - estimate_tokens(prompts.examples_intro)
    for row in rows:
        if len(used) >= MAX_EXAMPLES:
            break
        if per_skill.get(row.skill_name, 0) >= _PER_SKILL:
            continue
        block = prompts.example.substitute(
            number=len(used) + 1,
            code=code,
            skill=row.skill_name,
            excerpt=redactor.redact_text(row.excerpt),
            quote=redactor.redact_text(row.quote),
            original_level=row.original_level,
            corrected_level=row.corrected_level,
            justification=redactor.redact_text(row.justification) or "(none)",
            notes=redactor.redact_text(row.notes) or "(none)",
        )
        cost = estimate_tokens(block)
        if cost > budget:
            continue
        budget -= cost
        blocks.append(block)
        used.append(row.correction_id)
        per_skill[row.skill_name] = per_skill.get(row.skill_name, 0) + 1
    if not blocks:
        return "", []
    return prompts.examples_intro + "\n" + "\n".join(blocks) + "\n", used
