-- drop: DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['students','data_entries','assessments','teacher_corrections','skill_targets','badges'] LOOP EXECUTE format('DROP TRIGGER IF EXISTS guard_teacher_write ON %I', t); EXECUTE format('DROP TRIGGER IF EXISTS guard_teacher_delete ON %I', t); END LOOP; DROP TRIGGER IF EXISTS evidence_share_stamp ON evidence_shares; END $$;
-- What teachers may write beyond row level security (guard_teacher_write), and that their
-- deletes never cascade into another teacher's rows (guard_teacher_delete). BEFORE row
-- triggers fire in name order: guard_* runs before sync_stamp.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['students', 'data_entries', 'assessments', 'teacher_corrections',
                             'skill_targets', 'badges']
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER guard_teacher_write BEFORE INSERT OR UPDATE '
                       'ON %I FOR EACH ROW EXECUTE FUNCTION guard_teacher_write()', t);
        IF t <> 'students' THEN
            EXECUTE format('CREATE OR REPLACE TRIGGER guard_teacher_delete BEFORE DELETE ON %I '
                           'FOR EACH ROW EXECUTE FUNCTION guard_teacher_delete()', t);
        END IF;
    END LOOP;
END
$$;
CREATE OR REPLACE TRIGGER evidence_share_stamp
BEFORE INSERT ON evidence_shares
FOR EACH ROW
EXECUTE FUNCTION evidence_share_stamp();
