-- drop: DROP VIEW IF EXISTS effective_levels;
-- Added beside the seed views: per student and skill, the latest assessment and the level
-- that counts — the teacher's corrected level when the teacher reviewed it, else the AI's.
CREATE OR REPLACE VIEW effective_levels WITH (security_invoker = true) AS
SELECT DISTINCT ON (a.student_id, a.skill_name)
    a.student_id,
    a.skill_name,
    a.skill_category,
    a.id AS assessment_id,
    a.level AS ai_level,
    tc.corrected_level,
    COALESCE(tc.corrected_level, a.level) AS effective_level,
    (tc.id IS NOT NULL) AS reviewed,
    a.confidence_score,
    a.created_at
FROM assessments a
LEFT JOIN teacher_corrections tc ON tc.assessment_id = a.id
ORDER BY a.student_id, a.skill_name, a.created_at DESC, a.id DESC;
