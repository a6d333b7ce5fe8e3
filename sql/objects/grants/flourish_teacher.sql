-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_teacher') THEN REVOKE ALL ON ALL TABLES IN SCHEMA public FROM flourish_teacher; REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM flourish_teacher; REVOKE ALL ON SCHEMA public FROM flourish_teacher; END IF; END $$;
-- What a teacher's login may do; row level security (policies/) narrows every table to
-- the teacher's own rows. Inserts and updates are granted per column: a teacher can never
-- write the server's change version, transaction id or modification time, nor the derived
-- corrected flag (triggers set those).
GRANT USAGE ON SCHEMA public TO flourish_teacher;
GRANT SELECT (id, name, created_at, sync_hlc, sync_origin, sync_version, sync_txid,
              modified_at, external_source, external_id) ON teachers TO flourish_teacher;
-- A teacher may name their own row's id in the school's system (policies/teachers: only
-- their own row may change); the roster import records it when the teacher picks classes.
GRANT UPDATE (name, external_source, external_id, sync_hlc, sync_origin) ON teachers
    TO flourish_teacher;
DO $$
DECLARE
    t text;
    cols text;
BEGIN
    FOREACH t IN ARRAY ARRAY['students', 'data_entries', 'assessments', 'teacher_corrections',
                             'skill_targets', 'badges']
    LOOP
        SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
        INTO cols
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = t
          AND column_name NOT IN ('sync_version', 'sync_txid', 'modified_at')
          AND NOT (t = 'assessments' AND column_name = 'corrected');
        EXECUTE format('GRANT SELECT, DELETE ON %I TO flourish_teacher', t);
        EXECUTE format('GRANT INSERT (%s), UPDATE (%s) ON %I TO flourish_teacher', cols, cols, t);
    END LOOP;
END
$$;
GRANT SELECT ON sync_conflicts TO flourish_teacher;
GRANT INSERT (table_name, row_pk, student_id, teacher_id, kind, reason, losing_row,
              losing_hlc, losing_origin, winning_row, winning_hlc, winning_origin,
              created_at) ON sync_conflicts TO flourish_teacher;
GRANT UPDATE (resolution, resolved_at, sync_hlc, sync_origin) ON sync_conflicts
    TO flourish_teacher;
GRANT SELECT ON sync_tombstones, sync_visibility, flourish_meta, alembic_version
    TO flourish_teacher;
-- The seed views (security_invoker: they show the teacher's rows only).
GRANT SELECT ON latest_assessments, student_progress_summary, effective_levels
    TO flourish_teacher;
GRANT SELECT, UPDATE (last_op_seq, last_seen_at, client_version) ON sync_devices
    TO flourish_teacher;
GRANT INSERT (device_no, teacher_id, kind, detail) ON sync_events TO flourish_teacher;
GRANT USAGE ON SEQUENCE sync_version_seq, sync_conflicts_id_seq, sync_events_id_seq
    TO flourish_teacher;
