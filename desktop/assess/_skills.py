"""Which skills a request asks about: the entry type's likely skills, or the teacher's choice.

A request carries the rubric of only the skills in play, so a small model's context holds it
and its attention is not spread over seventeen skills that a parent's note cannot show:

* **by entry type** — ``resources/curriculum/entry_skills.json`` maps each evidence type to the
  skills it usually shows (a reflection journal: self-awareness, self-management,
  metacognition, ...). A type it does not list is asked about every skill. A school overrides
  types with a file of the same shape, named by ``FLOURISH_AI_SKILL_MAP`` or saved in the
  store's ``ai_skill_map`` (the types it lists replace the shipped ones; the rest stay);
* **by the teacher's choice** for one run — ``flourish assess --skills ...`` or the app's
  "Assess new evidence with AI" dialog — which replaces the type's list for every entry.

Both are written as skill names, category ids (``SEL``, ``EF``, ``21st_Century``) or ``all``,
and checked against the curriculum: an unknown name is an :class:`AssessmentConfigError`
naming where it came from and what is allowed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop.assess._errors import AssessmentConfigError
from sync.model.curriculum import Curriculum
from sync.model.vocab import ENTRY_TYPES
from sync.paths import resource_path
from sync.store.local import LocalStore

__all__ = ["SkillMap", "load_skill_map", "parse_choice", "resolve"]

ALL = "all"


@dataclass(frozen=True)
class SkillMap:
    """Entry type -> the skills asked about (curriculum order); ``source`` names the files."""

    by_type: Mapping[str, tuple[str, ...]]
    source: str

    def skills_for(self, entry_type: str, curriculum: Curriculum) -> tuple[str, ...]:
        return self.by_type.get(entry_type) or curriculum.skill_names


def resolve(words: Iterable[str], curriculum: Curriculum, where: str) -> tuple[str, ...]:
    """Skill names, category ids and ``all`` -> skill names in curriculum order."""
    by_category = curriculum.by_category()
    wanted: set[str] = set()
    for raw in words:
        word = raw.strip()
        if not word:
            continue
        if word.lower() == ALL:
            wanted.update(curriculum.skill_names)
        elif word in by_category:
            wanted.update(k.name for k in by_category[word])
        else:
            match = [n for n in curriculum.skill_names if n.lower() == word.lower()]
            if not match:
                raise AssessmentConfigError(
                    f"{where}: {word!r} is not a skill or category; use skill names "
                    f"({', '.join(curriculum.skill_names)}), categories "
                    f"({', '.join(by_category)}) or {ALL!r}"
                )
            wanted.add(match[0])
    if not wanted:
        raise AssessmentConfigError(f"{where}: names no skill")
    return tuple(n for n in curriculum.skill_names if n in wanted)


def parse_choice(text: str, curriculum: Curriculum) -> tuple[str, ...]:
    """The teacher's choice, comma-separated (``--skills "SEL,Metacognition"``)."""
    return resolve(text.split(","), curriculum, "--skills")


def _read(path: Path, curriculum: Curriculum) -> dict[str, tuple[str, ...]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssessmentConfigError(f"{path}: skill map not found") from None
    except (OSError, ValueError) as exc:
        raise AssessmentConfigError(f"{path}: not a readable JSON skill map ({exc})") from None
    types = data.get("entry_types") if isinstance(data, dict) else None
    if not isinstance(types, dict):
        raise AssessmentConfigError(f"{path}: entry_types must be an object")
    out: dict[str, tuple[str, ...]] = {}
    for entry_type, words in types.items():
        where = f"{path}: entry_types.{entry_type}"
        if entry_type not in ENTRY_TYPES:
            raise AssessmentConfigError(
                f"{where}: not an evidence type (one of {', '.join(ENTRY_TYPES)})"
            )
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise AssessmentConfigError(f"{where}: must be a list of skill names")
        out[entry_type] = resolve(words, curriculum, where)
    return out


def _shipped(curriculum: Curriculum) -> dict[str, tuple[str, ...]]:
    return _read(resource_path("curriculum", "entry_skills.json"), curriculum)


def load_skill_map(store: LocalStore | None, curriculum: Curriculum) -> SkillMap:
    """The shipped map, with the school's override (environment, else the store) on top."""
    by_type = dict(_shipped(curriculum))
    source = "the shipped entry_skills.json"
    override = os.environ.get("FLOURISH_AI_SKILL_MAP", "").strip()
    if not override and store is not None:
        override = (store.state("ai_skill_map") or "").strip()
    if override:
        by_type.update(_read(Path(override).expanduser(), curriculum))
        source += f" and {override}"
    return SkillMap(by_type, source)
