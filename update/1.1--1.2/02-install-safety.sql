-------------------------------------------------------------------------------
-- Safe for a trusted install (SPEC 12.1).
--
-- With trusted = true a database owner without superuser may run CREATE
-- EXTENSION and ALTER EXTENSION UPDATE; the scripts then run as the bootstrap
-- superuser. Whatever that installer did beforehand must not run with the
-- superuser's rights now, nor later in anybody else's session:
--
-- * A renamed schema stops the update (the older functions name it).
-- * Everything below resolves names in pg_catalog only (SET LOCAL: it lasts
--   until the end of the script and is undone then, so that the caller's
--   session keeps its own search_path): an operator or function the
--   installer planted in the extension's schema can never be picked by an
--   unqualified name.
-- * A trigger fires with the rights of whoever writes its table. 1.1 gave the
--   installer the TRIGGER right on our tables, so it may have added triggers
--   whose function it owns; this script writes those tables as superuser.
--   Such triggers are dropped before anything else happens (dropping runs no
--   code), each named in a WARNING. Triggers whose function a superuser owns
--   (the extension's own, or a DBA's) stay.
-- * CREATE EXTENSION made the installer the owner of the schema, which let it
--   rename the schema or add objects to it that our code would then find by
--   name. The schema now belongs to the superuser that owns the extension's
--   objects; 99-ownership.sql refuses to finish while the schema holds
--   objects of other roles, and takes the TRIGGER right back.
-------------------------------------------------------------------------------

SET LOCAL search_path = pg_catalog, pg_temp;

-- The functions of 1.0 and 1.1 name the schema in their bodies
-- (multisample.runs ...). Had its owner (the installer, under 1.1) renamed
-- it, those names would reach whatever now carries the name multisample,
-- possibly a schema of the installer's; so the update stops first.
DO $schema_name$
BEGIN
    IF (SELECT n.nspname FROM pg_catalog.pg_namespace AS n
         WHERE n.oid = '@extschema@'::pg_catalog.regnamespace) OPERATOR(pg_catalog.<>) 'multisample' THEN
        RAISE EXCEPTION 'the schema of extension multisample was renamed to %; its functions still name schema multisample',
            '@extschema@'::pg_catalog.regnamespace
            USING ERRCODE = '42501',
                  HINT = 'Rename it back (ALTER SCHEMA ... RENAME TO multisample), after dropping or renaming any other schema called multisample, and run the command again.';
    END IF;
END
$schema_name$;

DO $drop_foreign_triggers$
DECLARE
    t record;
    unsafe_triggers text := pg_catalog.current_setting('citus.enable_unsafe_triggers', true);
    ddl_propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
    -- On a Citus worker whose tables are distributed, the triggers found are
    -- copies of the coordinator's, which warned about them.
    copies boolean := NOT @extschema@.applies_table_changes();
BEGIN
    -- Citus: every node drops the triggers of its own relations (its
    -- tables and, on a worker, their shards, which are in this schema too),
    -- as it runs this script. A drop that Citus propagated from the
    -- coordinator would fail on a worker whose copy of the table lacks the
    -- trigger (a trigger made before the table was distributed reached the
    -- shards only).
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
    END IF;
    FOR t IN
        SELECT tg.tgname, tg.tgrelid::pg_catalog.regclass AS rel, tg.tgfoid::pg_catalog.regprocedure AS fn,
               owner.rolname AS fn_owner
          FROM pg_catalog.pg_trigger AS tg
          JOIN pg_catalog.pg_class AS c ON c.oid = tg.tgrelid
          JOIN pg_catalog.pg_proc AS p ON p.oid = tg.tgfoid
          JOIN pg_catalog.pg_roles AS owner ON owner.oid = p.proowner
         WHERE c.relnamespace = '@extschema@'::pg_catalog.regnamespace
           AND NOT tg.tgisinternal
           AND NOT owner.rolsuper
         ORDER BY 2, 1
    LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        CONTINUE WHEN copies;
        RAISE WARNING 'multisample 1.2: dropped trigger % on %: its function % belongs to role %, not a superuser, and would run with the rights of every role that writes the table',
            pg_catalog.quote_ident(t.tgname), t.rel, t.fn, pg_catalog.quote_ident(t.fn_owner)
            USING HINT = 'From 1.2 on only the owner of the extension''s tables may add triggers to them.';
    END LOOP;
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', ddl_propagation, true);
    END IF;
END
$drop_foreign_triggers$;

DO $own_schema$
BEGIN
    IF NOT (SELECT r.rolsuper
              FROM pg_catalog.pg_namespace AS n
              JOIN pg_catalog.pg_roles AS r ON r.oid = n.nspowner
             WHERE n.oid = '@extschema@'::pg_catalog.regnamespace) THEN
        ALTER SCHEMA @extschema@ OWNER TO CURRENT_USER;
    END IF;
END
$own_schema$;
