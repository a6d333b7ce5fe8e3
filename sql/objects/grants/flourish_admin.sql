-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_admin') THEN REVOKE ALL ON ALL TABLES IN SCHEMA public FROM flourish_admin; REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM flourish_admin; REVOKE ALL ON SCHEMA public FROM flourish_admin; END IF; END $$;
-- IT: everything on every table (row level security lets it see all rows: policies/staff).
-- The audit log stays append-only even for IT (audit_append_only).
GRANT USAGE ON SCHEMA public TO flourish_admin;
GRANT ALL ON ALL TABLES IN SCHEMA public TO flourish_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO flourish_admin;
GRANT USAGE ON SCHEMA reports TO flourish_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA reports TO flourish_admin;
