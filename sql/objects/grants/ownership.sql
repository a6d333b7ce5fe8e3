-- drop: DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'flourish_owner') AND pg_has_role(current_user, 'flourish_owner', 'MEMBER') THEN EXECUTE format('REASSIGN OWNED BY flourish_owner TO %I', current_user); REVOKE ALL ON SCHEMA public FROM flourish_owner; EXECUTE format('REVOKE CREATE ON DATABASE %I FROM flourish_owner', current_database()); END IF; END $$;
-- Later migrations run as flourish_owner (sql/migrations/env.py), so it may create here.
-- Granted first: PostgreSQL hands a table only to a role that may create in its schema
-- (and a schema only to a role that may create in the database), which matters when a
-- CREATEROLE login that is not a superuser runs the first installation.
GRANT USAGE, CREATE ON SCHEMA public TO flourish_owner;
DO $$
BEGIN
    EXECUTE format('GRANT CREATE ON DATABASE %I TO flourish_owner', current_database());
END
$$;
-- Every object of the schema belongs to flourish_owner (no login), so that no login —
-- not even IT's day-to-day one — owns tables it could ALTER, disable triggers on or
-- exempt from row level security. SECURITY DEFINER functions then run as this owner.
DO $$
DECLARE
    obj record;
BEGIN
    ALTER SCHEMA reports OWNER TO flourish_owner;  -- first: its views follow it
    FOR obj IN
        SELECT c.relname, c.relkind, n.nspname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'reports') AND c.relkind IN ('r', 'v', 'S', 'p')
          AND NOT (c.relkind = 'S' AND EXISTS (
              SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO flourish_owner',
                       CASE obj.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE'
                                        ELSE 'TABLE' END,
                       obj.nspname, obj.relname);
    END LOOP;
    FOR obj IN
        SELECT p.oid::regprocedure AS sig FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO flourish_owner', obj.sig);
    END LOOP;
END
$$;
