-- drop: DROP POLICY IF EXISTS teacher_rows ON teacher_corrections; ALTER TABLE teacher_corrections DISABLE ROW LEVEL SECURITY;
-- Corrections of assessments of the teacher's own students only.
ALTER TABLE teacher_corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON teacher_corrections TO flourish_teacher
    USING (assessment_id IN (SELECT a.id FROM assessments a
                             WHERE a.student_id IN (SELECT own_student_ids())))
    WITH CHECK (assessment_id IN (SELECT a.id FROM assessments a
                                  WHERE a.student_id IN (SELECT own_student_ids())));
