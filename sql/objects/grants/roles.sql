-- drop: SELECT 1;
-- The group roles of a Flourish server (cluster-wide, so created only when missing and
-- left in place by a downgrade):
--   flourish_owner   owns every object of the schema; nobody logs in as it
--   flourish_admin   IT: sees and changes everything, runs add-teacher and backups
--   flourish_teacher every teacher login; row level security narrows it to their students
--   flourish_auditor school leadership: reads the report views in schema "reports" only
-- The login that runs the migration becomes a member of owner and admin, so that it can
-- hand the objects over and administer them.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['flourish_owner', 'flourish_admin', 'flourish_teacher',
                             'flourish_auditor']
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'flourish_owner', 'MEMBER') THEN
        GRANT flourish_owner, flourish_admin TO CURRENT_USER;
    END IF;
END
$$;
