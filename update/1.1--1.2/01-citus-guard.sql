-------------------------------------------------------------------------------
-- Where table changes run. Citus runs an extension's update script on the
-- coordinator and again on every worker node; the coordinator's DDL already
-- reaches the workers' copies of the tables and every shard, so a worker
-- node must not change the tables again. Every DO block of this script that
-- changes a table or its rows starts with this test.
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
    RETURN coalesce(group_id, 0) = 0;
END
$$;
COMMENT ON FUNCTION @extschema@.applies_table_changes() IS
    'Whether this node changes the extension''s tables in an update script: true on a plain server and on a Citus coordinator, false on a Citus worker node (the coordinator''s DDL reaches it).';
