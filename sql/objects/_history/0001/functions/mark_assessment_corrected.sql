-- drop: DROP FUNCTION IF EXISTS mark_assessment_corrected();
-- Seed 000: a teacher correction marks its assessment as corrected.
CREATE OR REPLACE FUNCTION mark_assessment_corrected()
RETURNS TRIGGER AS $$
BEGIN
    UPDATE assessments
    SET corrected = TRUE, updated_at = NOW()
    WHERE id = NEW.assessment_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
