-- drop: DROP VIEW IF EXISTS latest_assessments;
-- SQLite twin of the seed view (no DISTINCT ON): the latest assessment per student/skill.
CREATE VIEW latest_assessments AS
SELECT id, student_id, skill_name, skill_category, level, confidence_score, created_at
FROM (
    SELECT a.*, ROW_NUMBER() OVER (
        PARTITION BY a.student_id, a.skill_name ORDER BY a.created_at DESC, a.id DESC
    ) AS rn
    FROM assessments a
)
WHERE rn = 1;
