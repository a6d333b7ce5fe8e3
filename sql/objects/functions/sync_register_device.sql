-- drop: DROP FUNCTION IF EXISTS sync_register_device(uuid, text, text);
-- Register (or find again) a laptop for the connected teacher; returns its device number,
-- which fixes the laptop's id range (device_no * 10^9 + n). Idempotent per device uuid.
-- Every call is a sign-in and goes to the audit log. Host name and client version are
-- capped in length, and a teacher has at most 20 laptops (IT removes old ones), so no login
-- can flood sync_devices or the audit log.
CREATE OR REPLACE FUNCTION sync_register_device(p_uuid uuid, p_hostname text,
                                                p_client_version text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    me varchar := public.current_teacher_id();
    found_no integer;
    found_teacher varchar;
    max_devices CONSTANT integer := 20;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'login % is not mapped to a teacher', session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_uuid IS NULL THEN
        RAISE EXCEPTION 'a device needs its uuid' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.length(p_hostname) > 255 THEN
        RAISE EXCEPTION 'host name too long (% characters, at most 255)',
            pg_catalog.length(p_hostname) USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF pg_catalog.length(p_client_version) > 64 THEN
        RAISE EXCEPTION 'client version too long (% characters, at most 64)',
            pg_catalog.length(p_client_version) USING ERRCODE = 'string_data_right_truncation';
    END IF;
    -- one registration at a time per teacher, so the cap below holds under concurrency
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('flourish_device:' || me));
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
    IF (SELECT pg_catalog.count(*) FROM public.sync_devices d WHERE d.teacher_id = me)
       >= max_devices THEN
        RAISE EXCEPTION 'teacher % already has % laptops registered; ask IT to remove old ones',
            me, max_devices USING ERRCODE = 'program_limit_exceeded';
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
