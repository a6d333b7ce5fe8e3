-- drop: DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['teachers','students','data_entries','assessments','teacher_corrections','skill_targets','badges','sync_conflicts','sync_tombstones','sync_visibility','evidence_shares'] LOOP EXECUTE format('DROP TRIGGER IF EXISTS sync_notify_insert ON %I', t); EXECUTE format('DROP TRIGGER IF EXISTS sync_notify_update ON %I', t); END LOOP; END $$;
-- Live updates: after every statement that inserts or updates rows a laptop pulls, tell the
-- service whose laptops to wake (functions/sync_notify). Deletions reach it through the
-- tombstones they leave, visibility changes through sync_visibility. A trigger with a
-- transition table takes one event, hence one trigger for inserts and one for updates.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['teachers', 'students', 'data_entries', 'assessments',
                             'teacher_corrections', 'skill_targets', 'badges',
                             'sync_conflicts', 'sync_tombstones', 'sync_visibility',
                             'evidence_shares']
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER sync_notify_insert AFTER INSERT ON %I '
                       'REFERENCING NEW TABLE AS changed '
                       'FOR EACH STATEMENT EXECUTE FUNCTION sync_notify()', t);
        EXECUTE format('CREATE OR REPLACE TRIGGER sync_notify_update AFTER UPDATE ON %I '
                       'REFERENCING NEW TABLE AS changed '
                       'FOR EACH STATEMENT EXECUTE FUNCTION sync_notify()', t);
    END LOOP;
END
$$;
