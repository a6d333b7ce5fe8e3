-- drop: DROP POLICY IF EXISTS teacher_rows ON sync_devices; ALTER TABLE sync_devices DISABLE ROW LEVEL SECURITY;
-- The teacher's own laptops.
ALTER TABLE sync_devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON sync_devices TO flourish_teacher
    USING (teacher_id = (SELECT current_teacher_id())) WITH CHECK (teacher_id = (SELECT current_teacher_id()));
