-- drop: DROP POLICY IF EXISTS teacher_rows ON data_entries; DROP POLICY IF EXISTS teacher_shared_read ON data_entries; ALTER TABLE data_entries DISABLE ROW LEVEL SECURITY;
-- Evidence of the teacher's own students (reading and writing), plus read-only evidence of
-- another teacher's student that its owner (or IT) shared with one of the teacher's own
-- students (evidence_shares). The reader can never create that grant: an assessment of its
-- own does not open an entry (guard_teacher_write refuses one resting on unshared evidence).
ALTER TABLE data_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY teacher_rows ON data_entries TO flourish_teacher
    USING (student_id IN (SELECT own_student_ids()))
    WITH CHECK (student_id IN (SELECT own_student_ids()));
CREATE POLICY teacher_shared_read ON data_entries FOR SELECT TO flourish_teacher
    USING (id IN (SELECT shared_entry_ids()));
