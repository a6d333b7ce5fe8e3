-- drop: DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['teachers','students','data_entries','assessments','teacher_corrections','skill_targets','badges','sync_conflicts','sync_tombstones','sync_visibility','sync_devices','sync_events','audit_log'] LOOP EXECUTE format('DROP POLICY IF EXISTS staff_all ON %I', t); EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t); END LOOP; END $$;
-- Row level security is FORCED on every table that holds student data or sync
-- bookkeeping, so it binds the owner too; the owner (whose SECURITY DEFINER functions
-- and report views read on behalf of others) and IT see every row.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['teachers', 'students', 'data_entries', 'assessments',
                             'teacher_corrections', 'skill_targets', 'badges',
                             'sync_conflicts', 'sync_tombstones', 'sync_visibility',
                             'sync_devices', 'sync_events', 'audit_log']
    LOOP
        EXECUTE format('CREATE POLICY staff_all ON %I TO flourish_owner, flourish_admin '
                       'USING (true) WITH CHECK (true)', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
