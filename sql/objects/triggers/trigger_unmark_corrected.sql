-- drop: DROP TRIGGER IF EXISTS trigger_unmark_corrected ON teacher_corrections;
CREATE OR REPLACE TRIGGER trigger_unmark_corrected
AFTER DELETE ON teacher_corrections
FOR EACH ROW
EXECUTE FUNCTION unmark_assessment_corrected();
