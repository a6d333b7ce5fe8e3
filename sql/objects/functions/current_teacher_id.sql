-- drop: DROP FUNCTION IF EXISTS current_teacher_id();
-- The teacher the current request or login stands for; NULL for logins that are not a
-- teacher (admins, auditors, the service outside a request).
-- * Through the Flourish service: its login (a member of flourish_service) switches each
--   request's transaction to flourish_teacher with SET LOCAL ROLE and names the teacher it
--   authenticated in the transaction-local setting flourish.teacher_id. The setting counts
--   only when the session's login is a service login: any other session could set it.
-- * A direct teacher login (kept while laptops still connect directly): teacher_logins,
--   keyed on session_user (the login itself, which SET ROLE cannot change).
CREATE OR REPLACE FUNCTION current_teacher_id() RETURNS varchar
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT CASE
        WHEN pg_has_role(session_user, 'flourish_service', 'MEMBER')
            THEN nullif(current_setting('flourish.teacher_id', true), '')::varchar
        ELSE (SELECT tl.teacher_id FROM public.teacher_logins tl
              WHERE tl.login_role = session_user)
    END
$$;
