-- drop: DROP FUNCTION IF EXISTS sync_student_visibility();
-- AFTER UPDATE OF teacher_id ON students: row level security hides a reassigned student
-- from the old teacher, so an ordinary pull would never learn that it left. Record a
-- 'revoke' for the old teacher (their laptops drop the student's rows) and a 'grant' for
-- the new one (their laptops fetch the student's whole slice).
-- Evidence that now crosses teachers (a group transcript of the moved student supporting a
-- proposal for a student who stays, or the other way round) is shared by the move itself
-- (evidence_shares, granted by whoever moved the student: IT), so both teachers keep
-- reading what their proposals rest on.
-- SECURITY DEFINER with a pinned search_path and schema-qualified names (see sync_stamp).
CREATE OR REPLACE FUNCTION sync_student_visibility()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF NEW.teacher_id IS DISTINCT FROM OLD.teacher_id THEN
        IF OLD.teacher_id IS NOT NULL THEN
            INSERT INTO public.sync_visibility (teacher_id, student_id, kind, sync_version,
                                                sync_txid)
            VALUES (OLD.teacher_id, OLD.id, 'revoke',
                    pg_catalog.nextval('public.sync_version_seq'::pg_catalog.regclass),
                    pg_catalog.pg_current_xact_id());
        END IF;
        IF NEW.teacher_id IS NOT NULL THEN
            INSERT INTO public.sync_visibility (teacher_id, student_id, kind, sync_version,
                                                sync_txid)
            VALUES (NEW.teacher_id, NEW.id, 'grant',
                    pg_catalog.nextval('public.sync_version_seq'::pg_catalog.regclass),
                    pg_catalog.pg_current_xact_id());
        END IF;
        INSERT INTO public.evidence_shares (data_entry_id, student_id)
        SELECT DISTINCT a.data_entry_id, a.student_id
        FROM public.assessments a
        JOIN public.data_entries d ON d.id = a.data_entry_id
        JOIN public.students es ON es.id = d.student_id
        JOIN public.students s ON s.id = a.student_id
        WHERE (d.student_id = NEW.id OR a.student_id = NEW.id)
          AND es.teacher_id IS DISTINCT FROM s.teacher_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
