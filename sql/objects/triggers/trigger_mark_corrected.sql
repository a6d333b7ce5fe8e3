-- drop: DROP TRIGGER IF EXISTS trigger_mark_corrected ON teacher_corrections;
CREATE OR REPLACE TRIGGER trigger_mark_corrected
AFTER INSERT ON teacher_corrections
FOR EACH ROW
EXECUTE FUNCTION mark_assessment_corrected();
