-- drop: DROP POLICY IF EXISTS teacher_rows ON sync_conflicts; ALTER TABLE sync_conflicts DISABLE ROW LEVEL SECURITY;
-- The teacher's own conflict log.
ALTER TABLE sync_conflicts ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON sync_conflicts TO flourish_teacher
    USING (teacher_id = (SELECT current_teacher_id())) WITH CHECK (teacher_id = (SELECT current_teacher_id()));
