-- drop: DROP VIEW IF EXISTS reports.latest_assessments;
-- The seed's latest_assessments with the teacher, against the tables (see effective_levels).
CREATE OR REPLACE VIEW reports.latest_assessments AS
SELECT DISTINCT ON (a.student_id, a.skill_name)
    a.id,
    a.student_id,
    s.teacher_id,
    a.skill_name,
    a.skill_category,
    a.level,
    a.confidence_score,
    a.created_at
FROM public.assessments a
JOIN public.students s ON s.id = a.student_id
ORDER BY a.student_id, a.skill_name, a.created_at DESC;
