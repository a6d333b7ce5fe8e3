"""Reading a chat-completions request the way the fake model does (for ``fake_openai``).

Where the reply schema is (``response_format``, the forced tool, or the prompt), the
evidence in the request's data section, the capability probe's question, the sentences a
grounded reply can quote, and the strict-schema rules the real service enforces.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "PROBE_QUESTION",
    "evidence_of",
    "is_probe",
    "level_for",
    "own_lines",
    "request_schema",
    "schema_enums",
    "schema_instance",
    "schema_problems",
    "sentences",
    "skill_for",
    "strict_problems",
]

# The pipeline's data section: <<<TEXT token>>> ... <<<END TEXT token>>> (see the prompt).
_DATA = re.compile(r"<<<TEXT (\w+)>>>\n(.*?)\n<<<END TEXT \1>>>", re.S)
_SPEAKER = re.compile(r"^(\[[A-Z]+_\d+\]|[^:\n]{1,40}):\s*(.+)$")


# -- what a grounded reply can quote --------------------------------------------------------

_CUES = (
    ("Advanced", ("helped", "explained", "taught", "led", "on my own", "without being asked")),
    ("Emerging", ("reminder", "prompt", "didn't", "forgot", "gave up", "refused", "help me")),
    ("Developing", ("tried", "sometimes", "started", "almost", "but")),
)


def level_for(sentence: str) -> str:
    low = sentence.lower()
    for level, cues in _CUES:
        if any(cue in low for cue in cues):
            return level
    return "Proficient"


def skill_for(sentence: str, allowed: list[str]) -> str | None:
    """The allowed skill whose rubric keywords the sentence mentions most (like a model would)."""
    from sync.model.curriculum import load_curriculum

    low = sentence.lower()
    best, hits = None, 0
    for skill in load_curriculum().skills:
        count = sum(1 for phrase in skill.indicators if phrase in low)
        if skill.name in allowed and count > hits:
            best, hits = skill.name, count
    return best


def sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        m = _SPEAKER.match(line.strip())
        body = m.group(2) if m else line.strip()
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.split()) >= 5]
    return out


def own_lines(text: str, who: str) -> list[str]:
    lines = [line.strip()[len(who) + 1 :].strip() for line in text.splitlines()]
    own = [
        s
        for raw, s in zip(text.splitlines(), lines, strict=True)
        if raw.strip().startswith(who + ":") and len(s.split()) >= 5
    ]
    return own


PROBE_QUESTION = 'Answer with exactly this JSON object: {"ok": true}'


def is_probe(body: dict[str, Any]) -> bool:
    return any(PROBE_QUESTION in str(m.get("content")) for m in body.get("messages", []))


def request_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The reply schema, wherever the request carries it: ``response_format``, the forced
    tool's parameters, or (JSON mode, plain text) written into the last user message."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return dict(fmt["json_schema"]["schema"])
    if fmt.get("type") == "json_object" and isinstance(fmt.get("schema"), dict):
        return dict(fmt["schema"])  # JSON mode with a schema (llama-cpp-python, llama.cpp)
    if body.get("tools"):
        return dict(body["tools"][0]["function"]["parameters"])
    last = str(body["messages"][-1]["content"])
    start = last.find('{"type":"object"', max(0, last.rfind("JSON schema")))
    if start == -1:
        return None
    value, _end = json.JSONDecoder().raw_decode(last, start)
    return dict(value)


def schema_enums(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(student placeholders, skill names) allowed by the request's response schema."""
    schema = request_schema(body)
    assert schema is not None, "the request carries no schema"
    item = schema["properties"]["proposals"]["items"]["properties"]
    return list(item["student"]["enum"]), list(item["skill_name"]["enum"])


def evidence_of(body: dict[str, Any]) -> str:
    """The evidence text of the request (the TEXT data section of its user messages)."""
    found = [
        match
        for m in body["messages"]
        if m["role"] == "user"
        for match in _DATA.findall(str(m["content"]))
    ]
    return found[-1][1] if found else ""


# -- strict-schema check (what the real service enforces) ------------------------------------


def strict_problems(schema: Any, where: str = "schema") -> list[str]:
    problems: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            props = schema.get("properties", {})
            if schema.get("additionalProperties") is not False:
                problems.append(f"{where}: additionalProperties must be false")
            if sorted(schema.get("required", [])) != sorted(props):
                problems.append(f"{where}: every property must be required")
            for name, sub in props.items():
                problems += strict_problems(sub, f"{where}.{name}")
        if "items" in schema:
            problems += strict_problems(schema["items"], f"{where}[]")
    return problems


# -- what a grammar built from a JSON schema lets a model write ------------------------------


def schema_instance(schema: dict[str, Any]) -> Any:
    """The simplest value of ``schema``'s shape (what a grammar leaves a model that only
    wants to answer ``{"ok": true}``: the required keys, the first enum value)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: schema_instance(props[k]) for k in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "string":
        return "x" * int(schema.get("minLength", 1))
    if kind in ("number", "integer"):
        return 0
    if kind == "boolean":
        return True
    return None


def schema_problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Where ``value`` leaves ``schema`` (the subset llama.cpp's grammar enforces)."""
    if "enum" in schema:
        return [] if value in schema["enum"] else [f"{where}: not one of {schema['enum']}"]
    kind = schema.get("type")
    checks = {
        "object": dict,
        "array": list,
        "string": str,
        "number": (int, float),
        "integer": int,
        "boolean": bool,
    }
    if kind in checks and (
        not isinstance(value, checks[kind]) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [f"{where}: not a {kind}"]
    problems: list[str] = []
    if kind == "object":
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{where}: lacks {key}")
        for key, item in value.items():
            if key in props:
                problems += schema_problems(item, props[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}: {key} is not allowed")
    elif kind == "array":
        if len(value) > schema.get("maxItems", len(value)):
            problems.append(f"{where}: more than {schema['maxItems']} items")
        for n, item in enumerate(value):
            problems += schema_problems(item, schema.get("items", {}), f"{where}[{n}]")
    elif kind == "string":
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            problems.append(f"{where}: length {len(value)} outside the schema's bounds")
    return problems
