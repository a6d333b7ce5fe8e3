-- drop: DROP VIEW IF EXISTS effective_levels;
CREATE VIEW effective_levels AS
SELECT student_id, skill_name, skill_category, assessment_id, ai_level, corrected_level,
       effective_level, reviewed, confidence_score, created_at
FROM (
    SELECT
        a.student_id,
        a.skill_name,
        a.skill_category,
        a.id AS assessment_id,
        a.level AS ai_level,
        tc.corrected_level,
        COALESCE(tc.corrected_level, a.level) AS effective_level,
        (tc.id IS NOT NULL) AS reviewed,
        a.confidence_score,
        a.created_at,
        ROW_NUMBER() OVER (
            PARTITION BY a.student_id, a.skill_name ORDER BY a.created_at DESC, a.id DESC
        ) AS rn
    FROM assessments a
    LEFT JOIN teacher_corrections tc ON tc.assessment_id = a.id
)
WHERE rn = 1;
