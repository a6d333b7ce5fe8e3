-- drop: DROP FUNCTION IF EXISTS sync_forget_tombstone();
-- AFTER INSERT on teachers and students: a row written again under a key that was deleted
-- before (a student re-enrolled under the same id) is a new row; its old tombstone goes.
-- SECURITY DEFINER: teachers cannot touch tombstones directly.
CREATE OR REPLACE FUNCTION sync_forget_tombstone()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    DELETE FROM public.sync_tombstones
    WHERE table_name = TG_TABLE_NAME AND row_pk = NEW.id::text;
    RETURN NULL;
END;
$$;
