-- drop: DROP VIEW IF EXISTS latest_assessments;
-- Seed 000, as written: the latest assessment per student per skill (the AI's level).
CREATE OR REPLACE VIEW latest_assessments WITH (security_invoker = true) AS
SELECT DISTINCT ON (student_id, skill_name)
    id,
    student_id,
    skill_name,
    skill_category,
    level,
    confidence_score,
    created_at
FROM assessments
ORDER BY student_id, skill_name, created_at DESC;
