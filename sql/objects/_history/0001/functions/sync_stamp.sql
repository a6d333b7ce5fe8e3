-- drop: DROP FUNCTION IF EXISTS sync_stamp();
-- BEFORE INSERT OR UPDATE on every synced table: give the row a fresh server change
-- version, remember the writing transaction (the commit-safe pull cursor is built on it),
-- and stamp server-side writes that carry no client HLC with the server's clock.
CREATE OR REPLACE FUNCTION sync_stamp()
RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'the id of a % row cannot change (% -> %)', TG_TABLE_NAME, OLD.id, NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.sync_version := nextval('sync_version_seq');
    NEW.sync_txid := pg_current_xact_id();
    NEW.modified_at := clock_timestamp();
    IF TG_OP = 'INSERT' THEN
        IF NEW.sync_hlc IS NULL OR NEW.sync_hlc = 0 THEN
            NEW.sync_hlc := server_hlc();
            NEW.sync_origin := 0;
        END IF;
    ELSIF NEW.sync_hlc IS NOT DISTINCT FROM OLD.sync_hlc THEN
        NEW.sync_hlc := greatest(server_hlc(), OLD.sync_hlc + 1);
        NEW.sync_origin := 0;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
