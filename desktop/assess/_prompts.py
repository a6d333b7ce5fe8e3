"""Prompt texts and the response schema.

The texts live in ``resources/prompts/assessment.toml`` (versioned by its
``prompt_version``) and are loaded and checked at the start of every run: a malformed file
is a :class:`PromptError` that names the file and the field. The rubric in the system
message is rendered from the curriculum, so prompt, schema and database always agree.

Trust boundary: the system message holds only our own text and the rubric, identical for
every request (good for the endpoint's prompt cache). Evidence, entry details and teacher
examples go into the user message, each between marker lines that carry a random code
chosen per request and absent from the data, so the data cannot fake the end of its block.
"""

from __future__ import annotations

import json
import secrets
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from desktop.assess._errors import PromptError
from sync.model.curriculum import Curriculum
from sync.model.vocab import LEVELS
from sync.paths import resource_path

__all__ = [
    "Prompts",
    "bounded_schema",
    "estimate_tokens",
    "load_prompts",
    "new_code",
    "response_schema",
    "schema_text",
    "system_message",
]

_FIELDS: dict[str, set[str]] = {
    "system": {"rubric_version", "levels", "skills"},
    "user": {"entry_type", "entry_date", "students", "skills", "examples", "code", "details"}
    | {"text"},
    "examples_intro": set(),
    "example": {"number", "code", "skill", "excerpt", "quote", "original_level"}
    | {"corrected_level", "justification", "notes"},
    "schema_format": {"schema"},
    "repair_format": {"problem"},
    "repair_proposals": {"problems"},
}
_MAX_VERSION = 20  # llm_calls.prompt_version is VARCHAR(20)


@dataclass(frozen=True)
class Prompts:
    version: str
    system: Template
    user: Template
    examples_intro: str
    example: Template
    schema_format: Template
    repair_format: Template
    repair_proposals: Template


def _check(data: dict[str, Any], path: Path) -> Prompts:
    version = data.get("prompt_version")
    if not isinstance(version, str) or not version.strip():
        raise PromptError(f"{path}: prompt_version must be a non-empty string")
    if len(version.strip()) > _MAX_VERSION:
        raise PromptError(f"{path}: prompt_version must be at most {_MAX_VERSION} characters")
    texts: dict[str, str] = {}
    for name, needed in _FIELDS.items():
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PromptError(f"{path}: {name} must be a non-empty string")
        template = Template(value.strip())
        if not template.is_valid():
            raise PromptError(f"{path}: {name} has a malformed $placeholder")
        used = set(template.get_identifiers())
        if needed - used:
            raise PromptError(f"{path}: {name} lacks ${', $'.join(sorted(needed - used))}")
        if used - needed:
            raise PromptError(f"{path}: {name} uses unknown ${', $'.join(sorted(used - needed))}")
        texts[name] = value.strip()
    return Prompts(
        version=version.strip(),
        system=Template(texts["system"]),
        user=Template(texts["user"]),
        examples_intro=texts["examples_intro"],
        example=Template(texts["example"]),
        schema_format=Template(texts["schema_format"]),
        repair_format=Template(texts["repair_format"]),
        repair_proposals=Template(texts["repair_proposals"]),
    )


def load_prompts(path: str | Path | None = None) -> Prompts:
    """Load and check the prompt file (cached for the shipped one)."""
    return _default() if path is None else _load(Path(path))


@cache
def _default() -> Prompts:
    return _load(resource_path("prompts", "assessment.toml"))


def _load(path: Path) -> Prompts:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PromptError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{path}: not valid TOML ({exc})") from exc
    return _check(data, path)


def system_message(
    prompts: Prompts,
    curriculum: Curriculum,
    skills: Sequence[str] | None = None,
    *,
    compact: bool = False,
) -> str:
    """The system message: rules and the rubric of ``skills`` (all by default).

    ``compact`` leaves out the per-level descriptors (the skill's description and the four
    general level summaries remain): for a model whose context cannot hold them.
    """
    levels = "\n".join(f"- {name}: {curriculum.level_summaries[name]}" for name in LEVELS)
    wanted = set(curriculum.skill_names if skills is None else skills)
    blocks = []
    for skill in curriculum.skills:
        if skill.name not in wanted:
            continue
        lines = [f"## {skill.name} ({skill.category}): {skill.description}"]
        if not compact:
            lines += [f"- {level}: {skill.levels[level]}" for level in LEVELS]
        blocks.append("\n".join(lines))
    return prompts.system.substitute(
        rubric_version=curriculum.rubric_version, levels=levels, skills="\n\n".join(blocks)
    )


def schema_text(prompts: Prompts, schema: dict[str, Any]) -> str:
    """The schema instruction for modes where the endpoint does not enforce the schema."""
    return prompts.schema_format.substitute(schema=json.dumps(schema, separators=(",", ":")))


def new_code(*texts: str) -> str:
    """A random marker code that occurs in none of ``texts``."""
    while True:
        code = secrets.token_hex(4)
        if not any(code in text for text in texts):
            return code


def response_schema(students: list[str], skills: list[str]) -> dict[str, Any]:
    """The strict JSON schema of a reply (sent as ``response_format``; checked again here)."""
    proposal = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "student",
            "skill_name",
            "level",
            "confidence",
            "justification",
            "source_quote",
        ],
        "properties": {
            "student": {"type": "string", "enum": students},
            "skill_name": {"type": "string", "enum": skills},
            "level": {"type": "string", "enum": list(LEVELS)},
            "confidence": {"type": "number", "description": "0 to 1"},
            "justification": {"type": "string"},
            "source_quote": {
                "type": "string",
                "description": "copied exactly from the evidence text",
            },
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["proposals"],
        "properties": {"proposals": {"type": "array", "items": proposal}},
    }


MAX_QUOTE_CHARS = 450  # a 60-word quote is about 400 characters
MAX_JUSTIFICATION_CHARS = 350  # one to three plain sentences
MIN_TEXT_CHARS = 10  # an empty quote or justification is never usable


def bounded_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with bounds for a grammar: at most one proposal per (student, skill), strings
    of reasonable length (never empty). Sent in JSON mode with a schema (llama-cpp-python,
    llama.cpp), where the server turns the schema into a grammar: without bounds a model may repeat
    proposals or run a string on until the output limit cuts the reply off. (Not for strict
    ``json_schema``: OpenAI's strict mode does not take every bound.) The reply is validated
    exactly as in every other mode."""
    out: dict[str, Any] = json.loads(json.dumps(schema))
    proposals = out["properties"]["proposals"]
    item = proposals["items"]["properties"]
    pairs = len(item["student"]["enum"]) * len(item["skill_name"]["enum"])
    proposals["maxItems"] = max(1, pairs)
    item["source_quote"] |= {"minLength": MIN_TEXT_CHARS, "maxLength": MAX_QUOTE_CHARS}
    item["justification"] |= {"minLength": MIN_TEXT_CHARS, "maxLength": MAX_JUSTIFICATION_CHARS}
    return out


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters a token) for budgets, not for billing."""
    return len(text) // 4 + 1
