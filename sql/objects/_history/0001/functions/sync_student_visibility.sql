-- drop: DROP FUNCTION IF EXISTS sync_student_visibility();
-- AFTER UPDATE OF teacher_id ON students: row level security hides a reassigned student
-- from the old teacher, so an ordinary pull would never learn that it left. Record a
-- 'revoke' for the old teacher (their laptops drop the student's rows) and a 'grant' for
-- the new one (their laptops fetch the student's whole slice).
CREATE OR REPLACE FUNCTION sync_student_visibility()
RETURNS TRIGGER AS $$
BEGIN
    IF NEW.teacher_id IS DISTINCT FROM OLD.teacher_id THEN
        IF OLD.teacher_id IS NOT NULL THEN
            INSERT INTO sync_visibility (teacher_id, student_id, kind, sync_version, sync_txid)
            VALUES (OLD.teacher_id, OLD.id, 'revoke', nextval('sync_version_seq'),
                    pg_current_xact_id());
        END IF;
        IF NEW.teacher_id IS NOT NULL THEN
            INSERT INTO sync_visibility (teacher_id, student_id, kind, sync_version, sync_txid)
            VALUES (NEW.teacher_id, NEW.id, 'grant', nextval('sync_version_seq'),
                    pg_current_xact_id());
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
