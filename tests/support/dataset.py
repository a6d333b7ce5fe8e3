"""A small, hand-checked dataset that loads the same way into either store.

The expected answers of the views and of seed 001's queries are worked out by hand in the
tests from the rows below, so a change here needs the same change there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from sync.model.crud import ASSESSMENTS, BADGES, CORRECTIONS, DATA_ENTRIES, TARGETS
from sync.model.records import Assessment, Badge, Correction, DataEntry, SkillTarget
from sync.server.admin import load_seed, sync_sequences


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ENTRIES = [
    DataEntry(
        id="DE001",
        student_id="S001",
        teacher_id="T001",
        type="reflection_journal",
        date=dt.date(2026, 9, 1),
        content="I felt nervous but I kept going.",
        metadata={"source_file": "eva-journal.txt"},
    ),
    DataEntry(
        id="DE002",
        student_id="S001",
        teacher_id="T001",
        type="group_discussion_transcript",
        date=dt.date(2026, 10, 1),
        content="Eva: Let's split the work.\nLucas: I'll build the model!",
        metadata={"speakers": ["Eva", "Lucas"]},
    ),
    DataEntry(
        id="DE003",
        student_id="S003",
        teacher_id="T002",
        type="teacher_observation_note",
        date=dt.date(2026, 10, 5),
        content="Pat finished the lab early and checked every step.",
        metadata={},
    ),
]

# id, entry, student, skill, category, level, confidence, created_at
_A = [
    (1, "DE001", "S001", "Self-Awareness", "SEL", "Developing", 0.62, "2026-09-01 10:00:00"),
    (2, "DE002", "S001", "Self-Awareness", "SEL", "Proficient", 0.91, "2026-10-01 10:00:00"),
    (3, "DE002", "S001", "Collaboration", "21st_Century", "Emerging", 0.45, "2026-10-01 10:00:00"),
    (4, "DE002", "S002", "Collaboration", "21st_Century", "Advanced", 0.85, "2026-10-01 11:00:00"),
    (5, "DE003", "S003", "Time Management", "EF", "Developing", 0.70, "2026-10-05 09:00:00"),
    (6, "DE001", "S001", "Self-Management", "SEL", "Proficient", 0.55, "2026-09-01 10:05:00"),
]
ASSESSMENT_ROWS = [
    Assessment(
        id=i,
        data_entry_id=e,
        student_id=s,
        skill_name=k,
        skill_category=c,
        level=lv,
        confidence_score=conf,
        justification=f"because {k} {lv}",
        source_quote="I kept going" if e == "DE001" else "Let's split the work",
        created_at=ts(when),
        updated_at=ts(when),
    )
    for i, e, s, k, c, lv, conf, when in _A
]
CORRECTIONS_ROWS = [
    Correction(
        id=1,
        assessment_id=3,
        original_level="Emerging",
        corrected_level="Developing",
        original_justification="because Collaboration Emerging",
        corrected_justification="She organised the group.",
        teacher_notes="Eva led once prompted",
        corrected_by="T001",
        corrected_at=ts("2026-10-02 08:00:00"),
    ),
    Correction(
        id=2,
        assessment_id=1,
        original_level="Developing",
        corrected_level="Developing",
        original_justification="because Self-Awareness Developing",
        corrected_justification="Teacher accepted the proposal.",
        corrected_by="T001",
        corrected_at=ts("2026-10-03 08:00:00"),
    ),
]
TARGET_ROWS = [
    SkillTarget(
        id=1,
        student_id="S001",
        skill_name="Collaboration",
        starting_level="Emerging",
        target_level="Proficient",
        assigned_by="T001",
        assigned_at=ts("2026-10-02 09:00:00"),
    ),
    SkillTarget(
        id=2,
        student_id="S003",
        skill_name="Time Management",
        starting_level="Developing",
        target_level="Proficient",
        assigned_by="T002",
        assigned_at=ts("2026-10-06 09:00:00"),
        completed=True,
        completed_at=ts("2026-11-01 09:00:00"),
    ),
]
BADGE_ROWS = [
    Badge(
        id=1,
        student_id="S002",
        skill_name="Collaboration",
        skill_category="21st_Century",
        level_achieved="Advanced",
        badge_type="gold",
        granted_by="T001",
        earned_date=dt.date(2026, 10, 2),
    ),
]


def load_fixture(conn: Connection) -> None:
    """Seed teachers/students plus the rows above (plain repos: no local stamping)."""
    load_seed(conn)
    for repo, rows in (
        (DATA_ENTRIES, ENTRIES),
        (ASSESSMENTS, ASSESSMENT_ROWS),
        (CORRECTIONS, CORRECTIONS_ROWS),
        (TARGETS, TARGET_ROWS),
        (BADGES, BADGE_ROWS),
    ):
        for row in rows:
            repo.insert(conn, row)
    if conn.dialect.name == "postgresql":
        sync_sequences(conn)
