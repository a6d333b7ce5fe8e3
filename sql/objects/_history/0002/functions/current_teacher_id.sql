-- drop: DROP FUNCTION IF EXISTS current_teacher_id();
-- The teacher the connected login stands for, from teacher_logins, keyed on session_user
-- (the login itself, which SET ROLE cannot change) — never on a setting a session could
-- set for itself. NULL for logins that are not a teacher (admins, auditors).
CREATE OR REPLACE FUNCTION current_teacher_id() RETURNS varchar
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT tl.teacher_id FROM public.teacher_logins tl WHERE tl.login_role = session_user
$$;
