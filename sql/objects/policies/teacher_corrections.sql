-- drop: DROP POLICY IF EXISTS teacher_rows ON teacher_corrections; ALTER TABLE teacher_corrections DISABLE ROW LEVEL SECURITY;
-- Corrections of assessments the teacher may see: those of its own students. The set is
-- read once per statement (own_assessment_ids, the teacher's rows only). A correlated
-- EXISTS on assessments looked cheaper for one row, but the planner turns it into a hashed
-- subplan over every assessment of the district as soon as it expects many rows (a pull
-- page), which made each pull's cost grow with the district.
ALTER TABLE teacher_corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON teacher_corrections TO flourish_teacher
    USING (assessment_id IN (SELECT own_assessment_ids()))
    WITH CHECK (assessment_id IN (SELECT own_assessment_ids()));
