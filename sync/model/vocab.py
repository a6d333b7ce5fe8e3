"""Closed vocabularies of the schema: rubric levels, skill categories, entry and badge types.

These tuples feed the CHECK constraints of both stores and the validation of user input, so
the database and the program agree by construction.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BADGE_LEVEL",
    "BADGE_TYPES",
    "CATEGORIES",
    "ENTRY_TYPES",
    "LEVELS",
    "LEVEL_RANK",
    "TargetLevels",
    "level_from_rank",
    "parse_level",
    "target_progress",
]

LEVELS: Final = ("Emerging", "Developing", "Proficient", "Advanced")
LEVEL_RANK: Final = {name: rank for rank, name in enumerate(LEVELS, start=1)}

CATEGORIES: Final = ("SEL", "EF", "21st_Century")

ENTRY_TYPES: Final = (
    "group_discussion_transcript",
    "peer_tutoring_transcript",
    "project_presentation_transcript",
    "reflection_journal",
    "peer_feedback",
    "teacher_observation_note",
    "parent_note",
)

BADGE_TYPES: Final = ("bronze", "silver", "gold")
# A badge marks the first time a skill reaches a level; Emerging earns none.
BADGE_LEVEL: Final = {"bronze": "Developing", "silver": "Proficient", "gold": "Advanced"}


def level_from_rank(rank: int) -> str:
    """``1`` → ``"Emerging"`` … ``4`` → ``"Advanced"``; ValueError outside 1–4."""
    if not 1 <= rank <= len(LEVELS):
        raise ValueError(f"level rank must be 1-4, got {rank}")
    return LEVELS[rank - 1]


def parse_level(value: str | int) -> str:
    """A level from its name (any case) or its rank 1-4; ValueError names the choices."""
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return level_from_rank(int(value))
    text = str(value).strip().lower()
    for name in LEVELS:
        if name.lower() == text:
            return name
    raise ValueError(f"unknown level {value!r}: use one of {', '.join(LEVELS)} or 1-4")


def target_progress(start: str | None, target: str, now: str | None, *, completed: bool) -> float:
    """How far a target has come, 0..1: from its starting level to the target level, at
    the student's level ``now`` (no evidence counts as rank 0); 1 once completed or
    reached."""
    first, goal, at = (
        LEVEL_RANK.get(start or "", 0),
        LEVEL_RANK[target],
        LEVEL_RANK.get(now or "", 0),
    )
    if completed or at >= goal:
        return 1.0
    return 0.0 if goal <= first else max(0.0, min(1.0, (at - first) / (goal - first)))


class TargetLevels:
    """The levels of a target and its :func:`target_progress`, for the rows that show
    targets (the student view's, the report's) to mix in."""

    starting_level: str | None
    target_level: str
    current_level: str | None
    completed: bool

    @property
    def progress(self) -> float:
        """0..1 from the starting level to the target (no evidence counts as rank 0)."""
        return target_progress(
            self.starting_level, self.target_level, self.current_level, completed=self.completed
        )
