-- drop: DROP POLICY IF EXISTS teacher_rows ON sync_visibility; ALTER TABLE sync_visibility DISABLE ROW LEVEL SECURITY;
-- Addressed to the teacher: read only (written by triggers).
ALTER TABLE sync_visibility ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON sync_visibility FOR SELECT TO flourish_teacher
    USING (teacher_id = (SELECT current_teacher_id()));
