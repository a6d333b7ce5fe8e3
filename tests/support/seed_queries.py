"""Seed 001's five query patterns, verbatim, with the index each should use and its target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedQuery:
    number: int
    name: str
    sql: str
    index: str
    target_ms: float


Q1 = SeedQuery(
    1,
    "student skill progression",
    """
SELECT
    skill_name,
    level,
    created_at::date as assessment_date,
    confidence_score,
    justification
FROM assessments
WHERE student_id = 'S001'
    AND skill_name = 'Self-Awareness'
ORDER BY created_at DESC;
""",
    "idx_assessments_student_skill",
    50,
)

Q2 = SeedQuery(
    2,
    "low-confidence review queue",
    """
SELECT
    a.id,
    a.student_id,
    s.name as student_name,
    a.skill_name,
    a.level,
    a.confidence_score,
    a.created_at
FROM assessments a
JOIN students s ON a.student_id = s.id
LEFT JOIN teacher_corrections tc ON tc.assessment_id = a.id
WHERE tc.id IS NULL  -- Not yet corrected
    AND a.confidence_score < 0.8
ORDER BY a.confidence_score ASC, a.created_at DESC
LIMIT 20;
""",
    "idx_assessments_confidence",
    100,
)

Q3 = SeedQuery(
    3,
    "skill trends",
    """
WITH skill_levels AS (
    SELECT
        skill_name,
        DATE_TRUNC('week', created_at) as week,
        CASE level
            WHEN 'Emerging' THEN 1
            WHEN 'Developing' THEN 2
            WHEN 'Proficient' THEN 3
            WHEN 'Advanced' THEN 4
        END as level_numeric,
        level
    FROM assessments
    WHERE student_id = 'S001'
)
SELECT
    skill_name,
    week,
    MODE() WITHIN GROUP (ORDER BY level_numeric) as most_common_level_numeric,
    MODE() WITHIN GROUP (ORDER BY level) as most_common_level,
    COUNT(*) as assessment_count
FROM skill_levels
GROUP BY skill_name, week
ORDER BY skill_name, week;
""",
    "idx_assessments_student_skill",
    200,
)

Q4 = SeedQuery(
    4,
    "recent corrections for few-shot learning",
    """
SELECT
    a.skill_name,
    a.skill_category,
    tc.corrected_level,
    tc.corrected_justification,
    a.source_quote,
    tc.teacher_notes,
    de.content as original_content
FROM teacher_corrections tc
JOIN assessments a ON tc.assessment_id = a.id
JOIN data_entries de ON a.data_entry_id = de.id
WHERE tc.teacher_notes IS NOT NULL
ORDER BY tc.corrected_at DESC
LIMIT 5;
""",
    "idx_corrections_created",
    50,
)

Q5 = SeedQuery(
    5,
    "student dashboard badges",
    """
SELECT
    skill_name,
    level,
    MAX(created_at) as earned_date
FROM assessments
WHERE student_id = 'S001'
    AND level IN ('Proficient', 'Advanced')
GROUP BY skill_name, level
ORDER BY earned_date DESC;
""",
    "idx_assessments_student_skill",
    100,
)

# Query 2's rows asked with NOT EXISTS, which PostgreSQL 15 plans as an anti-join (seed
# 001's LEFT JOIN ... WHERE tc.id IS NULL it cannot): how to ask the central database for
# the review queue (laptops ask their own store).
REVIEW_QUEUE = """
SELECT a.id, a.student_id, s.name AS student_name, a.skill_name, a.level,
       a.confidence_score, a.created_at
FROM assessments a
JOIN students s ON a.student_id = s.id
WHERE NOT EXISTS (SELECT 1 FROM teacher_corrections tc WHERE tc.assessment_id = a.id)
    AND a.confidence_score < 0.8
ORDER BY a.confidence_score ASC, a.created_at DESC
LIMIT 20;
"""

ALL = (Q1, Q2, Q3, Q4, Q5)
