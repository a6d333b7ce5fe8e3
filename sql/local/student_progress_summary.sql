-- drop: DROP VIEW IF EXISTS student_progress_summary;
CREATE VIEW student_progress_summary AS
SELECT
    s.id AS student_id,
    s.name AS student_name,
    COUNT(DISTINCT a.skill_name) AS skills_assessed,
    COUNT(a.id) AS total_assessments,
    COUNT(CASE WHEN a.level = 'Advanced' THEN 1 END) AS advanced_count,
    COUNT(CASE WHEN a.level = 'Proficient' THEN 1 END) AS proficient_count,
    COUNT(CASE WHEN a.level = 'Developing' THEN 1 END) AS developing_count,
    COUNT(CASE WHEN a.level = 'Emerging' THEN 1 END) AS emerging_count
FROM students s
LEFT JOIN assessments a ON s.id = a.student_id
GROUP BY s.id, s.name;
