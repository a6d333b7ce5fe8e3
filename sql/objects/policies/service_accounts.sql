-- drop: DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['teacher_accounts','device_tokens'] LOOP EXECUTE format('DROP POLICY IF EXISTS service_all ON %I', t); EXECUTE format('DROP POLICY IF EXISTS staff_all ON %I', t); EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t); EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t); END LOOP; END $$;
-- Sign-in data: the service reads password hashes and keeps device tokens; the owner and
-- IT see all of it; teachers (flourish_teacher) have no grant on either table at all.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['teacher_accounts', 'device_tokens']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY service_all ON %I TO flourish_service '
                       'USING (true) WITH CHECK (true)', t);
        EXECUTE format('CREATE POLICY staff_all ON %I TO flourish_owner, flourish_admin '
                       'USING (true) WITH CHECK (true)', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
