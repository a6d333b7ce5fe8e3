-- drop: DROP FUNCTION IF EXISTS shared_entry_ids();
-- Entries of other teachers' students shared with one of the connected teacher's students
-- (evidence_shares). SECURITY DEFINER so that the data_entries policy can use it without
-- recursing through the evidence_shares policies (which ask about data_entries).
CREATE OR REPLACE FUNCTION shared_entry_ids() RETURNS SETOF varchar
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT g.data_entry_id FROM public.evidence_shares g
    WHERE g.student_id IN (SELECT public.own_student_ids())
$$;
