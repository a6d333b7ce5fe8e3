-- drop: DROP POLICY IF EXISTS teacher_rows ON teacher_corrections; ALTER TABLE teacher_corrections DISABLE ROW LEVEL SECURITY;
-- Corrections of assessments the teacher may see (the assessments table's own policy
-- applies inside the EXISTS: its own students only). Correlated, so a single row costs one
-- index lookup, not a scan of every assessment of the teacher.
ALTER TABLE teacher_corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON teacher_corrections TO flourish_teacher
    USING (EXISTS (SELECT 1 FROM assessments a WHERE a.id = assessment_id))
    WITH CHECK (EXISTS (SELECT 1 FROM assessments a WHERE a.id = assessment_id));
