-- drop: DROP POLICY IF EXISTS teacher_rows ON badges; ALTER TABLE badges DISABLE ROW LEVEL SECURITY;
-- Rows of the teacher's own students only (reading and writing).
ALTER TABLE badges ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON badges TO flourish_teacher
    USING (student_id IN (SELECT own_student_ids()))
    WITH CHECK (student_id IN (SELECT own_student_ids()));
