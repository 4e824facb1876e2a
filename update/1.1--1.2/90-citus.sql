-------------------------------------------------------------------------------
-- Citus: distribute_on_citus() turns a database's extension tables into the
-- layout of SPEC section 9 in one call on the coordinator. Tables without a
-- run (definitions, scenarios, model_pricing, model_token_statistics)
-- become reference tables, copied to every node; runs is distributed by id
-- and every table with a run_id column by run_id, co-located with runs, so
-- all rows of one run live on one shard and every query filtered by a run
-- is routed to one node.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.distribute_on_citus()
RETURNS TABLE (table_name pg_catalog.regclass, layout text, distribution_column text, action text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- With foreign keys from local tables to a new reference table allowed,
-- Citus would turn every table linked to definitions by a foreign key into
-- a Citus local table, dropping and recreating the views over them (and
-- fail). Off: each table gets exactly the layout chosen here.
SET citus.enable_local_reference_table_foreign_keys = off
-- The trigger guarding job transitions must stay on probe_jobs; Citus
-- creates it on every shard, where it runs on the worker node.
SET citus.enable_unsafe_triggers = on
-- One connection per node for the whole call: later statements of the
-- same transaction (foreign keys to reference tables, the next table) may
-- then use the shards already touched.
SET citus.multi_shard_modify_mode = sequential
AS $function$
DECLARE
    ext_tables pg_catalog.oid[];
    scoped pg_catalog.oid[];
    pending pg_catalog.oid[];
    done pg_catalog.oid[] := '{}';
    runs_table pg_catalog.regclass := '@extschema@.runs'::pg_catalog.regclass;
    t pg_catalog.oid;
    next_table pg_catalog.oid;
    want_layout text;
    want_column text;
    cur record;
    runs_colocation integer;
    not_owned text;
    caller_messages text := pg_catalog.current_setting('client_min_messages');
    caller_role text := pg_catalog.current_setting('role');
    g record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'distribute_on_citus needs the citus extension in this database'
            USING ERRCODE = '55000',
                  HINT = 'Load Citus (shared_preload_libraries = ''citus''), CREATE EXTENSION citus on the coordinator and every worker, register the workers with citus_add_node, then call this on the coordinator.';
    END IF;
    IF NOT (SELECT pg_catalog.citus_is_coordinator()) THEN
        RAISE EXCEPTION 'distribute_on_citus must run on the Citus coordinator'
            USING ERRCODE = '55000',
                  HINT = 'Call it on the coordinator once the workers are registered (citus_add_node); a node without registered nodes is not a coordinator yet.';
    END IF;

    -- The extension's tables; a 1.2 table with a run_id column is run-scoped.
    SELECT pg_catalog.array_agg(c.oid ORDER BY c.relname) INTO ext_tables
      FROM pg_catalog.pg_depend AS d
      JOIN pg_catalog.pg_class AS c ON c.oid = d.objid AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      JOIN pg_catalog.pg_extension AS e ON e.oid = d.refobjid AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
     WHERE e.extname = 'multisample' AND d.deptype = 'e' AND c.relkind IN ('r', 'p');
    SELECT pg_catalog.array_agg(c.oid) INTO scoped
      FROM pg_catalog.pg_class AS c
     WHERE c.oid = ANY (ext_tables)
       AND (c.oid = runs_table
            OR EXISTS (SELECT FROM pg_catalog.pg_attribute AS a
                        WHERE a.attrelid = c.oid AND a.attname = 'run_id' AND a.attnum > 0 AND NOT a.attisdropped));

    SELECT pg_catalog.string_agg(c.oid::pg_catalog.regclass::text, ', ' ORDER BY c.relname) INTO not_owned
      FROM pg_catalog.pg_class AS c
     WHERE c.oid = ANY (ext_tables) AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE');
    IF not_owned IS NOT NULL THEN
        RAISE EXCEPTION 'distribute_on_citus must be run by the owner of the extension''s tables; % is not the owner of %',
            current_user, not_owned
            USING ERRCODE = '42501',
                  HINT = 'Run it as the superuser that installed the extension (the tables belong to it).';
    END IF;

    RAISE NOTICE 'multisample: distributing on Citus with citus.enable_local_reference_table_foreign_keys = off (no table becomes a Citus local table), citus.enable_unsafe_triggers = on (the triggers of probe_jobs run on its shards) and citus.multi_shard_modify_mode = sequential, for this call only';
    -- Citus reports every copy of a table's rows with a NOTICE and a HINT to
    -- truncate the originals, which this function does at the end.
    IF caller_messages IN ('debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'log', 'notice') THEN
        PERFORM pg_catalog.set_config('client_min_messages', 'warning', true);
    END IF;

    -- Reference tables first (the others' foreign keys point to them), then
    -- runs, then each table whose referenced tables are all done.
    pending := ext_tables;
    WHILE pg_catalog.cardinality(pending) > 0 LOOP
        SELECT u.t INTO next_table
          FROM pg_catalog.unnest(pending) AS u(t)
         WHERE NOT EXISTS (
                   SELECT FROM pg_catalog.pg_constraint AS k
                    WHERE k.conrelid = u.t AND k.contype = 'f' AND k.confrelid <> u.t
                      AND k.confrelid = ANY (ext_tables) AND NOT k.confrelid = ANY (done))
         ORDER BY u.t = ANY (scoped), u.t <> runs_table, u.t::pg_catalog.regclass::text
         LIMIT 1;
        IF next_table IS NULL THEN
            RAISE EXCEPTION 'distribute_on_citus: the foreign keys among % form a cycle', pending::pg_catalog.regclass[]
                USING ERRCODE = '55000';
        END IF;
        pending := pg_catalog.array_remove(pending, next_table);
        done := done || next_table;

        IF next_table = runs_table THEN
            want_layout := 'distributed'; want_column := 'id';
        ELSIF next_table = ANY (scoped) THEN
            want_layout := 'distributed'; want_column := 'run_id';
        ELSE
            want_layout := 'reference'; want_column := NULL;
        END IF;

        -- What the table is now: distributed (hash), reference, Citus local or
        -- not known to Citus.
        EXECUTE $q$
            SELECT CASE WHEN p.partmethod = 'h' THEN 'distributed'
                        WHEN p.partmethod = 'n' AND p.repmodel = 't' THEN 'reference'
                        ELSE 'local' END AS kind,
                   CASE WHEN p.partmethod = 'h' THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END AS col,
                   p.colocationid
              FROM pg_catalog.pg_dist_partition AS p
             WHERE p.logicalrelid = $1 $q$
          INTO cur USING next_table;
        IF cur.kind IS NULL OR cur.kind = 'local' THEN
            IF want_layout = 'reference' THEN
                PERFORM pg_catalog.create_reference_table(next_table);
            ELSIF next_table = runs_table THEN
                -- A co-location group of its own: the run-scoped tables
                -- join it, nothing else needs to.
                PERFORM pg_catalog.create_distributed_table(next_table, want_column, colocate_with => 'none');
            ELSE
                PERFORM pg_catalog.create_distributed_table(next_table, want_column,
                                                            colocate_with => runs_table::text);
            END IF;
            table_name := next_table; layout := want_layout; distribution_column := want_column;
            action := 'created';
            RETURN NEXT;
            CONTINUE;
        END IF;

        EXECUTE 'SELECT p.colocationid FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid = $1'
          INTO runs_colocation USING runs_table;
        IF cur.kind = want_layout AND cur.col IS NOT DISTINCT FROM want_column
           AND want_layout = 'distributed' AND cur.colocationid IS DISTINCT FROM runs_colocation THEN
            -- Only the co-location group is wrong: Citus moves the table
            -- into the runs' group in place (same shard count needed).
            PERFORM pg_catalog.update_distributed_table_colocation(next_table, colocate_with => runs_table::text);
            table_name := next_table; layout := want_layout; distribution_column := want_column;
            action := 'co-located';
            RETURN NEXT;
            CONTINUE;
        ELSIF cur.kind <> want_layout OR cur.col IS DISTINCT FROM want_column THEN
            -- undistribute_table and alter_distributed_table rebuild the
            -- table, which a table of an extension does not allow.
            RAISE EXCEPTION 'distribute_on_citus: % is already %, not % as multisample needs',
                next_table::pg_catalog.regclass,
                CASE WHEN cur.kind = 'reference' THEN 'a reference table'
                     ELSE pg_catalog.format('distributed by %s', cur.col) END,
                CASE WHEN want_layout = 'reference' THEN 'a reference table'
                     ELSE pg_catalog.format('distributed by %s', want_column) END
                USING ERRCODE = '55000',
                      HINT = 'Citus cannot change the layout of a table that belongs to an extension (undistribute_table and alter_distributed_table rebuild it). Load the data into a new database whose tables distribute_on_citus() laid out first.';
        END IF;
        table_name := next_table; layout := want_layout; distribution_column := want_column;
        action := 'unchanged';
        RETURN NEXT;
    END LOOP;

    -- The keys of the tables 1.2 added to a database distributed before
    -- (01-citus-guard.sql), now that they are co-located with runs.
    PERFORM @extschema@.add_missing_foreign_keys();
    -- On one node a trigger deletes a deleted selection's jobs (30-runs.sql);
    -- on a shard it could not reach them, so the distributed tables get the
    -- foreign key of 1.1 back in its place, checked shard by shard.
    IF EXISTS (SELECT FROM pg_catalog.pg_trigger AS tg
                WHERE tg.tgrelid = '@extschema@.run_scenario_selections'::pg_catalog.regclass
                  AND tg.tgname = 'run_scenario_selections_jobs') THEN
        DROP TRIGGER run_scenario_selections_jobs ON @extschema@.run_scenario_selections;
        ALTER TABLE @extschema@.probe_jobs ADD CONSTRAINT probe_jobs_selection_fkey
            FOREIGN KEY (run_id, scenario_id)
            REFERENCES @extschema@.run_scenario_selections (run_id, scenario_id) ON DELETE CASCADE;
    END IF;

    -- create_distributed_table copies the rows of a table into its shards
    -- and leaves the originals, unused, in the coordinator's table.
    FOREACH t IN ARRAY done LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(t);
    END LOOP;

    -- Rights granted before the tables were distributed reach the shards
    -- (Citus copies them) but not the workers' own copies of the tables,
    -- which the extension created there; yet a trigger that reads another
    -- table on a worker node (probe_jobs_guard reads runs) is checked
    -- against those. Granted again here, by the same grantor, each right
    -- reaches every node (Citus propagates GRANT; on the coordinator it
    -- changes nothing). The owner's grants go first: the others pass on
    -- rights received from it.
    FOR g IN
        SELECT x.rel, x.grantor, x.grantee, x.grantable,
               pg_catalog.string_agg(x.privs, ', ' ORDER BY x.privs) AS privs
          FROM (SELECT a.rel, a.owner, a.grantor, a.grantee, a.grantable,
                       a.privilege_type
                       || coalesce(' (' || pg_catalog.string_agg(pg_catalog.quote_ident(a.col), ', ' ORDER BY a.col) || ')', '')
                       AS privs
                  FROM (SELECT c.oid AS rel, c.relowner AS owner, e.grantor, e.grantee, e.is_grantable AS grantable,
                               e.privilege_type, NULL::pg_catalog.name AS col
                          FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS e
                         WHERE c.oid = ANY (done) AND e.grantee <> c.relowner
                        UNION ALL
                        SELECT c.oid, c.relowner, e.grantor, e.grantee, e.is_grantable, e.privilege_type, att.attname
                          FROM pg_catalog.pg_class AS c
                          JOIN pg_catalog.pg_attribute AS att ON att.attrelid = c.oid
                         CROSS JOIN pg_catalog.aclexplode(att.attacl) AS e
                         WHERE c.oid = ANY (done) AND att.attnum > 0 AND NOT att.attisdropped
                           AND e.grantee <> c.relowner) AS a
                 GROUP BY a.rel, a.owner, a.grantor, a.grantee, a.grantable, a.privilege_type, a.col IS NULL) AS x
         GROUP BY x.rel, x.owner, x.grantor, x.grantee, x.grantable
         ORDER BY x.rel::pg_catalog.regclass::text, x.grantor <> x.owner, x.grantor, x.grantee, x.grantable
    LOOP
        IF g.grantor <> (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = g.rel) THEN
            PERFORM pg_catalog.set_config('role', g.grantor::pg_catalog.regrole::text, true);
        END IF;
        EXECUTE pg_catalog.format('GRANT %s ON %s TO %s%s', g.privs, g.rel::pg_catalog.regclass,
                                  CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::pg_catalog.regrole::text END,
                                  CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        PERFORM pg_catalog.set_config('role', caller_role, true);
    END LOOP;
    PERFORM pg_catalog.set_config('client_min_messages', caller_messages, true);
END
$function$;
COMMENT ON FUNCTION @extschema@.distribute_on_citus() IS
    'On a Citus coordinator: makes definitions, scenarios, model_pricing and model_token_statistics reference tables and distributes runs by id and every run-scoped table by run_id, co-located with runs (rows already present move to the shards). Idempotent: returns each table with its layout and what was done (created, co-located, unchanged). Run by the owner of the tables; needs Citus.';
