-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_teacher') THEN REVOKE ALL ON ALL TABLES IN SCHEMA public FROM flourish_teacher; REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM flourish_teacher; REVOKE ALL ON SCHEMA public FROM flourish_teacher; END IF; END $$;
-- The group role every teacher login belongs to, and what it may do. Row level security
-- (policies/) narrows every table to the teacher's own rows. The role is cluster-wide, so
-- it is created only when missing and survives a downgrade (other databases may use it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_teacher') THEN
        CREATE ROLE flourish_teacher NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO flourish_teacher;
GRANT SELECT (id, name, created_at, sync_hlc, sync_origin, sync_version, sync_txid,
              modified_at) ON teachers TO flourish_teacher;
GRANT UPDATE (name, sync_hlc, sync_origin) ON teachers TO flourish_teacher;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON students, data_entries, assessments, teacher_corrections, skill_targets, badges
    TO flourish_teacher;
GRANT SELECT, INSERT, UPDATE ON sync_conflicts TO flourish_teacher;
GRANT SELECT ON sync_tombstones, sync_visibility, flourish_meta, alembic_version
    TO flourish_teacher;
GRANT SELECT, UPDATE (last_op_seq, last_seen_at, client_version) ON sync_devices
    TO flourish_teacher;
GRANT INSERT ON sync_events TO flourish_teacher;
GRANT USAGE ON SEQUENCE sync_version_seq, sync_conflicts_id_seq, sync_events_id_seq
    TO flourish_teacher;
