-- drop: DROP VIEW IF EXISTS reports.latest_assessments;
CREATE OR REPLACE VIEW reports.latest_assessments AS
SELECT la.*, s.teacher_id
FROM public.latest_assessments la
JOIN public.students s ON s.id = la.student_id;
