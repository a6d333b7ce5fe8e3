-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_auditor') THEN REVOKE ALL ON ALL TABLES IN SCHEMA reports FROM flourish_auditor; REVOKE ALL ON SCHEMA reports FROM flourish_auditor; END IF; END $$;
-- School leadership: the report views, read only; nothing in schema public.
GRANT USAGE ON SCHEMA reports TO flourish_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA reports TO flourish_auditor;
