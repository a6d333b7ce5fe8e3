-- drop: DROP FUNCTION IF EXISTS evidence_share_stamp();
-- BEFORE INSERT on evidence_shares: the share is signed by whoever grants it (the signed-in
-- teacher; NULL for IT) and dated by the server, whatever the client sent.
CREATE OR REPLACE FUNCTION evidence_share_stamp()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    NEW.granted_by := public.current_teacher_id();
    NEW.granted_at := pg_catalog.now();
    RETURN NEW;
END;
$$;
