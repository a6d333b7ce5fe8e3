-- drop: DROP POLICY IF EXISTS teacher_read ON evidence_shares; DROP POLICY IF EXISTS teacher_grant ON evidence_shares; DROP POLICY IF EXISTS staff_all ON evidence_shares; ALTER TABLE evidence_shares NO FORCE ROW LEVEL SECURITY; ALTER TABLE evidence_shares DISABLE ROW LEVEL SECURITY;
-- Shares of the teacher's own evidence, and shares with the teacher's own students, are
-- readable; only the entry's owner may add one (granted_by is set by the server). Teachers
-- never change or remove a share: IT does (proposals may rest on it).
ALTER TABLE evidence_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON evidence_shares TO flourish_owner, flourish_admin
    USING (true) WITH CHECK (true);
CREATE POLICY teacher_read ON evidence_shares FOR SELECT TO flourish_teacher
    USING (student_id IN (SELECT own_student_ids()) OR owns_entry(data_entry_id));
CREATE POLICY teacher_grant ON evidence_shares FOR INSERT TO flourish_teacher
    WITH CHECK (owns_entry(data_entry_id));
