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

-- The statistics views read the scored-sample index of that run only, in
-- the order they group by (no sort of the run's samples).
CREATE FUNCTION pg_temp.plan_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        RETURN NEXT line;
    END LOOP;
END $$;
SELECT * FROM pg_temp.plan_lines($$SELECT * FROM multisample.scenario_variance WHERE run_id = 'pl-small'$$);
