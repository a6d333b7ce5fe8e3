-- drop: DROP TRIGGER IF EXISTS trigger_student_visibility ON students;
CREATE OR REPLACE TRIGGER trigger_student_visibility
AFTER UPDATE OF teacher_id ON students
FOR EACH ROW
EXECUTE FUNCTION sync_student_visibility();
