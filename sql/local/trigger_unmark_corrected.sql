-- drop: DROP TRIGGER IF EXISTS trigger_unmark_corrected;
CREATE TRIGGER trigger_unmark_corrected
AFTER DELETE ON teacher_corrections
FOR EACH ROW
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
    UPDATE assessments
    SET corrected = EXISTS (
            SELECT 1 FROM teacher_corrections tc WHERE tc.assessment_id = OLD.assessment_id
        ),
        updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'
    WHERE id = OLD.assessment_id AND corrected;
END;
