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
-------------------------------------------------------------------------------
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
    RETURN NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p
                        WHERE p.logicalrelid = '@extschema@.runs'::pg_catalog.regclass);
END
$$;
COMMENT ON FUNCTION @extschema@.applies_table_changes() IS
    'Whether this node changes the extension''s tables in an update script: true on a plain server, on a Citus coordinator and on a Citus worker whose tables are not distributed yet; false on a worker once they are (the coordinator''s DDL reaches them).';
