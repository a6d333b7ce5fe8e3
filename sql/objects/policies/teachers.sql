-- drop: DROP POLICY IF EXISTS teachers_read ON teachers; DROP POLICY IF EXISTS teachers_own ON teachers; ALTER TABLE teachers DISABLE ROW LEVEL SECURITY;
-- Every teacher may read the names of all teachers (corrections and targets name their
-- author, who may be a former teacher of a student); only their own row may change.
ALTER TABLE teachers ENABLE ROW LEVEL SECURITY;
CREATE POLICY teachers_read ON teachers FOR SELECT TO flourish_teacher USING (true);
CREATE POLICY teachers_own ON teachers FOR UPDATE TO flourish_teacher
    USING (id = (SELECT current_teacher_id())) WITH CHECK (id = (SELECT current_teacher_id()));
