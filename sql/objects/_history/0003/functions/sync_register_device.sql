-- drop: DROP FUNCTION IF EXISTS sync_register_device(uuid, text, text);
-- Register (or find again) a laptop for the connected teacher; returns its device number,
-- which fixes the laptop's id range (device_no * 10^9 + n). Idempotent per device uuid.
-- Every call is a sign-in and goes to the audit log.
CREATE OR REPLACE FUNCTION sync_register_device(p_uuid uuid, p_hostname text,
                                                p_client_version text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    me varchar := public.current_teacher_id();
    found_no integer;
    found_teacher varchar;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'login % is not mapped to a teacher', session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT device_no, teacher_id INTO found_no, found_teacher
    FROM public.sync_devices WHERE device_uuid = p_uuid FOR UPDATE;
    IF found_no IS NOT NULL THEN
        IF found_teacher IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'device % belongs to another teacher', p_uuid
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        UPDATE public.sync_devices
        SET hostname = p_hostname, client_version = p_client_version,
            login_role = session_user, last_seen_at = now()
        WHERE device_no = found_no;
        PERFORM public.audit_event('sign_in', jsonb_build_object(
            'device_no', found_no, 'hostname', p_hostname, 'client_version', p_client_version));
        RETURN found_no;
    END IF;
    INSERT INTO public.sync_devices (device_uuid, teacher_id, login_role, hostname,
                                     client_version, last_seen_at)
    VALUES (p_uuid, me, session_user, p_hostname, p_client_version, now())
    RETURNING device_no INTO found_no;
    PERFORM public.audit_event('sign_in', jsonb_build_object(
        'device_no', found_no, 'hostname', p_hostname, 'client_version', p_client_version,
        'new_device', true));
    RETURN found_no;
END;
$$;
