-- drop: DROP FUNCTION IF EXISTS shared_entry_ids();
-- Evidence owned by another teacher's student that supports a proposal for one of the
-- connected teacher's students (a group transcript after a student changed class, say).
-- The teacher may read it — it is the evidence behind their own student's proposal — but
-- not change it, and a laptop receives it without its owner (student_id NULL), so it
-- holds no row of another teacher's student.
CREATE OR REPLACE FUNCTION shared_entry_ids() RETURNS SETOF varchar
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT DISTINCT a.data_entry_id
    FROM public.assessments a
    JOIN public.students s ON s.id = a.student_id
    WHERE s.teacher_id = public.current_teacher_id() AND a.data_entry_id IS NOT NULL
$$;
