"""The curriculum: 17 skills in three categories, each with four rubric level descriptors.

Loaded from ``resources/curriculum/skills.json`` and validated on load; a malformed file is
a :class:`CurriculumError` that names the file and the field (``skills[3].levels.Advanced``).
The desktop shows descriptors from here and the AI pipeline builds its prompt and output
schema from here, so both always agree with the database's vocabularies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sync.errors import ValidationError
from sync.model.vocab import CATEGORIES, LEVELS
from sync.paths import resource_path

__all__ = ["Category", "Curriculum", "CurriculumError", "Skill", "load_curriculum"]


class CurriculumError(ValidationError):
    """The curriculum file is malformed."""


@dataclass(frozen=True)
class Skill:
    name: str
    category: str
    description: str
    levels: dict[str, str]
    indicators: tuple[str, ...]

    def descriptor(self, level: str) -> str:
        return self.levels[level]


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Curriculum:
    rubric_version: str
    level_summaries: dict[str, str]
    categories: tuple[Category, ...]
    skills: tuple[Skill, ...]

    def skill(self, name: str) -> Skill:
        for skill in self.skills:
            if skill.name == name:
                return skill
        raise KeyError(name)

    @property
    def skill_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.skills)

    def category_of(self, skill_name: str) -> str:
        return self.skill(skill_name).category

    def by_category(self) -> dict[str, list[Skill]]:
        out: dict[str, list[Skill]] = {c.id: [] for c in self.categories}
        for skill in self.skills:
            out[skill.category].append(skill)
        return out


def _text(obj: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CurriculumError(f"{path}: {where}.{key} must be a non-empty string")
    return value.strip()


def _parse(data: Any, path: Path) -> Curriculum:
    if not isinstance(data, dict):
        raise CurriculumError(f"{path}: the top level must be a JSON object")
    version = _text(data, "rubric_version", "(top)", path)
    levels = data.get("levels")
    if not isinstance(levels, list) or [lv.get("name") for lv in levels] != list(LEVELS):
        raise CurriculumError(f"{path}: levels must list {', '.join(LEVELS)} in order")
    summaries = {
        lv["name"]: _text(lv, "summary", f"levels[{i}]", path) for i, lv in enumerate(levels)
    }
    cats_raw = data.get("categories")
    if not isinstance(cats_raw, list):
        raise CurriculumError(f"{path}: categories must be a list")
    categories = tuple(
        Category(
            id=_text(c, "id", f"categories[{i}]", path),
            name=_text(c, "name", f"categories[{i}]", path),
            description=_text(c, "description", f"categories[{i}]", path),
        )
        for i, c in enumerate(cats_raw)
    )
    if sorted(c.id for c in categories) != sorted(CATEGORIES):
        raise CurriculumError(f"{path}: categories must be exactly {', '.join(CATEGORIES)}")
    skills_raw = data.get("skills")
    if not isinstance(skills_raw, list) or not skills_raw:
        raise CurriculumError(f"{path}: skills must be a non-empty list")
    skills: list[Skill] = []
    seen: set[str] = set()
    for i, raw in enumerate(skills_raw):
        where = f"skills[{i}]"
        if not isinstance(raw, dict):
            raise CurriculumError(f"{path}: {where} must be an object")
        name = _text(raw, "name", where, path)
        if name in seen:
            raise CurriculumError(f"{path}: {where}.name {name!r} appears twice")
        seen.add(name)
        category = _text(raw, "category", where, path)
        if category not in CATEGORIES:
            raise CurriculumError(
                f"{path}: {where}.category {category!r} is not one of {', '.join(CATEGORIES)}"
            )
        level_map = raw.get("levels")
        if not isinstance(level_map, dict):
            raise CurriculumError(f"{path}: {where}.levels must be an object")
        descriptors = {lv: _text(level_map, lv, f"{where}.levels", path) for lv in LEVELS}
        extra = set(level_map) - set(LEVELS)
        if extra:
            raise CurriculumError(f"{path}: {where}.levels has unknown level(s) {sorted(extra)}")
        indicators = raw.get("indicators", [])
        if not isinstance(indicators, list) or not all(
            isinstance(x, str) and x.strip() for x in indicators
        ):
            raise CurriculumError(f"{path}: {where}.indicators must be a list of strings")
        skills.append(
            Skill(
                name=name,
                category=category,
                description=_text(raw, "description", where, path),
                levels=descriptors,
                indicators=tuple(x.strip().lower() for x in indicators),
            )
        )
    return Curriculum(
        rubric_version=version,
        level_summaries=summaries,
        categories=categories,
        skills=tuple(skills),
    )


def load_curriculum(path: str | Path | None = None) -> Curriculum:
    """Load and validate the curriculum (cached for the default file)."""
    if path is None:
        return _default()
    return _load(Path(path))


@cache
def _default() -> Curriculum:
    return _load(resource_path("curriculum", "skills.json"))


def _load(path: Path) -> Curriculum:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CurriculumError(f"{path}: file not found") from exc
    except json.JSONDecodeError as exc:
        raise CurriculumError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    return _parse(data, path)
