"""What the student view shows, read in one go (no Qt): skills, history, evidence,
targets, badges and badge suggestions.

* Skill grid: the effective level per skill (corrected if corrected, else the AI's latest
  proposal), from the ``effective_levels`` view, plus how much evidence there is.
* History (seed 001 query 3 in spirit): every proposal for the student per skill, dated by
  its evidence, with the AI's and the effective level.
* Evidence timeline: all the student's entries (no texts: :func:`entry_text` reads one),
  each with its proposal count or "awaiting AI assessment".
* Targets with the current level, badges with suggestions (``sync.actions``).

Functions take a connection from :meth:`LocalStore.read` and run on a worker thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from desktop.core.wording import entry_title
from sync.actions import BadgeSuggestion, badge_suggestions
from sync.errors import NotFoundError
from sync.model.crud import BADGES, STUDENTS
from sync.model.curriculum import load_curriculum
from sync.model.records import Badge
from sync.model.vocab import LEVEL_RANK, TargetLevels

__all__ = [
    "EntrySummary",
    "HistoryPoint",
    "SkillState",
    "StudentData",
    "TargetRow",
    "entry_text",
    "load_student",
]


@dataclass(frozen=True)
class SkillState:
    skill_name: str
    category: str
    effective_level: str | None
    ai_level: str | None
    reviewed: bool
    evidence: int


@dataclass(frozen=True)
class HistoryPoint:
    when: dt.date
    assessment_id: int
    ai_level: str
    effective_level: str
    reviewed: bool
    data_entry_id: str | None


@dataclass(frozen=True)
class EntrySummary:
    id: str
    type: str
    date: str
    title: str
    proposals: int
    status: str


@dataclass(frozen=True)
class TargetRow(TargetLevels):
    id: int
    skill_name: str
    starting_level: str | None
    target_level: str
    current_level: str | None
    assigned_at: str | None
    completed: bool
    completed_at: str | None


@dataclass(frozen=True)
class StudentData:
    id: str
    name: str
    grade: int
    teacher_id: str | None
    pending: int
    skills: list[SkillState]
    history: dict[str, list[HistoryPoint]]
    entries: list[EntrySummary]
    targets: list[TargetRow]
    badges: list[Badge]
    suggestions: list[BadgeSuggestion] = field(default_factory=list)

    def skill(self, name: str) -> SkillState | None:
        return next((s for s in self.skills if s.skill_name == name), None)


def _date(value: object) -> dt.date:
    text = str(value)[:10]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.date.today()


def load_student(conn: Connection, student_id: str) -> StudentData:
    student = STUDENTS.get(conn, student_id)
    if student is None:
        raise NotFoundError(f"student {student_id}: not in this store")
    curriculum = load_curriculum()
    effective = {
        str(k): (str(lvl), str(ai), bool(rev))
        for k, lvl, ai, rev in conn.exec_driver_sql(
            "SELECT skill_name, effective_level, ai_level, reviewed FROM effective_levels "
            "WHERE student_id = ?",
            (student_id,),
        )
    }
    history: dict[str, list[HistoryPoint]] = {}
    counts: dict[str, int] = {}
    for aid, skill, ai, corrected, entry, edate, created in conn.exec_driver_sql(
        "SELECT a.id, a.skill_name, a.level, tc.corrected_level, a.data_entry_id, de.date, "
        "a.created_at FROM assessments a "
        "LEFT JOIN teacher_corrections tc ON tc.assessment_id = a.id "
        "LEFT JOIN data_entries de ON de.id = a.data_entry_id "
        "WHERE a.student_id = ? ORDER BY COALESCE(de.date, a.created_at), a.created_at, a.id",
        (student_id,),
    ):
        history.setdefault(str(skill), []).append(
            HistoryPoint(
                when=_date(edate or created),
                assessment_id=int(aid),
                ai_level=str(ai),
                effective_level=str(corrected or ai),
                reviewed=corrected is not None,
                data_entry_id=entry,
            )
        )
        counts[str(skill)] = counts.get(str(skill), 0) + 1
    skills = [
        SkillState(
            skill_name=s.name,
            category=s.category,
            effective_level=effective.get(s.name, (None, None, False))[0],
            ai_level=effective.get(s.name, (None, None, False))[1],
            reviewed=effective.get(s.name, (None, None, False))[2],
            evidence=counts.get(s.name, 0),
        )
        for s in curriculum.skills
    ]
    entries = [
        EntrySummary(
            id=str(i),
            type=str(t),
            date=str(d),
            title=entry_title(title, excerpt, str(t)),
            proposals=int(n),
            status=_entry_status(int(n), job, reason),
        )
        for i, t, d, title, excerpt, n, job, reason in conn.exec_driver_sql(
            "SELECT de.id, de.type, de.date, json_extract(de.metadata, '$.title'), "
            "substr(de.content, 1, 200), "
            "(SELECT COUNT(*) FROM assessments a WHERE a.data_entry_id = de.id "
            " AND a.student_id = :s), j.status, j.reason "
            "FROM data_entries de LEFT JOIN assessment_jobs j ON j.data_entry_id = de.id "
            "WHERE de.student_id = :s OR de.id IN "
            " (SELECT data_entry_id FROM assessments WHERE student_id = :s) "
            "ORDER BY de.date DESC, de.id DESC",
            {"s": student_id},
        )
    ]
    targets = [
        TargetRow(
            id=int(i),
            skill_name=str(k),
            starting_level=start,
            target_level=str(goal),
            current_level=effective.get(str(k), (None,))[0],
            assigned_at=None if at is None else str(at)[:10],
            completed=bool(done),
            completed_at=None if done_at is None else str(done_at)[:10],
        )
        for i, k, start, goal, at, done, done_at in conn.exec_driver_sql(
            "SELECT id, skill_name, starting_level, target_level, assigned_at, completed, "
            "completed_at FROM skill_targets WHERE student_id = ? "
            "ORDER BY completed, assigned_at DESC, id DESC",
            (student_id,),
        )
    ]
    pending = int(
        conn.exec_driver_sql(
            "SELECT COUNT(*) FROM assessments WHERE student_id = ? AND corrected = 0",
            (student_id,),
        ).scalar_one()
    )
    badges = BADGES.list(conn, where={"student_id": student_id})
    badges.sort(key=lambda b: (b.earned_date, LEVEL_RANK.get(b.level_achieved, 0)))
    return StudentData(
        id=student.id,
        name=student.name,
        grade=student.grade,
        teacher_id=student.teacher_id,
        pending=pending,
        skills=skills,
        history=history,
        entries=entries,
        targets=targets,
        badges=badges,
        suggestions=badge_suggestions(conn, student_id=student_id),
    )


def _entry_status(proposals: int, job: str | None, reason: str | None) -> str:
    if proposals:
        return f"{proposals} proposal{'s' if proposals != 1 else ''}"
    if job == "failed":
        return f"AI assessment failed: {reason or 'see the log'}"
    if job == "skipped":
        return f"not assessed: {reason or 'skipped'}"
    if job == "running":
        return "being assessed…"
    return "awaiting AI assessment"


def entry_text(conn: Connection, entry_id: str) -> tuple[str, dict[str, object]]:
    """One entry's full text and metadata."""
    import json

    row = conn.exec_driver_sql(
        "SELECT content, metadata FROM data_entries WHERE id = ?", (entry_id,)
    ).first()
    if row is None:
        raise NotFoundError(f"evidence {entry_id}: not in this store")
    meta = row[1]
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = {}
    return str(row[0]), meta if isinstance(meta, dict) else {}
