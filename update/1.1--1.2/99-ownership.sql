-------------------------------------------------------------------------------
-- Last: who owns what, and the installer's rights (SPEC 12.1).
--
-- The extension's schema may hold only objects of superusers (the
-- extension's own, or another extension's). An object of another role in it
-- could be found by name instead of ours (a function overload, an operator,
-- a type), and the role could change it at will; while one is there the
-- install or update stops here, naming it.
--
-- The role that installed the extension gets every right on its tables and
-- views, with GRANT OPTION to pass them on (README, "Least privilege") — but
-- not TRIGGER: a trigger runs with the rights of whoever writes the table,
-- the table owner and superusers included. REVOKE ... CASCADE also takes it
-- from the roles the installer gave it to under 1.1. USAGE on the schema,
-- which no longer belongs to the installer, comes with GRANT OPTION too;
-- CREATE on it belongs to its owner alone.
-------------------------------------------------------------------------------

DO $foreign_objects$
DECLARE
    foreign_objects text;
BEGIN
    SELECT string_agg(format('%s (owner %s)', o.what, o.owner), '; ' ORDER BY o.what)
      INTO foreign_objects
      FROM (SELECT pg_describe_object('pg_class'::regclass, c.oid, 0) AS what, c.relowner AS owner_oid
              FROM pg_class AS c WHERE c.relnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0), p.proowner
              FROM pg_proc AS p WHERE p.pronamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_type'::regclass, t.oid, 0), t.typowner
              FROM pg_type AS t WHERE t.typnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_operator'::regclass, o.oid, 0), o.oprowner
              FROM pg_operator AS o WHERE o.oprnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_opfamily'::regclass, f.oid, 0), f.opfowner
              FROM pg_opfamily AS f WHERE f.opfnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_opclass'::regclass, oc.oid, 0), oc.opcowner
              FROM pg_opclass AS oc WHERE oc.opcnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_collation'::regclass, co.oid, 0), co.collowner
              FROM pg_collation AS co WHERE co.collnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_conversion'::regclass, cv.oid, 0), cv.conowner
              FROM pg_conversion AS cv WHERE cv.connamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_ts_config'::regclass, tc.oid, 0), tc.cfgowner
              FROM pg_ts_config AS tc WHERE tc.cfgnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_ts_dict'::regclass, td.oid, 0), td.dictowner
              FROM pg_ts_dict AS td WHERE td.dictnamespace = '@extschema@'::regnamespace
            UNION ALL
            SELECT pg_describe_object('pg_statistic_ext'::regclass, se.oid, 0), se.stxowner
              FROM pg_statistic_ext AS se WHERE se.stxnamespace = '@extschema@'::regnamespace
           ) AS x
      CROSS JOIN LATERAL (SELECT x.what, r.rolname AS owner
                            FROM pg_roles AS r WHERE r.oid = x.owner_oid AND NOT r.rolsuper) AS o;
    IF foreign_objects IS NOT NULL THEN
        RAISE EXCEPTION 'schema @extschema@ holds objects of roles that are not superusers: %', foreign_objects
            USING ERRCODE = '42501',
                  HINT = 'Only the extension''s own objects may live in its schema: drop these (or move them to another schema) and run the command again.';
    END IF;
END
$foreign_objects$;

REVOKE TRIGGER ON ALL TABLES IN SCHEMA @extschema@ FROM @extowner@ CASCADE;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON ALL TABLES IN SCHEMA @extschema@
    TO @extowner@ WITH GRANT OPTION;
GRANT USAGE ON SCHEMA @extschema@ TO @extowner@ WITH GRANT OPTION;

-- Nobody but the schema's owner creates objects in it: a CREATE right that
-- the installer gave away while it owned the schema (to PUBLIC or any role)
-- survived the change of owner, and would let that role plant objects next
-- to ours after the check above.
DO $schema_create_right$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
          FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
         WHERE n.oid = '@extschema@'::regnamespace AND a.privilege_type = 'CREATE'
           AND a.grantee <> n.nspowner AND a.grantor = n.nspowner
    LOOP
        EXECUTE format('REVOKE CREATE ON SCHEMA @extschema@ FROM %s CASCADE',
                       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
        RAISE WARNING 'multisample 1.2: % may no longer create objects in schema @extschema@',
            CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END
            USING HINT = 'Only the owner of the extension''s schema creates objects in it.';
    END LOOP;
END
$schema_create_right$;
