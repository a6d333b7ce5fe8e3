-- drop: DROP POLICY IF EXISTS teacher_rows ON sync_tombstones; ALTER TABLE sync_tombstones DISABLE ROW LEVEL SECURITY;
-- Addressed to the teacher: read only (written by triggers).
ALTER TABLE sync_tombstones ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON sync_tombstones FOR SELECT TO flourish_teacher
    USING (teacher_id = (SELECT current_teacher_id()));
