-- drop: DROP FUNCTION IF EXISTS own_assessment_ids();
-- The assessments of the connected teacher's own students (through idx_students_teacher and
-- idx_assessments_student_skill: the teacher's rows only, whatever the district's size).
-- SECURITY DEFINER like own_student_ids, so that the teacher_corrections policy reads it once
-- per statement instead of going through the assessments table's own policy per row.
CREATE OR REPLACE FUNCTION own_assessment_ids() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT a.id FROM public.assessments a JOIN public.students s ON s.id = a.student_id
    WHERE s.teacher_id = public.current_teacher_id()
$$;
