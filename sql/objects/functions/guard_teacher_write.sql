-- drop: DROP FUNCTION IF EXISTS guard_teacher_write();
-- BEFORE INSERT OR UPDATE on students, data_entries, assessments, teacher_corrections,
-- skill_targets and badges: what row level security cannot see, checked for teacher logins
-- (IT and the owner write anything the constraints allow). Every refusal is
-- insufficient_privilege and starts with "not allowed", whether or not the row or id it
-- names exists, so that the answer tells a teacher nothing about other teachers' rows.
--
-- * Authors: data_entries.teacher_id, teacher_corrections.corrected_by,
--   skill_targets.assigned_by and badges.granted_by name the signed-in teacher (or
--   nobody) when written; an unchanged value (a former teacher's) may stay on update.
-- * Id ranges (new rows): an id at or above 10^9 belongs to the range of one of the
--   teacher's own registered laptops (device_no * 10^9 + n); an id below 10^9 is the
--   server's: it must be the value this very session just drew from the table's sequence
--   (a default), or the id of the teacher's own deleted row written again (a newer change
--   wins over the deletion). So no one squats on ids the server has yet to hand out, or
--   learns from an insert whether an id is taken.
-- * Deleted ids: a new row may not take an id whose deletion is addressed to another
--   teacher (that teacher's laptops must still receive it).
-- * Shared evidence: an assessment rests on evidence of its own teacher's students, or on
--   an entry its owner (or IT) shared with the assessment's student (evidence_shares). An
--   assessment IT writes across teachers records that share itself.
--
-- An INSERT whose id is taken is left to the primary key (or, with ON CONFLICT DO UPDATE,
-- to this trigger's UPDATE call, which then sees the real old row).
-- SECURITY DEFINER: it reads rows row level security hides from the teacher; search_path
-- pinned, every name schema-qualified.
CREATE OR REPLACE FUNCTION guard_teacher_write()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    me varchar := public.current_teacher_id();
    new_row jsonb := pg_catalog.to_jsonb(NEW);
    old_row jsonb;
    pk text := new_row ->> 'id';
    author_col text := CASE TG_TABLE_NAME
        WHEN 'data_entries' THEN 'teacher_id'
        WHEN 'teacher_corrections' THEN 'corrected_by'
        WHEN 'skill_targets' THEN 'assigned_by'
        WHEN 'badges' THEN 'granted_by' END;
    author text;
    is_new boolean := TG_OP = 'INSERT';
    n numeric;
    seq regclass;
    entry_teacher varchar;
    entry_student varchar;
    entry_found boolean;
    drawn boolean;
BEGIN
    IF me IS NULL THEN
        -- IT or the owner: an assessment resting on another teacher's evidence shares it
        IF TG_TABLE_NAME = 'assessments' AND new_row ->> 'data_entry_id' IS NOT NULL
           AND (TG_OP = 'INSERT'
                OR new_row ->> 'data_entry_id' IS DISTINCT FROM pg_catalog.to_jsonb(OLD) ->> 'data_entry_id'
                OR new_row ->> 'student_id' IS DISTINCT FROM pg_catalog.to_jsonb(OLD) ->> 'student_id') THEN
            INSERT INTO public.evidence_shares (data_entry_id, student_id, granted_by)
            SELECT d.id, new_row ->> 'student_id', NULL
            FROM public.data_entries d
            JOIN public.students es ON es.id = d.student_id
            JOIN public.students s ON s.id = new_row ->> 'student_id'
            WHERE d.id = new_row ->> 'data_entry_id'
              AND es.teacher_id IS DISTINCT FROM s.teacher_id
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN NEW;
    END IF;

    IF TG_OP = 'UPDATE' THEN
        old_row := pg_catalog.to_jsonb(OLD);
    ELSE
        -- one static lookup per table (PL/pgSQL plans only the branch a table reaches)
        IF TG_TABLE_NAME = 'students' THEN
            PERFORM 1 FROM public.students x WHERE x.id = NEW.id;
        ELSIF TG_TABLE_NAME = 'data_entries' THEN
            PERFORM 1 FROM public.data_entries x WHERE x.id = NEW.id;
        ELSIF TG_TABLE_NAME = 'assessments' THEN
            PERFORM 1 FROM public.assessments x WHERE x.id = NEW.id;
        ELSIF TG_TABLE_NAME = 'teacher_corrections' THEN
            PERFORM 1 FROM public.teacher_corrections x WHERE x.id = NEW.id;
        ELSIF TG_TABLE_NAME = 'skill_targets' THEN
            PERFORM 1 FROM public.skill_targets x WHERE x.id = NEW.id;
        ELSE
            PERFORM 1 FROM public.badges x WHERE x.id = NEW.id;
        END IF;
        IF FOUND THEN
            RETURN NEW;  -- taken: a duplicate key, or ON CONFLICT's update (checked then)
        END IF;
    END IF;

    -- authors
    IF author_col IS NOT NULL THEN
        author := new_row ->> author_col;
        IF author IS NOT NULL AND author <> me
           AND (is_new OR author IS DISTINCT FROM old_row ->> author_col) THEN
            RAISE EXCEPTION 'not allowed: % % may name only the signed-in teacher (%) in %',
                TG_TABLE_NAME, pk, me, author_col
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;

    IF is_new THEN
        -- id ranges
        IF TG_TABLE_NAME <> 'students' THEN
            IF TG_TABLE_NAME = 'data_entries' THEN
                -- a malformed id is left to chk_data_entry_id
                n := CASE WHEN pk ~ '^DE[0-9]{1,30}$' THEN pg_catalog.substr(pk, 3)::numeric END;
                seq := 'public.data_entries_id_seq'::regclass;
            ELSE
                n := pk::numeric;
                seq := pg_catalog.pg_get_serial_sequence(
                    pg_catalog.quote_ident(TG_TABLE_NAME), 'id')::regclass;
            END IF;
            IF n IS NULL THEN
                NULL;
            ELSIF n >= 1000000000 THEN
                IF NOT EXISTS (SELECT 1 FROM public.sync_devices d
                               WHERE d.device_no = pg_catalog.div(n, 1000000000)
                                 AND d.teacher_id = me) THEN
                    RAISE EXCEPTION 'not allowed: % id % is outside this teacher''s laptops',
                        TG_TABLE_NAME, pk
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
            ELSE
                BEGIN
                    drawn := pg_catalog.currval(seq) = n;
                EXCEPTION WHEN object_not_in_prerequisite_state THEN
                    drawn := false;  -- this session has drawn no value from the sequence
                END;
                IF NOT drawn AND NOT EXISTS (
                        SELECT 1 FROM public.sync_tombstones t
                        WHERE t.table_name = TG_TABLE_NAME AND t.row_pk = pk
                          AND t.teacher_id = me) THEN
                    RAISE EXCEPTION 'not allowed: % id % is for the server''s own numbering',
                        TG_TABLE_NAME, pk
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
            END IF;
        END IF;
        -- deleted ids
        IF EXISTS (SELECT 1 FROM public.sync_tombstones t
                   WHERE t.table_name = TG_TABLE_NAME AND t.row_pk = pk
                     AND t.teacher_id <> me) THEN
            RAISE EXCEPTION 'not allowed: % id % cannot be used by this teacher', TG_TABLE_NAME, pk
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;

    -- shared evidence
    IF TG_TABLE_NAME = 'assessments' AND new_row ->> 'data_entry_id' IS NOT NULL
       AND (is_new OR new_row ->> 'data_entry_id' IS DISTINCT FROM old_row ->> 'data_entry_id'
            OR new_row ->> 'student_id' IS DISTINCT FROM old_row ->> 'student_id') THEN
        SELECT true, d.student_id, s.teacher_id INTO entry_found, entry_student, entry_teacher
        FROM public.data_entries d LEFT JOIN public.students s ON s.id = d.student_id
        WHERE d.id = new_row ->> 'data_entry_id';
        IF NOT (coalesce(entry_found, false) AND (
                entry_teacher = me
                OR EXISTS (SELECT 1 FROM public.evidence_shares g
                           WHERE g.data_entry_id = new_row ->> 'data_entry_id'
                             AND g.student_id = new_row ->> 'student_id'))) THEN
            RAISE EXCEPTION 'not allowed: evidence % is not shared with student %',
                new_row ->> 'data_entry_id', new_row ->> 'student_id'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
