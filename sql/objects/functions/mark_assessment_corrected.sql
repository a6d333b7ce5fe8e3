-- drop: DROP FUNCTION IF EXISTS mark_assessment_corrected();
-- Seed 000: a teacher correction marks its assessment as corrected.
-- SECURITY DEFINER (with a pinned search_path): it only sets the derived flag of the
-- assessment the new correction points at, and the correction's own row level security
-- check has already proved that assessment is the teacher's; running as the owner spares
-- every corrected row a second policy evaluation. A teacher cannot call it directly
-- (it is a trigger function).
CREATE OR REPLACE FUNCTION mark_assessment_corrected()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    UPDATE public.assessments
    SET corrected = TRUE, updated_at = NOW()
    WHERE id = NEW.assessment_id;
    RETURN NEW;
END;
$$;
