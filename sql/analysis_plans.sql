-- Every analysis view filtered by run_id reads only that run's rows through
-- an index: no sequential scan of a run-scoped table. The data make the
-- choice plain for the planner: a run of 20 000 samples, 2 000 runs, and a
-- small run that is the one queried.

INSERT INTO multisample.definitions (id, name) VALUES ('pl-def', 'Plans definition');
INSERT INTO multisample.scenarios (id, definition_id, name)
SELECT 'pl-s' || i, 'pl-def', 'scenario ' || i FROM generate_series(1, 20) AS i;
INSERT INTO multisample.runs (id, definition_id, config)
SELECT 'pl-run-' || i, 'pl-def', '{"samplesPerScenario": 100}' FROM generate_series(1, 2000) AS i;
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('pl-small', 'pl-def', '{"samplesPerScenario": 2}');
INSERT INTO multisample.run_scenario_selections
SELECT 'pl-run-1', 'pl-s' || i FROM generate_series(1, 20) AS i;
INSERT INTO multisample.run_scenario_selections VALUES ('pl-small', 'pl-s1'), ('pl-small', 'pl-s2');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, content)
SELECT 'pl-run-1', 'pl-s' || s, 'model-' || m, i, 1 + (s * 7 + m * 3 + i) % 5, '{"turns": [{"role": "assistant", "content": "x"}]}'
  FROM generate_series(1, 20) AS s, generate_series(1, 10) AS m, generate_series(0, 99) AS i;
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, content)
SELECT 'pl-small', 'pl-s' || s, 'model-' || m, i, 1 + (s + m + i) % 5, '{"turns": [{"role": "assistant", "content": "y"}]}'
  FROM generate_series(1, 2) AS s, generate_series(1, 2) AS m, generate_series(0, 1) AS i;
ANALYZE multisample.runs, multisample.run_scenario_selections, multisample.transcripts, multisample.scenarios;

-- The scan nodes of a query's plan on run-scoped tables, and whether their
-- index condition restricts them to a run.
CREATE FUNCTION pg_temp.run_scans(query text)
RETURNS TABLE (relation text, scan text, by_run_id boolean) LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || query INTO plan;
    RETURN QUERY
    WITH RECURSIVE nodes (n) AS (
        SELECT plan -> 0 -> 'Plan'
        UNION ALL
        SELECT c FROM nodes, json_array_elements(nodes.n -> 'Plans') AS c
    )
    SELECT DISTINCT coalesce(n ->> 'Relation Name', (SELECT indrelid::regclass::text FROM pg_index
                                                       WHERE indexrelid = ('multisample.' || (n ->> 'Index Name'))::regclass)),
           n ->> 'Node Type',
           coalesce(n ->> 'Index Cond', '') LIKE '%run_id = %' OR coalesce(n ->> 'Index Cond', '') LIKE '%id = %'
      FROM nodes
     WHERE n ->> 'Node Type' LIKE '%Scan'
       AND coalesce(n ->> 'Relation Name', (SELECT indrelid::regclass::text FROM pg_index
                                              WHERE indexrelid = ('multisample.' || (n ->> 'Index Name'))::regclass))
           IN ('transcripts', 'runs', 'run_scenario_selections', 'probe_results')
     ORDER BY 1, 2;
END $$;

SELECT v AS view, s.*
  FROM unnest(ARRAY['scenario_variance', 'scenario_variance_overall', 'model_variance', 'run_analysis_settings',
                    'transcript_samples', 'transcript_turns', 'transcript_export']) AS v,
       LATERAL pg_temp.run_scans(format('SELECT * FROM multisample.%I WHERE run_id = %L', v, 'pl-small')) AS s
 ORDER BY 1, 2, 3;

-- The statistics views read the scored-sample index of that run once, in
-- the order they group by: one scan of transcripts, by that index and the
-- run's id, under a sorted (not hashed) aggregate with no Sort between the
-- two, so the run's samples are read in one pass and never sorted. This is
-- the property, not the printed plan: how a plan is printed changes between
-- majors (from 16 the planner drops the grouping key that run_id = constant
-- makes redundant; 18 prints each window's definition), and the test must
-- read the same on 13 to 18.
CREATE FUNCTION pg_temp.sample_reads(query text)
RETURNS TABLE (transcript_scans bigint, index_name text, by_run_id boolean,
               aggregate text, sorts_below_aggregate bigint) LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || query INTO plan;
    RETURN QUERY
    -- Every node, with the nodes above it as "type:strategy" (nearest last).
    WITH RECURSIVE nodes (n, above) AS (
        SELECT plan -> 0 -> 'Plan', ARRAY[]::text[]
        UNION ALL
        SELECT c, nodes.above || ((nodes.n ->> 'Node Type') || ':' || coalesce(nodes.n ->> 'Strategy', ''))
          FROM nodes, json_array_elements(nodes.n -> 'Plans') AS c
    ),
    -- The scans of transcripts, each with the position of the nearest aggregate above it.
    scans AS (
        SELECT n, above,
               (SELECT max(u.i) FROM unnest(above) WITH ORDINALITY AS u(node, i) WHERE u.node LIKE 'Aggregate:%') AS agg_at
          FROM nodes
         WHERE n ->> 'Node Type' LIKE '%Scan'
           AND (n ->> 'Relation Name' = 'transcripts' OR n ->> 'Index Name' LIKE 'transcripts%')
    )
    SELECT count(*),
           string_agg(DISTINCT n ->> 'Index Name', ', '),
           bool_and(coalesce(n ->> 'Index Cond', '') LIKE '%run_id = %'),
           string_agg(DISTINCT above[agg_at], ', '),
           sum((SELECT count(*) FROM unnest(above[agg_at + 1:]) AS b(node) WHERE b.node LIKE '%Sort:%'))::bigint
      FROM scans;
END $$;
SELECT v AS view, r.*
  FROM unnest(ARRAY['scenario_variance', 'model_variance', 'scenario_variance_overall']) AS v,
       LATERAL pg_temp.sample_reads(format('SELECT * FROM multisample.%I WHERE run_id = %L', v, 'pl-small')) AS r
 ORDER BY 1;
-- The check sees what it looks for: grouped by sample index (the order of
-- no index) the samples are sorted first, or hashed when sorting is off.
SET enable_hashagg = off;
SELECT * FROM pg_temp.sample_reads($$SELECT sample_index, multisample.variance_stats(score) FROM multisample.transcripts
                                     WHERE run_id = 'pl-small' AND deleted_at IS NULL AND score IS NOT NULL GROUP BY sample_index$$);
RESET enable_hashagg;
SET enable_sort = off;
SELECT * FROM pg_temp.sample_reads($$SELECT sample_index, multisample.variance_stats(score) FROM multisample.transcripts
                                     WHERE run_id = 'pl-small' AND deleted_at IS NULL AND score IS NOT NULL GROUP BY sample_index$$);
RESET enable_sort;
