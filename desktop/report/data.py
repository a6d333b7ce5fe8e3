"""What a progress report shows, read from the local store in one go (no Qt).

* Skills: the 17 curriculum skills by category with the **effective** level (the
  teacher's where they decided, else the AI's latest proposal: the ``effective_levels``
  view) and how many pieces of evidence support it; a skill without proposals is "no
  evidence yet". With a period (``date_from``/``date_to``) only proposals on evidence
  dated inside it count, and the level is the latest of those, as the view picks it.
* History: every proposal in evidence-date order, for the level-over-time chart.
* Targets (active, and completed ones) with progress from the starting level; badges.
* A few quotes — **only the student's own words**: quotes from the student's reflection
  journal, or from a transcript line the student speaks (``Name: …``); never from a
  teacher's note, a parent's note or a classmate's feedback. Those of proposals the
  teacher reviewed first, then the most confident, one per skill.

**Names.** The student's name appears only with ``include_name``; otherwise the report
calls them by their id, also inside quotes. Other students' names never appear: quotes
name them "[classmate]". Teachers' names are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Connection

from sync.errors import NotFoundError
from sync.model.crud import BADGES, STUDENTS, TEACHERS
from sync.model.curriculum import load_curriculum
from sync.model.vocab import LEVEL_RANK, TargetLevels

__all__ = [
    "BadgeRow",
    "HistoryPoint",
    "QuoteRow",
    "ReportData",
    "SkillRow",
    "TargetRow",
    "load_report_data",
]

MAX_QUOTE = 280


@dataclass(frozen=True)
class SkillRow:
    name: str
    category: str
    level: str | None  # None: no evidence yet
    reviewed: bool
    evidence: int
    descriptor: str | None


@dataclass(frozen=True)
class HistoryPoint:
    day: dt.date
    skill: str
    category: str
    level: str


@dataclass(frozen=True)
class TargetRow(TargetLevels):
    skill: str
    starting_level: str | None
    target_level: str
    current_level: str | None
    completed: bool
    assigned: dt.date | None
    completed_on: dt.date | None


@dataclass(frozen=True)
class BadgeRow:
    skill: str
    badge_type: str
    level: str
    earned: dt.date


@dataclass(frozen=True)
class QuoteRow:
    skill: str
    level: str
    text: str
    day: dt.date
    entry_type: str | None
    reviewed: bool


@dataclass(frozen=True)
class ReportData:
    student_id: str
    display_name: str
    grade: int
    teacher_name: str | None
    date_from: dt.date | None
    date_to: dt.date | None
    generated: dt.date
    skills: list[SkillRow]
    history: list[HistoryPoint]
    targets: list[TargetRow]
    badges: list[BadgeRow]
    quotes: list[QuoteRow]
    entries: int
    categories: list[tuple[str, str]] = field(default_factory=list)  # (id, display name)

    @property
    def assessed(self) -> int:
        return sum(1 for s in self.skills if s.level is not None)


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class _Names:
    """Replaces students' names in quotes (see the module docstring)."""

    def __init__(self, conn: Connection, student_id: str, own_label: str) -> None:
        rules: list[tuple[str, str]] = []
        for s in STUDENTS.list(conn):
            label = own_label if s.id == student_id else "[classmate]"
            parts = [s.name, *s.name.split()]
            rules += [(p, label) for p in parts if len(p) >= 2]
        rules.sort(key=lambda r: len(r[0]), reverse=True)  # whole names before their parts
        self._pattern = (
            re.compile(r"\b(" + "|".join(re.escape(p) for p, _ in rules) + r")\b", re.I)
            if rules
            else None
        )
        self._labels = {p.lower(): label for p, label in rules}

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._labels[m.group(1).lower()], text)


class _Proposal(NamedTuple):
    id: int
    skill: str
    category: str
    level: str  # effective: the teacher's if decided, else the AI's
    reviewed: bool
    confidence: float
    quote: str
    created: str
    day: dt.date  # the evidence's date
    entry_type: str | None
    own_words: bool  # the quote is the student's own words (see the module docstring)


_OWN_WRITING = {"reflection_journal"}
_TRANSCRIPTS = {
    "group_discussion_transcript",
    "peer_tutoring_transcript",
    "project_presentation_transcript",
}
_SPEAKER = re.compile(r"^\s*([^:\n]{1,60}?)\s*:\s*(.*)$")


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def own_words(content: str | None, quote: str, entry_type: str | None, names: set[str]) -> bool:
    """Whether ``quote`` is the student's own words in an entry (module docstring).

    ``names``: lower-case ways the transcript may name the student (full name, first
    name, id).
    """
    if entry_type in _OWN_WRITING:
        return True
    if entry_type not in _TRANSCRIPTS or not content:
        return False
    wanted = _squash(quote)
    if not wanted:
        return False
    for line in content.splitlines():
        match = _SPEAKER.match(line)
        if match and wanted in _squash(match.group(2)):
            return _squash(match.group(1)) in names
    return False


def _in(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def load_report_data(
    conn: Connection,
    student_id: str,
    *,
    include_name: bool = False,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    max_quotes: int = 4,
) -> ReportData:
    """Everything the report shows for ``student_id`` (see the module docstring)."""
    student = STUDENTS.get(conn, student_id)
    if student is None:
        raise NotFoundError(f"student {student_id}: not in this store")
    teacher = TEACHERS.get(conn, student.teacher_id) if student.teacher_id else None
    curriculum = load_curriculum()
    rows = conn.exec_driver_sql(
        "SELECT a.id, a.skill_name, a.skill_category, a.level, tc.corrected_level, "
        "a.confidence_score, a.source_quote, a.created_at, de.date, de.type, de.content "
        "FROM assessments a LEFT JOIN teacher_corrections tc ON tc.assessment_id = a.id "
        "LEFT JOIN data_entries de ON de.id = a.data_entry_id WHERE a.student_id = ?",
        (student_id,),
    ).all()
    speaker_names = {student.name.lower(), student.name.split()[0].lower(), student.id.lower()}
    proposals = [
        _Proposal(
            id=int(aid),
            skill=str(skill),
            category=str(cat),
            level=str(corrected or ai),
            reviewed=corrected is not None,
            confidence=float(conf or 0),
            quote=str(quote),
            created=str(created),
            day=_day(edate or created),
            entry_type=etype,
            own_words=own_words(content, str(quote), etype, speaker_names),
        )
        for aid, skill, cat, ai, corrected, conf, quote, created, edate, etype, content in rows
    ]
    proposals = [p for p in proposals if _in(p.day, date_from, date_to)]
    latest: dict[str, tuple[str, bool]] = {}
    if date_from is None and date_to is None:
        for skill, level, reviewed in conn.exec_driver_sql(
            "SELECT skill_name, effective_level, reviewed FROM effective_levels "
            "WHERE student_id = ?",
            (student_id,),
        ):
            latest[str(skill)] = (str(level), bool(reviewed))
    else:  # the view's rule (newest proposal, then highest id) within the period
        for p in sorted(proposals, key=lambda p: (p.created, p.id)):
            latest[p.skill] = (p.level, p.reviewed)
    counts: dict[str, int] = {}
    for p in proposals:
        counts[p.skill] = counts.get(p.skill, 0) + 1
    skills = []
    for sk in curriculum.skills:
        level, reviewed = latest.get(sk.name, (None, False))
        skills.append(
            SkillRow(
                name=sk.name,
                category=sk.category,
                level=level,
                reviewed=reviewed,
                evidence=counts.get(sk.name, 0),
                descriptor=sk.levels.get(level) if level else None,
            )
        )
    history = [
        HistoryPoint(p.day, p.skill, p.category, p.level)
        for p in sorted(proposals, key=lambda p: (p.day, p.created, p.id))
    ]
    current = {s.name: s.level for s in skills}
    targets = []
    for skill, start, goal, assigned, done, done_at in conn.exec_driver_sql(
        "SELECT skill_name, starting_level, target_level, assigned_at, completed, completed_at "
        "FROM skill_targets WHERE student_id = ? AND target_level IS NOT NULL "
        "ORDER BY completed, assigned_at, id",
        (student_id,),
    ):
        finished = _day(done_at) if done_at else None
        if finished is not None and not _in(finished, date_from, None):
            continue
        targets.append(
            TargetRow(
                skill=str(skill),
                starting_level=start,
                target_level=str(goal),
                current_level=current.get(str(skill)),
                completed=bool(done),
                assigned=_day(assigned) if assigned else None,
                completed_on=finished,
            )
        )
    granted = BADGES.list(conn, where={"student_id": student_id})
    granted.sort(key=lambda b: (b.earned_date, LEVEL_RANK.get(b.level_achieved, 0)))
    badges = [
        BadgeRow(b.skill_name, b.badge_type, b.level_achieved, b.earned_date)
        for b in granted
        if _in(b.earned_date, date_from, date_to)
    ]
    display = f"{student.name} ({student.id})" if include_name else f"Student {student.id}"
    names = _Names(conn, student_id, student.name if include_name else student.id)
    quotes: list[QuoteRow] = []
    for p in sorted(proposals, key=lambda p: (not p.reviewed, -p.confidence, p.skill)):
        if len(quotes) >= max_quotes or any(q.skill == p.skill for q in quotes):
            continue
        if not p.own_words:
            continue
        text = " ".join(names(p.quote).split())
        if len(text) > MAX_QUOTE:
            text = text[: MAX_QUOTE - 1].rsplit(" ", 1)[0] + "…"
        quotes.append(QuoteRow(p.skill, p.level, text, p.day, p.entry_type, p.reviewed))
    entries = sum(
        1
        for (day,) in conn.exec_driver_sql(
            "SELECT date FROM data_entries WHERE student_id = ?", (student_id,)
        )
        if _in(_day(day), date_from, date_to)
    )
    return ReportData(
        student_id=student.id,
        display_name=display,
        grade=student.grade,
        teacher_name=teacher.name if teacher else None,
        date_from=date_from,
        date_to=date_to,
        generated=dt.date.today(),
        skills=skills,
        history=history,
        targets=targets,
        badges=badges,
        quotes=quotes,
        entries=entries,
        categories=[(c.id, c.name) for c in curriculum.categories],
    )
