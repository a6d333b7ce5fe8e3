-- drop: DROP TRIGGER IF EXISTS trigger_mark_corrected;
-- SQLite twin of the server trigger. It changes only the derived columns (corrected,
-- updated_at) and not sync_hlc, so it is not captured: the server derives the same.
-- Inert while a pull applies server rows: those carry the server's derived values.
CREATE TRIGGER trigger_mark_corrected
AFTER INSERT ON teacher_corrections
FOR EACH ROW
WHEN (SELECT applying FROM sync_apply_guard WHERE id = 1) = 0
BEGIN
    UPDATE assessments
    SET corrected = 1, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'
    WHERE id = NEW.assessment_id;
END;
