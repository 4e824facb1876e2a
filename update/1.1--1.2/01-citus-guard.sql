-------------------------------------------------------------------------------
-- Where table changes run. Citus runs an extension's update script on the
-- coordinator and again on every worker node. Once the tables are Citus
-- tables (distribute_on_citus), the coordinator's DDL already reaches the
-- workers' copies of the tables and every shard, so a worker node must not
-- change them again. Before that (a CREATE EXTENSION that Citus propagated
-- to the workers runs every script there on plain tables) each node changes
-- its own tables. Every DO block of this script that changes a table or its
-- rows starts with this test. A new table is created on every node, outside
-- such a block: Citus does not create tables added to an extension on the
-- workers, and distribute_on_citus() needs them there.
--
-- tables_distributed() says whether the tables are Citus tables on this
-- node; applies_table_changes() is the test itself.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.tables_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p
                    WHERE p.logicalrelid = '@extschema@.runs'::pg_catalog.regclass);
END
$$;
COMMENT ON FUNCTION @extschema@.tables_distributed() IS
    'Whether the extension''s tables are Citus tables on this node (runs is): false without Citus and before distribute_on_citus().';

CREATE FUNCTION @extschema@.applies_table_changes()
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    group_id integer;
BEGIN
    -- Without Citus, or on a Citus node that is not a worker (group 0 is the
    -- coordinator's, also before any node was added), table changes run here.
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_local_group') IS NULL THEN
        RETURN true;
    END IF;
    EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO group_id;
    IF coalesce(group_id, 0) = 0 THEN
        RETURN true;
    END IF;
    -- A worker: the coordinator's DDL reaches its copies only once the
    -- tables are Citus tables; a CREATE EXTENSION that Citus propagated
    -- left plain tables here, which this script must change itself.
    RETURN NOT @extschema@.tables_distributed();
END
$$;
COMMENT ON FUNCTION @extschema@.applies_table_changes() IS
    'Whether this node changes the extension''s tables in an update script: true on a plain server, on a Citus coordinator and on a Citus worker whose tables are not distributed yet; false on a worker once they are (the coordinator''s DDL reaches them).';

-------------------------------------------------------------------------------
-- The foreign keys of the tables that 1.2 adds (run_pair_plans,
-- run_sample_requests). These tables are created on every node, outside
-- the test above: Citus does not create tables added to an extension on the
-- workers, and distribute_on_citus() needs them there. Their keys are made
-- with them, except in a database whose tables are distributed already:
-- there Citus refuses a key from a table it does not know to a distributed
-- one, and distribute_on_citus() adds the keys once the new tables are
-- co-located with runs.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.add_missing_foreign_keys()
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT v.tbl, v.name, v.definition
          FROM (VALUES
                ('run_pair_plans', 'run_pair_plans_selection_fkey',
                 'FOREIGN KEY (run_id, scenario_id) REFERENCES @extschema@.run_scenario_selections (run_id, scenario_id) ON DELETE CASCADE'),
                ('run_sample_requests', 'run_sample_requests_run_id_fkey',
                 'FOREIGN KEY (run_id) REFERENCES @extschema@.runs (id) ON DELETE CASCADE'))
               AS v (tbl, name, definition)
         WHERE pg_catalog.to_regclass('@extschema@.' || v.tbl) IS NOT NULL
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS c
                            WHERE c.conrelid = ('@extschema@.' || v.tbl)::pg_catalog.regclass
                              AND c.conname = v.name)
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                                  '@extschema@.' || pg_catalog.quote_ident(k.tbl), k.name, k.definition);
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.add_missing_foreign_keys() IS
    'Adds the foreign keys of run_pair_plans and run_sample_requests where missing: made with the tables, except in a database distributed on Citus before 1.2, where distribute_on_citus() adds them. Run by the owner of the tables.';
