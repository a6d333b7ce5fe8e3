-- drop: DROP VIEW IF EXISTS reports.effective_levels;
-- Per student and skill, the level that counts (the teacher's when reviewed). Written
-- against the tables, not public.effective_levels: a security_invoker view inside this
-- view would check the auditor's own (absent) privileges on the tables.
CREATE OR REPLACE VIEW reports.effective_levels AS
SELECT DISTINCT ON (a.student_id, a.skill_name)
    a.student_id,
    s.teacher_id,
    a.skill_name,
    a.skill_category,
    a.id AS assessment_id,
    a.level AS ai_level,
    tc.corrected_level,
    COALESCE(tc.corrected_level, a.level) AS effective_level,
    (tc.id IS NOT NULL) AS reviewed,
    a.confidence_score,
    a.created_at
FROM public.assessments a
JOIN public.students s ON s.id = a.student_id
LEFT JOIN public.teacher_corrections tc ON tc.assessment_id = a.id
ORDER BY a.student_id, a.skill_name, a.created_at DESC, a.id DESC;
