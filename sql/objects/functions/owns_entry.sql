-- drop: DROP FUNCTION IF EXISTS owns_entry(varchar);
-- Is data entry p_id evidence of one of the connected teacher's own students? (For the
-- evidence_shares policies: only the owner may share an entry.) It answers only about the
-- teacher's own rows, so it reveals nothing about other teachers' entries.
CREATE OR REPLACE FUNCTION owns_entry(p_id varchar) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.data_entries d JOIN public.students s ON s.id = d.student_id
        WHERE d.id = p_id AND s.teacher_id = public.current_teacher_id()
    )
$$;
