-- drop: DROP FUNCTION IF EXISTS sync_tombstone();
-- AFTER DELETE on every synced table: leave a tombstone so the deletion reaches every
-- laptop and an older write can never bring the row back. The tombstone is addressed to
-- the teacher who owned the row's student at the time (NULL when the student itself is
-- gone: the student's own tombstone then carries the deletion, cascading on the laptop).
-- A pushed delete passes its own stamp in the transaction-local setting
-- flourish.delete_stamp ('<hlc>:<device_no>'); otherwise the server's clock stamps it.
-- A row deleted with its student (a cascade: the student is already gone) is addressed to
-- the teacher of the student's own tombstone, written just before in this transaction.
-- SECURITY DEFINER: teachers cannot write tombstones directly, only by deleting rows.
CREATE OR REPLACE FUNCTION sync_tombstone()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD);
    sid text;
    tid text;
    stamp text := nullif(current_setting('flourish.delete_stamp', true), '');
    hlc bigint;
    origin integer := 0;
BEGIN
    IF TG_TABLE_NAME = 'teachers' THEN
        tid := old_row ->> 'id';
    ELSIF TG_TABLE_NAME = 'students' THEN
        sid := old_row ->> 'id';
        tid := old_row ->> 'teacher_id';
    ELSIF TG_TABLE_NAME = 'sync_conflicts' THEN
        sid := old_row ->> 'student_id';
        tid := old_row ->> 'teacher_id';
    ELSE
        IF TG_TABLE_NAME = 'teacher_corrections' THEN
            SELECT a.student_id INTO sid FROM public.assessments a
            WHERE a.id = (old_row ->> 'assessment_id')::bigint;
        ELSE
            sid := old_row ->> 'student_id';
        END IF;
        SELECT s.teacher_id INTO tid FROM public.students s WHERE s.id = sid;
        IF tid IS NULL AND sid IS NOT NULL THEN
            SELECT t.teacher_id INTO tid FROM public.sync_tombstones t
            WHERE t.table_name = 'students' AND t.row_pk = sid;
        END IF;
    END IF;
    IF stamp IS NOT NULL THEN
        hlc := split_part(stamp, ':', 1)::bigint;
        origin := split_part(stamp, ':', 2)::integer;
    ELSE
        hlc := greatest(public.server_hlc(), (old_row ->> 'sync_hlc')::bigint + 1);
    END IF;
    INSERT INTO public.sync_tombstones AS t
        (table_name, row_pk, student_id, teacher_id, sync_hlc, sync_origin,
         sync_version, sync_txid, deleted_at)
    VALUES (TG_TABLE_NAME, old_row ->> 'id', sid, tid, hlc, origin,
            nextval('public.sync_version_seq'), pg_current_xact_id(), clock_timestamp())
    ON CONFLICT (table_name, row_pk) DO UPDATE
        SET student_id = EXCLUDED.student_id, teacher_id = EXCLUDED.teacher_id,
            sync_hlc = EXCLUDED.sync_hlc, sync_origin = EXCLUDED.sync_origin,
            sync_version = EXCLUDED.sync_version, sync_txid = EXCLUDED.sync_txid,
            deleted_at = EXCLUDED.deleted_at;
    RETURN OLD;
END;
$$;
