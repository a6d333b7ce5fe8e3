-- drop: DROP FUNCTION IF EXISTS sync_notify();
-- AFTER INSERT / AFTER UPDATE, once per statement, on every synced table and on the rows
-- that carry deletions and visibility changes (sync_tombstones, sync_visibility) and shares
-- (evidence_shares): tell the Flourish service whose laptops should sync now. One
-- NOTIFY flourish_changes per teacher who can see a changed row, the payload being just that
-- teacher's id ('*' when every teacher can: a teachers row) — never student text.
-- PostgreSQL delivers them at commit (none if the transaction rolls back) and only once per
-- distinct payload per transaction, so a push of 2,000 rows announces one teacher once.
-- The changed rows come from the statement's transition table "changed"; each branch's
-- query is planned only for the tables that take it (PL/pgSQL compiles a trigger function
-- once per table).
-- SECURITY DEFINER with a pinned search_path and schema-qualified names (see sync_stamp):
-- the lookups must see students and shares whatever the writer's row level security.
CREATE OR REPLACE FUNCTION sync_notify()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    teachers text[];
    tid text;
BEGIN
    IF TG_TABLE_NAME = 'teachers' THEN
        teachers := ARRAY['*'];
    ELSIF TG_TABLE_NAME IN ('students', 'sync_conflicts', 'sync_tombstones',
                            'sync_visibility') THEN
        SELECT array_agg(DISTINCT c.teacher_id) INTO teachers FROM changed c;
    ELSIF TG_TABLE_NAME IN ('assessments', 'skill_targets', 'badges') THEN
        SELECT array_agg(DISTINCT s.teacher_id) INTO teachers
        FROM changed c JOIN public.students s ON s.id = c.student_id;
    ELSIF TG_TABLE_NAME = 'teacher_corrections' THEN
        SELECT array_agg(DISTINCT s.teacher_id) INTO teachers
        FROM changed c
        JOIN public.assessments a ON a.id = c.assessment_id
        JOIN public.students s ON s.id = a.student_id;
    ELSIF TG_TABLE_NAME = 'data_entries' THEN
        -- the student's teacher, and the teachers the entry is shared with
        SELECT array_agg(DISTINCT x.teacher_id) INTO teachers FROM (
            SELECT s.teacher_id FROM changed c JOIN public.students s ON s.id = c.student_id
            UNION ALL
            SELECT s.teacher_id FROM changed c
            JOIN public.evidence_shares g ON g.data_entry_id = c.id
            JOIN public.students s ON s.id = g.student_id
        ) x;
    ELSIF TG_TABLE_NAME = 'evidence_shares' THEN
        -- the teacher it is shared with, and the entry's owner
        SELECT array_agg(DISTINCT x.teacher_id) INTO teachers FROM (
            SELECT s.teacher_id FROM changed c JOIN public.students s ON s.id = c.student_id
            UNION ALL
            SELECT s.teacher_id FROM changed c
            JOIN public.data_entries d ON d.id = c.data_entry_id
            JOIN public.students s ON s.id = d.student_id
        ) x;
    END IF;
    FOREACH tid IN ARRAY coalesce(teachers, ARRAY[]::text[])
    LOOP
        IF tid IS NOT NULL THEN
            PERFORM pg_catalog.pg_notify('flourish_changes', tid);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
