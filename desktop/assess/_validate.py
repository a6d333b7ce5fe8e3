"""Local validation of a model reply: nothing is stored on the model's word alone.

The reply was requested with a strict JSON schema, but the endpoint may not honour it (or
the model may ignore it, or be talked into something by the evidence), so every reply is
checked again here:

* the reply is one JSON object with a ``proposals`` list — otherwise it is a *format
  error* (the whole reply is unusable; the pipeline asks once more with the error);
* each proposal has exactly the six fields, with the right types; ``student`` is one of the
  placeholders sent; ``skill_name`` is a curriculum skill (case and spacing forgiven);
  ``level`` is one of the four levels; ``confidence`` is a number from 0 to 1 — but only
  when the model's confidence is used (``USE_LLM_CONFIDENCE``): otherwise the product ignores
  it, and a missing or out-of-range value drops nothing; ``justification`` is non-empty;
  ``source_quote`` is grounded in the entry (see :mod:`desktop.assess._ground`); and the same
  student and skill appear only once.

A proposal that fails is *dropped* with its reason; the others stand.

*Lenient* parsing (for replies in JSON mode, tool calls or plain text, where the server did
not enforce the schema): the JSON object may be wrapped in prose or a code fence, and a
top-level list is taken as the proposals. The proposals themselves are checked exactly as
strictly as in every other mode.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from desktop.assess._ground import MIN_WORDS, Grounded, ground
from desktop.assess._redact import Mapped
from sync.model.curriculum import Curriculum, Skill
from sync.model.vocab import LEVELS

__all__ = ["Candidate", "Checked", "Dropped", "check_reply"]

FIELDS = ("student", "skill_name", "level", "confidence", "justification", "source_quote")
MAX_JUSTIFICATION = 2000


@dataclass(frozen=True)
class Candidate:
    """A proposal that passed validation (justification still has placeholders)."""

    student_id: str
    placeholder: str
    skill: Skill
    level: str
    model_confidence: float | None  # None: absent or unusable, and not used
    justification: str
    grounded: Grounded


@dataclass(frozen=True)
class Dropped:
    label: str  # "proposal 2 ([STUDENT_1], Leadership)": placeholders only, never names
    reason: str

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}"


@dataclass
class Checked:
    candidates: list[Candidate] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    format_error: str | None = None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _skill(curriculum: Curriculum, name: str) -> Skill | None:
    wanted = " ".join(name.split()).lower()
    for skill in curriculum.skills:
        if skill.name.lower() == wanted:
            return skill
    return None


def _level(value: str) -> str | None:
    for level in LEVELS:
        if level.lower() == value.strip().lower():
            return level
    return None


def _problem(
    item: Any,
    *,
    students: dict[str, str],
    curriculum: Curriculum,
    mapped: Mapped,
    use_model_confidence: bool = True,
) -> str | Candidate:
    if not isinstance(item, dict):
        return "not an object"
    needed = FIELDS if use_model_confidence else tuple(f for f in FIELDS if f != "confidence")
    missing = [f for f in needed if f not in item]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    extra = sorted(set(item) - set(FIELDS))
    if extra:
        return f"unexpected field(s) {', '.join(_short(x) for x in extra)}"
    for name in ("student", "skill_name", "level", "justification", "source_quote"):
        if not isinstance(item[name], str):
            return f"{name} must be a string"
    if item["student"] not in students:
        return f"student {_short(item['student'])!r} is not one of {', '.join(students)}"
    skill = _skill(curriculum, item["skill_name"])
    if skill is None:
        return f"skill {_short(item['skill_name'])!r} is not in the curriculum"
    level = _level(item["level"])
    if level is None:
        return f"level {_short(item['level'])!r} is not one of {', '.join(LEVELS)}"
    confidence = item.get("confidence")
    usable = (
        not isinstance(confidence, bool)
        and isinstance(confidence, int | float)
        and math.isfinite(confidence)
        and 0 <= confidence <= 1
    )
    if use_model_confidence and not usable:
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            return "confidence must be a number"
        return f"confidence {confidence!r} is outside 0-1"
    justification = item["justification"].strip()
    if not justification:
        return "justification is empty"
    if len(justification) > MAX_JUSTIFICATION:
        return f"justification is longer than {MAX_JUSTIFICATION} characters"
    grounded = ground(item["source_quote"], mapped)
    if grounded is None:
        if len(item["source_quote"].split()) < MIN_WORDS:
            return f"source_quote is shorter than {MIN_WORDS} words"
        return "source_quote does not occur in the entry text"
    return Candidate(
        student_id=students[item["student"]],
        placeholder=item["student"],
        skill=skill,
        level=level,
        model_confidence=float(confidence) if usable else None,  # type: ignore[arg-type]
        justification=justification,
        grounded=grounded,
    )


def _lenient(content: str) -> Any:
    """The JSON value in a reply that may wrap it in prose or a code fence (or raise)."""
    text = content.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        decoder = json.JSONDecoder()
        for n, ch in enumerate(text):
            if ch in "{[":
                try:
                    value, _end = decoder.raw_decode(text, n)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict | list):
                    return value
        raise first


def check_reply(
    content: str,
    *,
    students: dict[str, str],
    curriculum: Curriculum,
    mapped: Mapped,
    use_model_confidence: bool = True,
    lenient: bool = False,
) -> Checked:
    """Validate a reply; ``students`` maps the placeholders sent to student ids."""
    checked = Checked()
    try:
        data = _lenient(content) if lenient else json.loads(content)
    except json.JSONDecodeError as exc:
        checked.format_error = f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        return checked
    if lenient and isinstance(data, list):
        data = {"proposals": data}
    if lenient and isinstance(data, dict) and "proposals" not in data and "student" in data:
        data = {"proposals": [data]}  # a small model's single proposal
    if not isinstance(data, dict) or not isinstance(data.get("proposals"), list):
        checked.format_error = 'expected one JSON object with a "proposals" list'
        return checked
    seen: set[tuple[str, str]] = set()
    for n, item in enumerate(data["proposals"], start=1):
        who = _short(item.get("student", "?")) if isinstance(item, dict) else "?"
        what = _short(item.get("skill_name", "?")) if isinstance(item, dict) else "?"
        label = f"proposal {n} ({who}, {what})"
        result = _problem(
            item,
            students=students,
            curriculum=curriculum,
            mapped=mapped,
            use_model_confidence=use_model_confidence,
        )
        if isinstance(result, str):
            checked.dropped.append(Dropped(label, result))
            continue
        key = (result.student_id, result.skill.name)
        if key in seen:
            checked.dropped.append(Dropped(label, "duplicate of an earlier proposal"))
            continue
        seen.add(key)
        checked.candidates.append(result)
    return checked
