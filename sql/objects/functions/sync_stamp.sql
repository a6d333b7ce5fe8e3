-- drop: DROP FUNCTION IF EXISTS sync_stamp();
-- BEFORE INSERT OR UPDATE on every synced table: give the row a fresh server change
-- version, remember the writing transaction (the commit-safe pull cursor is built on it),
-- and stamp server-side writes that carry no client HLC with the server's clock.
-- SECURITY DEFINER with a pinned search_path (pg_temp last) and schema-qualified names: a
-- session cannot shadow sync_version_seq or server_hlc() (a temporary sequence of the same
-- name would otherwise forge the server-only version), and teachers need no privilege on
-- the sequence. It only ever changes the row being written.
CREATE OR REPLACE FUNCTION sync_stamp()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'the id of a % row cannot change (% -> %)', TG_TABLE_NAME, OLD.id, NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.sync_version := pg_catalog.nextval('public.sync_version_seq'::pg_catalog.regclass);
    NEW.sync_txid := pg_catalog.pg_current_xact_id();
    NEW.modified_at := pg_catalog.clock_timestamp();
    IF TG_OP = 'INSERT' THEN
        IF NEW.sync_hlc IS NULL OR NEW.sync_hlc = 0 THEN
            NEW.sync_hlc := public.server_hlc();
            NEW.sync_origin := 0;
        END IF;
    ELSIF NEW.sync_hlc IS NOT DISTINCT FROM OLD.sync_hlc THEN
        NEW.sync_hlc := greatest(public.server_hlc(), OLD.sync_hlc + 1);
        NEW.sync_origin := 0;
    END IF;
    RETURN NEW;
END;
$$;
