-- drop: DROP FUNCTION IF EXISTS sync_forget_tombstone();
-- AFTER INSERT on teachers and students: a row written again under a key that was deleted
-- before (a student re-enrolled under the same id) is a new row; its old tombstone goes —
-- but only a tombstone addressed to the new row's own teacher (or to nobody). Another
-- teacher's tombstone stays, so the deletion still reaches every laptop of that teacher
-- (teachers cannot write under such an id at all: guard_teacher_write).
-- SECURITY DEFINER: teachers cannot touch tombstones directly.
CREATE OR REPLACE FUNCTION sync_forget_tombstone()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    owner_id text := CASE TG_TABLE_NAME WHEN 'teachers' THEN NEW.id::text
                                        ELSE (pg_catalog.to_jsonb(NEW) ->> 'teacher_id') END;
BEGIN
    DELETE FROM public.sync_tombstones t
    WHERE t.table_name = TG_TABLE_NAME AND t.row_pk = NEW.id::text
      AND (t.teacher_id IS NULL OR t.teacher_id = owner_id);
    RETURN NULL;
END;
$$;
