-- drop: DROP POLICY IF EXISTS teacher_rows ON data_entries; DROP POLICY IF EXISTS teacher_shared_read ON data_entries; ALTER TABLE data_entries DISABLE ROW LEVEL SECURITY;
-- Evidence of the teacher's own students (reading and writing), plus read-only evidence
-- that supports a proposal for one of them: an assessment the teacher may see (the
-- assessments policy applies inside the EXISTS) points at it.
ALTER TABLE data_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON data_entries TO flourish_teacher
    USING (student_id IN (SELECT own_student_ids()))
    WITH CHECK (student_id IN (SELECT own_student_ids()));
CREATE POLICY teacher_shared_read ON data_entries FOR SELECT TO flourish_teacher
    USING (EXISTS (SELECT 1 FROM assessments a WHERE a.data_entry_id = data_entries.id));
