-- drop: DROP FUNCTION IF EXISTS guard_teacher_delete();
-- BEFORE DELETE on data_entries, assessments, teacher_corrections, skill_targets and
-- badges: a teacher's delete never destroys another teacher's rows. Row level security
-- already hides other teachers' rows from a direct DELETE, but foreign-key cascades ignore
-- it: deleting a group transcript (or its student) would take along the proposals it
-- supports for another teacher's students, and their decisions. Such a delete is refused,
-- whole, with the reason; the proposals must go first (their teacher deletes them, or IT
-- does). IT and the owner are not limited. A row whose student is already gone in this
-- statement (the cascade of the teacher's own student) is the teacher's.
-- SECURITY DEFINER: it reads the rows row level security hides; search_path pinned.
CREATE OR REPLACE FUNCTION guard_teacher_delete()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    me varchar := public.current_teacher_id();
    sid varchar;
    owner_id varchar;
BEGIN
    IF me IS NULL THEN
        RETURN OLD;
    END IF;
    IF TG_TABLE_NAME = 'teacher_corrections' THEN
        SELECT a.student_id INTO sid FROM public.assessments a WHERE a.id = OLD.assessment_id;
    ELSE
        sid := pg_catalog.to_jsonb(OLD) ->> 'student_id';
    END IF;
    SELECT s.teacher_id INTO owner_id FROM public.students s WHERE s.id = sid;
    IF owner_id IS NOT NULL AND owner_id <> me THEN
        RAISE EXCEPTION 'not allowed: this delete would also delete another teacher''s % (they rest on this teacher''s evidence); ask that teacher or IT to remove them first',
            TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$;
