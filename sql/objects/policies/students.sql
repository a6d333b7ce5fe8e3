-- drop: DROP POLICY IF EXISTS teacher_students ON students; ALTER TABLE students DISABLE ROW LEVEL SECURITY;
-- A teacher sees and changes their own students only, and cannot hand one to another
-- teacher (the new teacher_id must still be their own).
ALTER TABLE students ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_students ON students TO flourish_teacher
    USING (teacher_id = (SELECT current_teacher_id())) WITH CHECK (teacher_id = (SELECT current_teacher_id()));
