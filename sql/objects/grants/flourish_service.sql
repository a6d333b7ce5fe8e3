-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_service') THEN REVOKE ALL ON teacher_accounts, device_tokens, alembic_version FROM flourish_service; REVOKE ALL ON SCHEMA public FROM flourish_service; END IF; END $$;
-- What the service's login may do as itself: read the teachers' password hashes, keep
-- device tokens and read the schema revision (/readyz). It owns nothing and, as itself,
-- reads no student data: everything else happens after SET LOCAL ROLE flourish_teacher.
GRANT USAGE ON SCHEMA public TO flourish_service;
GRANT SELECT ON teacher_accounts, alembic_version TO flourish_service;
GRANT SELECT, INSERT (teacher_id, login, token_hash, device_name, expires_at),
      UPDATE (last_used_at) ON device_tokens TO flourish_service;
