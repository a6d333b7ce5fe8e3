"""What a teacher can do, one small function per action: the CLI and the app call these.

Every function takes the local store and keyword-only arguments, validates its input
(:class:`~sync.errors.ValidationError` says what and where; nothing is written), writes
through :meth:`LocalStore.write` — so the row and its sync queue entry commit together —
and returns a :class:`Result`: the stored record and the list of rows that changed, which
the app broadcasts so each view can decide whether to refresh.

Decisions on AI proposals (seed 000 ``teacher_corrections``):

* **accept** — the teacher agrees: a correction row whose ``corrected_level`` equals the
  proposal's level and whose ``corrected_justification`` is the teacher's own words (or
  "Teacher accepted the AI proposal."), so ``chk_levels_different`` holds and the seed
  trigger marks the assessment reviewed.
* **correct** — the teacher sets another level (and optionally a justification and notes).
* A second decision on the same assessment updates the existing row (one per assessment);
  **clear_decision** removes it and the assessment is pending again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, text

from sync.errors import ConflictError, NotFoundError, ValidationError
from sync.model.crud import ASSESSMENTS, BADGES, CORRECTIONS, STUDENTS, TARGETS
from sync.model.curriculum import load_curriculum
from sync.model.records import Badge, Correction, DataEntry, SkillTarget
from sync.model.vocab import BADGE_LEVEL, BADGE_TYPES, ENTRY_TYPES, LEVEL_RANK, parse_level
from sync.store.local import Change, LocalStore

__all__ = [
    "ACCEPTED_TEXT",
    "MAX_ENTRY_BYTES",
    "Decision",
    "Result",
    "accept",
    "add_entry",
    "assign_target",
    "badge_suggestions",
    "clear_decision",
    "complete_target",
    "correct",
    "decide",
    "delete_target",
    "grant_badge",
    "is_acceptance",
    "restore_decision",
    "set_example_use",
]

T = TypeVar("T")
ACCEPTED_TEXT = "Teacher accepted the AI proposal."
MAX_ENTRY_BYTES = 1_000_000


@dataclass(frozen=True)
class Result(Generic[T]):
    value: T
    changes: list[Change] = field(default_factory=list)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _level(value: str | int, where: str) -> str:
    try:
        return parse_level(value)
    except ValueError as exc:
        raise ValidationError(f"{where}: {exc}") from exc


def _skill(name: str, where: str) -> tuple[str, str]:
    curriculum = load_curriculum()
    for skill in curriculum.skills:
        if skill.name.lower() == name.strip().lower():
            return skill.name, skill.category
    raise ValidationError(
        f"{where}: unknown skill {name!r}; skills are: {', '.join(curriculum.skill_names)}"
    )


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


# -- decisions on AI proposals -----------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A decision as written: what undo needs (``previous``) and what is stored now."""

    assessment_id: int
    previous: Correction | None
    stored: Correction

    @property
    def accepted(self) -> bool:
        return is_acceptance(self.stored.original_level, self.stored.corrected_level)


def is_acceptance(proposed_level: str, chosen_level: str | None) -> bool:
    """The one rule: choosing the level the AI proposed (or no level) is an acceptance."""
    return chosen_level is None or chosen_level == proposed_level


def decide(
    store: LocalStore,
    *,
    assessment_id: int,
    teacher_id: str,
    level: str | int | None = None,
    justification: str | None = None,
    notes: str | None = None,
) -> Result[Decision]:
    """Accept (``level=None`` or the proposed level) or correct a proposal.

    One write transaction reads the proposal and the decision it replaces and writes the
    new one, so ``previous`` is exactly what an undo must put back
    (:func:`restore_decision`).
    """
    where = f"assessment {assessment_id}"
    chosen = None if level is None else _level(level, where)
    with store.write() as txn:
        assessment = ASSESSMENTS.get(txn.conn, assessment_id)
        if assessment is None:
            raise NotFoundError(f"{where}: no such assessment")
        final_level = assessment.level if chosen is None else chosen
        corrected_justification = _clean(justification)
        if is_acceptance(assessment.level, final_level) and corrected_justification in (
            None,
            assessment.justification,
        ):
            corrected_justification = ACCEPTED_TEXT
        values: dict[str, Any] = {
            "original_level": assessment.level,
            "corrected_level": final_level,
            "original_justification": assessment.justification,
            "corrected_justification": corrected_justification,
            "teacher_notes": _clean(notes),
            "corrected_by": teacher_id,
            "corrected_at": _now(),
        }
        existing = CORRECTIONS.list(txn.conn, where={"assessment_id": assessment_id})
        previous = existing[0] if existing else None
        if previous is not None:
            stored = txn.update(Correction, previous.id, **values)
        else:
            stored = txn.insert(Correction(assessment_id=assessment_id, **values))
        return Result(Decision(assessment_id, previous, stored), txn.changes)


def accept(
    store: LocalStore,
    *,
    assessment_id: int,
    teacher_id: str,
    justification: str | None = None,
    notes: str | None = None,
) -> Result[Correction]:
    """Record the teacher's agreement with the AI's proposed level."""
    return correct(
        store,
        assessment_id=assessment_id,
        teacher_id=teacher_id,
        level=None,
        justification=justification,
        notes=notes,
    )


def correct(
    store: LocalStore,
    *,
    assessment_id: int,
    teacher_id: str,
    level: str | int | None,
    justification: str | None = None,
    notes: str | None = None,
) -> Result[Correction]:
    """Record the teacher's level (1-4 or a name) for a proposal; same level = accept.
    The stored correction only: :func:`decide` also returns the one it replaced."""
    decided = decide(
        store,
        assessment_id=assessment_id,
        teacher_id=teacher_id,
        level=level,
        justification=justification,
        notes=notes,
    )
    return Result(decided.value.stored, decided.changes)


def clear_decision(store: LocalStore, *, assessment_id: int) -> Result[None]:
    """Withdraw the teacher's decision: the proposal is pending again."""
    with store.write() as txn:
        for row in CORRECTIONS.list(txn.conn, where={"assessment_id": assessment_id}):
            txn.delete(Correction, row.id)
        return Result(None, txn.changes)


def restore_decision(
    store: LocalStore, *, assessment_id: int, previous: Correction | None
) -> Result[Correction | None]:
    """Put back an earlier decision (undo): ``None`` clears it."""
    if previous is None:
        cleared = clear_decision(store, assessment_id=assessment_id)
        return Result(None, cleared.changes)
    with store.write() as txn:
        values = {
            k: v
            for k, v in previous.to_dict().items()
            if k not in ("id", "assessment_id", "sync_hlc", "sync_origin", "sync_version")
        }
        existing = CORRECTIONS.list(txn.conn, where={"assessment_id": assessment_id})
        if existing:
            stored = txn.update(Correction, existing[0].id, **values)
        else:
            stored = txn.insert(Correction(assessment_id=assessment_id, **values))
        return Result(stored, txn.changes)


def set_example_use(store: LocalStore, *, correction_id: int, use: bool) -> Result[Correction]:
    """Allow or retire a correction as a few-shot example for the AI."""
    with store.write() as txn:
        stored = txn.update(Correction, correction_id, use_as_example=use)
        return Result(stored, txn.changes)


# -- targets -------------------------------------------------------------------------------


def _effective_level(conn: Connection, student_id: str, skill_name: str) -> str | None:
    row = conn.execute(
        text(
            "SELECT effective_level FROM effective_levels WHERE student_id = :s AND skill_name = :k"
        ),
        {"s": student_id, "k": skill_name},
    ).first()
    return None if row is None else str(row[0])


def assign_target(
    store: LocalStore,
    *,
    student_id: str,
    skill_name: str,
    target_level: str | int,
    teacher_id: str,
    starting_level: str | int | None = None,
) -> Result[SkillTarget]:
    """Set a target; the starting level defaults to the student's current effective level."""
    where = f"target for {student_id}"
    skill, _category = _skill(skill_name, where)
    target = _level(target_level, where)
    with store.write() as txn:
        if STUDENTS.get(txn.conn, student_id) is None:
            raise NotFoundError(f"{where}: no student {student_id}")
        start = (
            _level(starting_level, where)
            if starting_level is not None
            else _effective_level(txn.conn, student_id, skill)
        )
        if start is not None and LEVEL_RANK[target] <= LEVEL_RANK[start]:
            raise ValidationError(
                f"{where}, {skill}: the target ({target}) must be above the starting level "
                f"({start})"
            )
        active = TARGETS.list(
            txn.conn, where={"student_id": student_id, "skill_name": skill, "completed": False}
        )
        if active:
            raise ConflictError(
                f"{where}: {skill} already has an active target ({active[0].target_level}); "
                "complete or remove it first"
            )
        stored = txn.insert(
            SkillTarget(
                student_id=student_id,
                skill_name=skill,
                starting_level=start,
                target_level=target,
                assigned_by=teacher_id,
                assigned_at=_now(),
            )
        )
        return Result(stored, txn.changes)


def complete_target(store: LocalStore, *, target_id: int) -> Result[SkillTarget]:
    with store.write() as txn:
        current = TARGETS.require(txn.conn, target_id)
        if current.completed:
            raise ValidationError(f"target {target_id} is already completed")
        stored = txn.update(SkillTarget, target_id, completed=True, completed_at=_now())
        return Result(stored, txn.changes)


def delete_target(store: LocalStore, *, target_id: int) -> Result[None]:
    with store.write() as txn:
        if not txn.delete(SkillTarget, target_id):
            raise NotFoundError(f"target {target_id}: no such target")
        return Result(None, txn.changes)


# -- badges ------------------------------------------------------------------------------


def grant_badge(
    store: LocalStore,
    *,
    student_id: str,
    skill_name: str,
    badge_type: str,
    teacher_id: str,
    earned_date: dt.date | None = None,
) -> Result[Badge]:
    where = f"badge for {student_id}"
    skill, category = _skill(skill_name, where)
    kind = badge_type.strip().lower()
    if kind not in BADGE_TYPES:
        raise ValidationError(f"{where}: badge type must be one of {', '.join(BADGE_TYPES)}")
    level = BADGE_LEVEL[kind]
    with store.write() as txn:
        if STUDENTS.get(txn.conn, student_id) is None:
            raise NotFoundError(f"{where}: no student {student_id}")
        if BADGES.list(
            txn.conn,
            where={"student_id": student_id, "skill_name": skill, "level_achieved": level},
        ):
            raise ConflictError(f"{where}: already has the {kind} badge for {skill}")
        stored = txn.insert(
            Badge(
                student_id=student_id,
                skill_name=skill,
                skill_category=category,
                level_achieved=level,
                badge_type=kind,
                granted_by=teacher_id,
                earned_date=earned_date or dt.date.today(),
            )
        )
        return Result(stored, txn.changes)


@dataclass(frozen=True)
class BadgeSuggestion:
    student_id: str
    skill_name: str
    badge_type: str
    level: str


def badge_suggestions(conn: Connection, *, student_id: str) -> list[BadgeSuggestion]:
    """Badges earned by levels the teacher confirmed (accepted, corrected or assessed
    themselves) and not yet granted. AI proposals nobody reviewed never earn a badge."""
    rows = conn.execute(
        text(
            "SELECT a.skill_name, tc.corrected_level FROM teacher_corrections tc "
            "JOIN assessments a ON a.id = tc.assessment_id WHERE a.student_id = :s"
        ),
        {"s": student_id},
    )
    levels: dict[str, str] = {}
    for skill, level in rows:  # the highest level confirmed per skill
        if LEVEL_RANK[str(level)] > LEVEL_RANK.get(levels.get(str(skill), ""), 0):
            levels[str(skill)] = str(level)
    granted = {
        (b.skill_name, b.level_achieved)
        for b in BADGES.list(conn, where={"student_id": student_id})
    }
    out = []
    for skill, level in sorted(levels.items()):
        for kind, badge_level in BADGE_LEVEL.items():
            if LEVEL_RANK[badge_level] <= LEVEL_RANK[level] and (skill, badge_level) not in granted:
                out.append(BadgeSuggestion(student_id, skill, kind, badge_level))
    return out


# -- evidence ------------------------------------------------------------------------------


def add_entry(
    store: LocalStore,
    *,
    student_id: str,
    teacher_id: str | None,
    entry_type: str,
    content: str,
    date: dt.date | None = None,
    metadata: dict[str, Any] | None = None,
) -> Result[DataEntry]:
    """Write a new piece of evidence; it waits for AI assessment."""
    where = f"evidence for {student_id}"
    if entry_type not in ENTRY_TYPES:
        raise ValidationError(f"{where}: entry type must be one of {', '.join(ENTRY_TYPES)}")
    body = content.strip()
    if not body:
        raise ValidationError(f"{where}: the text is empty")
    if len(body.encode("utf-8")) > MAX_ENTRY_BYTES:
        raise ValidationError(f"{where}: the text is larger than 1 MB")
    with store.write() as txn:
        if STUDENTS.get(txn.conn, student_id) is None:
            raise NotFoundError(f"{where}: no student {student_id}")
        stored = txn.insert(
            DataEntry(
                student_id=student_id,
                teacher_id=teacher_id,
                type=entry_type,
                date=date or dt.date.today(),
                content=body,
                metadata=metadata or {},
            )
        )
        return Result(stored, txn.changes)
