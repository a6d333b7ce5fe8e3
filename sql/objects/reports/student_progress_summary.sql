-- drop: DROP VIEW IF EXISTS reports.student_progress_summary;
-- The seed view, for school leadership, with the teacher and the reviewed count.
CREATE OR REPLACE VIEW reports.student_progress_summary AS
SELECT
    s.id AS student_id,
    s.name AS student_name,
    s.grade,
    s.teacher_id,
    COUNT(DISTINCT a.skill_name) AS skills_assessed,
    COUNT(a.id) AS total_assessments,
    COUNT(CASE WHEN a.corrected THEN 1 END) AS reviewed_assessments,
    COUNT(CASE WHEN a.level = 'Advanced' THEN 1 END) AS advanced_count,
    COUNT(CASE WHEN a.level = 'Proficient' THEN 1 END) AS proficient_count,
    COUNT(CASE WHEN a.level = 'Developing' THEN 1 END) AS developing_count,
    COUNT(CASE WHEN a.level = 'Emerging' THEN 1 END) AS emerging_count
FROM public.students s
LEFT JOIN public.assessments a ON s.id = a.student_id
GROUP BY s.id, s.name, s.grade, s.teacher_id;
