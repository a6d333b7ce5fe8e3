-- drop: DROP VIEW IF EXISTS reports.effective_levels;
-- Per student and skill, the level that counts (the teacher's when reviewed).
CREATE OR REPLACE VIEW reports.effective_levels AS
SELECT el.*, s.teacher_id
FROM public.effective_levels el
JOIN public.students s ON s.id = el.student_id;
