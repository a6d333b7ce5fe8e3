-- drop: DROP FUNCTION IF EXISTS unmark_assessment_corrected();
-- Companion of mark_assessment_corrected (not in the seeds): when a teacher decision is
-- withdrawn (undo, or replaced by a newer decision from another laptop), the assessment is
-- pending again unless another correction still covers it.
CREATE OR REPLACE FUNCTION unmark_assessment_corrected()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    UPDATE public.assessments
    SET corrected = EXISTS (
            SELECT 1 FROM public.teacher_corrections tc WHERE tc.assessment_id = OLD.assessment_id
        ),
        updated_at = NOW()
    WHERE id = OLD.assessment_id AND corrected;
    RETURN OLD;
END;
$$;
