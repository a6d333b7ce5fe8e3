-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_service') THEN REVOKE flourish_teacher FROM flourish_service; END IF; END $$;
-- The Flourish service's logins are members of flourish_service (no login itself), which
-- may SET ROLE to flourish_teacher for one request's transaction but, being NOINHERIT,
-- never holds a teacher's rights outside that switch. Cluster-wide, so created only when
-- missing and left in place by a downgrade. Needs the migrating login's own rights
-- (creating a role, granting membership), not the owner role's.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_service') THEN
        CREATE ROLE flourish_service NOLOGIN NOINHERIT;
    END IF;
END
$$;
GRANT flourish_teacher TO flourish_service;
