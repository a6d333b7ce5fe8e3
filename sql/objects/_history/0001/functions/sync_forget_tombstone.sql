-- drop: DROP FUNCTION IF EXISTS sync_forget_tombstone();
-- AFTER INSERT on every synced table: a row written again under a key that was deleted
-- before (a student re-enrolled under the same id) is a new row; its old tombstone goes.
CREATE OR REPLACE FUNCTION sync_forget_tombstone()
RETURNS TRIGGER AS $$
BEGIN
    DELETE FROM sync_tombstones WHERE table_name = TG_TABLE_NAME AND row_pk = NEW.id::text;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
