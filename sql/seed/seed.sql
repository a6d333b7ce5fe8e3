-- Seed data of seed 000 (2 teachers, 4 students). Idempotent: rows that already exist are
-- left as they are, so `flourish server init` can run any number of times.

INSERT INTO teachers (id, name, email) VALUES
    ('T001', 'Ms. Rodriguez', 'rodriguez@flourishschools.edu'),
    ('T002', 'Mr. Thompson', 'thompson@flourishschools.edu')
ON CONFLICT (id) DO NOTHING;

INSERT INTO students (id, name, grade, teacher_id) VALUES
    ('S001', 'Eva', 7, 'T001'),
    ('S002', 'Lucas', 7, 'T001'),
    ('S003', 'Pat', 7, 'T002'),
    ('S004', 'Mia', 7, 'T002')
ON CONFLICT (id) DO NOTHING;
