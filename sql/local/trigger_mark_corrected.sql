-- drop: DROP TRIGGER IF EXISTS trigger_mark_corrected;
-- SQLite twin of the server trigger. It changes only the derived columns (corrected,
-- updated_at) and not sync_hlc, so it is not captured: the server derives the same.
CREATE TRIGGER trigger_mark_corrected
AFTER INSERT ON teacher_corrections
FOR EACH ROW
BEGIN
    UPDATE assessments
    SET corrected = 1, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'
    WHERE id = NEW.assessment_id;
END;
