-- drop: DROP FUNCTION IF EXISTS own_student_ids();
-- The students of the connected teacher. SECURITY DEFINER so that policies on other tables
-- can use it without recursing through the students table's own policies.
CREATE OR REPLACE FUNCTION own_student_ids() RETURNS SETOF varchar
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT s.id FROM public.students s WHERE s.teacher_id = public.current_teacher_id()
$$;
