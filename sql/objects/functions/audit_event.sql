-- drop: DROP FUNCTION IF EXISTS audit_event(text, jsonb);
-- Append one line to the audit log: who (the login and the teacher it maps to), when, what.
-- SECURITY DEFINER: nobody writes audit_log directly.
CREATE OR REPLACE FUNCTION audit_event(p_action text, p_detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    INSERT INTO public.audit_log (login_role, teacher_id, action, detail)
    VALUES (session_user, public.current_teacher_id(), p_action, coalesce(p_detail, '{}'))
    RETURNING id
$$;
REVOKE EXECUTE ON FUNCTION audit_event(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_event(text, jsonb) TO flourish_admin;
