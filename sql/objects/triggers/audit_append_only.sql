-- drop: DROP TRIGGER IF EXISTS audit_append_only ON audit_log;
CREATE OR REPLACE TRIGGER audit_append_only
BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
FOR EACH STATEMENT
EXECUTE FUNCTION audit_append_only();
