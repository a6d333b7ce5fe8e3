-- drop: DROP FUNCTION IF EXISTS audit_append_only();
-- The audit log is append-only, whoever asks (only the owner could drop this trigger).
CREATE OR REPLACE FUNCTION audit_append_only()
RETURNS TRIGGER
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
