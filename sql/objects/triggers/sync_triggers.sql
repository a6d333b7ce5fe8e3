-- drop: DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['teachers','students','data_entries','assessments','teacher_corrections','skill_targets','badges','sync_conflicts'] LOOP EXECUTE format('DROP TRIGGER IF EXISTS sync_stamp ON %I', t); EXECUTE format('DROP TRIGGER IF EXISTS sync_tombstone ON %I', t); EXECUTE format('DROP TRIGGER IF EXISTS sync_forget_tombstone ON %I', t); END LOOP; END $$;
-- The sync bookkeeping triggers, the same on every synced table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['teachers', 'students', 'data_entries', 'assessments',
                             'teacher_corrections', 'skill_targets', 'badges',
                             'sync_conflicts']
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER sync_stamp BEFORE INSERT OR UPDATE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION sync_stamp()', t);
        EXECUTE format('CREATE OR REPLACE TRIGGER sync_tombstone AFTER DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION sync_tombstone()', t);
    END LOOP;
    -- Only natural keys can be written again after a deletion (generated ids never repeat).
    FOREACH t IN ARRAY ARRAY['teachers', 'students']
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER sync_forget_tombstone AFTER INSERT ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION sync_forget_tombstone()', t);
    END LOOP;
END
$$;
