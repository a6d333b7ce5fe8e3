-- Local store schema, version 3: external ids of students and teachers (frozen).
-- The id a school's own system (a SIS, OneRoster, Clever) gives the person, unique per
-- source; the same columns as central migration 0006.

ALTER TABLE teachers ADD COLUMN external_source VARCHAR(40);
ALTER TABLE teachers ADD COLUMN external_id VARCHAR(255);
CREATE UNIQUE INDEX ux_teachers_external ON teachers (external_source, external_id);

ALTER TABLE students ADD COLUMN external_source VARCHAR(40);
ALTER TABLE students ADD COLUMN external_id VARCHAR(255);
CREATE UNIQUE INDEX ux_students_external ON students (external_source, external_id);
