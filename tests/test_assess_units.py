"""Grounding and reply validation, one rule at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from desktop.assess._ground import ground, normalise
from desktop.assess._redact import Redactor
from desktop.assess._validate import check_reply
from sync.model.curriculum import load_curriculum

TEXT = (
    "Eva: I \u201cfixed\u201d the graph \u2014 then   I explained\nit to Lucas\u2026 twice.\n"
    "Lucas: Thanks, it\u2019s clearer now."
)
REDACTOR = Redactor([("S001", "Eva"), ("S002", "Lucas")], [])
MAPPED = REDACTOR.redact(TEXT)


@pytest.mark.parametrize(
    "quote, original, exact",
    [
        ("I \u201cfixed\u201d the graph", "I \u201cfixed\u201d the graph", True),
        ('I "fixed" the graph', "I \u201cfixed\u201d the graph", False),
        ("the graph - then I explained it", "the graph \u2014 then   I explained\nit", False),
        # leading/trailing spaces, punctuation and quote marks are not part of the match
        ("THEN I EXPLAINED IT TO [STUDENT_2]...", "then   I explained\nit to Lucas", False),
        ("  it's clearer now.  ", "it\u2019s clearer now", False),
        ("[STUDENT_1]: I \u201cfixed\u201d the", "Eva: I \u201cfixed\u201d the", True),
    ],
)
def test_quotes_ground_after_normalisation_and_map_back(
    quote: str, original: str, exact: bool
) -> None:
    found = ground(quote, MAPPED)
    assert found is not None
    assert found.quote == original and TEXT[found.start : found.end] == original
    assert found.exact is exact


@pytest.mark.parametrize(
    "quote",
    [
        "I fixed the chart",  # paraphrase
        "I explained it to Eva",  # wrong person
        "the graph",  # too short to mean anything
        "graph then explained",  # words skipped
        "",
    ],
)
def test_ungrounded_quotes(quote: str) -> None:
    assert ground(quote, MAPPED) is None


def test_normalise_keeps_a_map_to_the_source() -> None:
    text, index = normalise("A\u2026  b\u2019")
    assert text == "a... b'"
    assert [index[i] for i in range(len(text))] == [0, 1, 1, 1, 2, 4, 5]


def reply(*items: dict[str, Any]) -> str:
    return json.dumps({"proposals": list(items)})


def good(**changes: Any) -> dict[str, Any]:
    value = {
        "student": "[STUDENT_1]",
        "skill_name": "Communication",
        "level": "Proficient",
        "confidence": 0.7,
        "justification": "Explains the graph to a classmate.",
        "source_quote": "then I explained it to [STUDENT_2]",
    }
    value.update(changes)
    return value


def check(content: str) -> Any:
    return check_reply(
        content,
        students={"[STUDENT_1]": "S001", "[STUDENT_2]": "S002"},
        curriculum=load_curriculum(),
        mapped=MAPPED,
    )


def test_a_valid_reply() -> None:
    result = check(reply(good(), good(student="[STUDENT_2]", skill_name=" critical  THINKING ")))
    assert result.format_error is None and result.dropped == []
    first, second = result.candidates
    assert (first.student_id, first.skill.name, first.skill.category) == (
        "S001",
        "Communication",
        "21st_Century",
    )
    assert second.skill.name == "Critical Thinking" and second.student_id == "S002"
    assert first.grounded.quote == "then   I explained\nit to Lucas"


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"skill_name": "Leadership"}, "'Leadership' is not in the curriculum"),
        ({"level": "Expert"}, "level 'Expert' is not one of"),
        ({"level": 3}, "level must be a string"),
        ({"confidence": 1.01}, "confidence 1.01 is outside 0-1"),
        ({"confidence": -0.1}, "outside 0-1"),
        ({"confidence": "high"}, "confidence must be a number"),
        ({"confidence": True}, "confidence must be a number"),
        ({"justification": "  "}, "justification is empty"),
        ({"justification": "x" * 2001}, "longer than 2000"),
        ({"student": "Eva"}, "student 'Eva' is not one of [STUDENT_1], [STUDENT_2]"),
        ({"source_quote": "I wrote a poem about graphs"}, "does not occur in the entry text"),
        ({"source_quote": "the graph"}, "shorter than 3 words"),
        ({"extra": 1}, "unexpected field(s) extra"),
    ],
)
def test_each_rule_drops_with_its_reason(changes: dict[str, Any], reason: str) -> None:
    result = check(reply(good(**changes), good(skill_name="Metacognition")))
    assert [c.skill.name for c in result.candidates] == ["Metacognition"]
    [dropped] = result.dropped
    assert reason in dropped.reason and dropped.label.startswith("proposal 1 (")


def test_missing_fields_and_non_objects() -> None:
    partial = {k: v for k, v in good().items() if k != "level"}
    result = check(reply(partial, "Proficient"))  # type: ignore[arg-type]
    assert [d.reason for d in result.dropped] == ["missing field(s) level", "not an object"]


@pytest.mark.parametrize(
    "content, error",
    [
        ('{"proposals": [', "not valid JSON (line 1"),
        ('{"levels": []}', 'expected one JSON object with a "proposals" list'),
        ('{"proposals": {}}', 'expected one JSON object with a "proposals" list'),
        ("null", 'expected one JSON object with a "proposals" list'),
    ],
)
def test_format_errors(content: str, error: str) -> None:
    result = check(content)
    assert result.format_error is not None and error in result.format_error
    assert result.candidates == []


def test_empty_proposals_are_a_valid_answer() -> None:
    result = check(reply())
    assert result.format_error is None and result.candidates == result.dropped == []
