-- drop: DO $$ BEGIN IF to_regclass('public.evidence_shares') IS NOT NULL THEN REVOKE ALL ON evidence_shares FROM flourish_teacher, flourish_admin; END IF; END $$;
-- Shared evidence: teachers read the shares row level security shows them and share their
-- own entries; IT may do everything.
GRANT SELECT, INSERT (data_entry_id, student_id) ON evidence_shares TO flourish_teacher;
GRANT ALL ON evidence_shares TO flourish_admin;
