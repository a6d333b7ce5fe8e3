-- drop: DROP POLICY IF EXISTS teacher_rows ON sync_events; ALTER TABLE sync_events DISABLE ROW LEVEL SECURITY;
-- Teachers append their own events and read none.
ALTER TABLE sync_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON sync_events FOR INSERT TO flourish_teacher
    WITH CHECK (teacher_id = (SELECT current_teacher_id()));
