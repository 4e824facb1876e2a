-- expand_run_jobs: the probe jobs of a run (SPEC 4.2).

-- Runs a statement and shows how it failed: SQLSTATE, message, hint.
CREATE FUNCTION pg_temp.try(query text)
RETURNS TABLE (sqlstate text, message text, hint text) LANGUAGE plpgsql AS $$
DECLARE
    s text; m text; h text;
BEGIN
    EXECUTE query;
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN QUERY SELECT s, m, NULLIF(h, '');
END
$$;

-------------------------------------------------------------------------------
-- Order: models as given, then selected scenarios in selection order, then
-- sample_index 0 .. N-1.
-------------------------------------------------------------------------------
SELECT * FROM multisample.expand_run_jobs('{s-c,s-a,s-b}', '{m-2,m-1}', 2);
-- With a selection: def-1 at 50 % of a .. j selects {g,i,a,h,e} (SPEC 4.1).
SELECT model_id, string_agg(scenario_id || ':' || sample_index, ' ' ORDER BY ord) AS jobs_in_order
  FROM multisample.expand_run_jobs('{a,b,c,d,e,f,g,h,i,j}', '{gpt,claude}', 3, 50, NULL, 'def-1')
       WITH ORDINALITY AS j (scenario_id, model_id, sample_index, ord)
 GROUP BY model_id ORDER BY min(ord);
-- The same rows in the SELECT list (streamed by ProjectSet).
SELECT multisample.expand_run_jobs('{a,b,c,d,e,f,g,h,i,j}', '{m}', 1, 30, 7);
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 30, '', 7) AS selected_with_seed_7;

-- Every row of a larger expansion is where the order says: row k (1-based)
-- is model (k-1) / (S*N), scenario (k-1) / N mod S, sample (k-1) mod N.
WITH args AS (
    SELECT ARRAY(SELECT 'scn-' || g FROM generate_series(1, 40) AS g) AS scenarios,
           ARRAY(SELECT 'mdl-' || g FROM generate_series(1, 7) AS g) AS models,
           5 AS samples, 35 AS percentage, 123456789::bigint AS seed),
sel AS (
    SELECT multisample.select_scenarios(scenarios, percentage, '', seed) AS selected FROM args),
jobs AS (
    SELECT j.*
      FROM args, LATERAL multisample.expand_run_jobs(scenarios, models, samples, percentage, seed)
           WITH ORDINALITY AS j (scenario_id, model_id, sample_index, ord))
SELECT count(*) AS jobs,
       cardinality((SELECT selected FROM sel)) * 7 * 5 AS expected_jobs,
       count(*) FILTER (WHERE
           model_id <> (SELECT models[(ord - 1) / (14 * 5) + 1] FROM args)
           OR scenario_id <> (SELECT selected[((ord - 1) / 5) % 14 + 1] FROM sel)
           OR sample_index <> (ord - 1) % 5) AS misplaced
  FROM jobs;

-------------------------------------------------------------------------------
-- Job count = selected scenarios x models x samples.
-------------------------------------------------------------------------------
SELECT c.scenarios, c.models, c.samples, c.percentage,
       (SELECT count(*) FROM multisample.expand_run_jobs(
            ARRAY(SELECT 's' || g FROM generate_series(1, c.scenarios) AS g),
            ARRAY(SELECT 'm' || g FROM generate_series(1, c.models) AS g),
            c.samples, c.percentage, 99)) AS jobs,
       c.expected
  FROM (VALUES (1, 1, 1, 100, 1), (1, 1, 100, 1, 100), (3, 2, 5, 1, 10), (10, 3, 5, 30, 45),
               (10, 3, 5, 100, 150), (200, 4, 2, 1, 16), (57, 1, 100, 50, 2800))
       AS c (scenarios, models, samples, percentage, expected)
 ORDER BY 1, 2, 3, 4;

-- Selection does not depend on the number of samples.
SELECT n AS samples,
       (SELECT array_agg(scenario_id ORDER BY ord)
          FROM multisample.expand_run_jobs('{a,b,c,d,e,f,g,h,i,j}', '{m}', n, 50, NULL, 'def-1')
               WITH ORDINALITY AS j (scenario_id, model_id, sample_index, ord)
         WHERE sample_index = 0) AS scenario_order
  FROM (VALUES (1), (2), (7), (100)) AS s (n);

-- Non-ASCII ids come back unchanged.
SELECT * FROM multisample.expand_run_jobs(ARRAY[U&'sc\00E9nario', U&'\+01F600'], ARRAY[U&'mod\00E8le'], 1);

-- Long ids: up to 126 bytes they fit a 1-byte varlena header, from 127 on they
-- need 4 bytes; 3000 is past the 2 kB at which stored rows are toasted.
SELECT length(scenario_id) AS scenario_length, length(model_id) AS model_length, sample_index,
       scenario_id = repeat('s', n) AS scenario_intact, model_id = repeat('m', n) || n AS model_intact
  FROM (VALUES (125), (126), (127), (3000)) AS v (n),
       LATERAL multisample.expand_run_jobs(ARRAY[repeat('s', n)], ARRAY[repeat('m', n) || n], 2)
 ORDER BY n, sample_index;

-- Called again for each outer row (LATERAL): the state starts afresh.
SELECT r.n, j.*
  FROM (VALUES (1), (2), (3)) AS r (n),
       LATERAL multisample.expand_run_jobs(ARRAY['s' || r.n, 't' || r.n], '{m}', r.n) AS j
 ORDER BY r.n;
-- Stopped early by LIMIT, in both forms.
SELECT * FROM multisample.expand_run_jobs('{a,b,c}', '{m}', 100) LIMIT 2;
SELECT multisample.expand_run_jobs('{a,b,c}', '{m}', 100) LIMIT 2;

SELECT proname, provolatile, proparallel, proisstrict, prosecdef, proretset, prorows, prosupport
  FROM pg_proc WHERE oid = 'multisample.expand_run_jobs'::regproc;

-- The planner knows the job count when the arguments are known at plan
-- time; otherwise it assumes the declared 1000 rows.
CREATE FUNCTION pg_temp.estimated_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
CREATE TEMP TABLE id_lists AS SELECT '{a,b}'::text[] AS ids;
ANALYZE id_lists;
SELECT q.label, pg_temp.estimated_rows(q.query) AS estimated, q.actual
  FROM (VALUES
    ('3 x 2 x 4', $$SELECT * FROM multisample.expand_run_jobs('{a,b,c}', '{m1,m2}', 4)$$, 24),
    ('50 % of 10 x 3 x 5', $$SELECT * FROM multisample.expand_run_jobs('{a,b,c,d,e,f,g,h,i,j}', '{m1,m2,m3}', 5, 50, 1)$$, 75),
    ('1 % of 3 x 1 x 100', $$SELECT * FROM multisample.expand_run_jobs('{a,b,c}', '{m}', 100, 1, 1)$$, 100),
    ('NULL samples: the setting', $$SELECT * FROM multisample.expand_run_jobs('{a,b,c}', '{m1,m2}')$$, 6),
    ('SELECT list', $$SELECT multisample.expand_run_jobs('{a,b,c}', '{m1,m2}', 7)$$, 42),
    ('ids not known: the declared 1000', $$SELECT j.* FROM id_lists AS v, multisample.expand_run_jobs(v.ids, '{m}', 3) AS j$$, 6))
    AS q (label, query, actual);

-- Named arguments, as in the README: 40 % of 5 ids is 2, x 2 models x 5 samples.
SELECT count(*) AS jobs
  FROM multisample.expand_run_jobs('{a,b,c,d,e}', '{m1,m2}', samples_per_scenario => 5,
                                   sample_percentage => 40, definition_id => 'def-1');

-------------------------------------------------------------------------------
-- samples_per_scenario NULL means multisample.default_samples_per_scenario.
-------------------------------------------------------------------------------
SHOW multisample.default_samples_per_scenario;
SELECT count(*) AS jobs, max(sample_index) AS max_index
  FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}');
SET multisample.default_samples_per_scenario = 3;
SELECT count(*) AS jobs, max(sample_index) AS max_index
  FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}', NULL);
-- An explicit count wins over the setting.
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}', 1);
-- The setting is range-checked like the argument.
SELECT * FROM pg_temp.try($$SET multisample.default_samples_per_scenario = 0$$);
SELECT * FROM pg_temp.try($$SET multisample.default_samples_per_scenario = 101$$);
SHOW multisample.default_samples_per_scenario;
SET multisample.default_samples_per_scenario = 100;
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}');
RESET multisample.default_samples_per_scenario;
-- A setting local to a transaction.
BEGIN;
SET LOCAL multisample.default_samples_per_scenario = 5;
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a}', '{m}');
COMMIT;
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a}', '{m}');
-- Parallel workers run the function with the session's setting (3 samples
-- here): the function is below Gather and the leader does not take part
-- (unless no worker could start). A plain table, since temporary ones are
-- not scanned in parallel.
CREATE TABLE jobs_parallel_ids AS SELECT 'p' || g AS id FROM generate_series(1, 2000) AS g;
ANALYZE jobs_parallel_ids;
SET multisample.default_samples_per_scenario = 3;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM jobs_parallel_ids AS p, LATERAL multisample.expand_run_jobs(ARRAY[p.id], '{m1,m2}') AS j;
SELECT count(*) AS jobs, count(DISTINCT scenario_id) AS scenarios, max(sample_index) AS max_index
  FROM jobs_parallel_ids AS p, LATERAL multisample.expand_run_jobs(ARRAY[p.id], '{m1,m2}') AS j;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
RESET multisample.default_samples_per_scenario;
DROP TABLE jobs_parallel_ids;

-- A misspelt multisample.* setting: sql/guc_prefix.sql (it differs by major).
-- The per-role default of the product: ALTER ROLE ... SET, seen by a new
-- session. (Set for the current role in this database only, and reset.)
SELECT current_database() AS regress_db \gset
ALTER ROLE CURRENT_USER IN DATABASE :"regress_db" SET multisample.default_samples_per_scenario = 4;
\c
SHOW multisample.default_samples_per_scenario;
SELECT count(*) AS jobs, max(sample_index) AS max_index
  FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}');
-- A value out of range is refused here too.
ALTER ROLE CURRENT_USER IN DATABASE :"regress_db" SET multisample.default_samples_per_scenario = 0;
ALTER ROLE CURRENT_USER IN DATABASE :"regress_db" RESET multisample.default_samples_per_scenario;
\c
-- (The setting exists once the library is loaded, here by the first call.)
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}');
SHOW multisample.default_samples_per_scenario;

-- (A new session: the helper is created again.)
CREATE FUNCTION pg_temp.try(query text)
RETURNS TABLE (sqlstate text, message text, hint text) LANGUAGE plpgsql AS $$
DECLARE
    s text; m text; h text;
BEGIN
    EXECUTE query;
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN QUERY SELECT s, m, NULLIF(h, '');
END
$$;

-------------------------------------------------------------------------------
-- A degenerate seed warns once per call, not once per row.
-------------------------------------------------------------------------------
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a,b,c,d}', '{m1,m2}', 3, 50);
SELECT scenario_id, count(*) FROM multisample.expand_run_jobs('{a,b,c,d}', '{m1,m2}', 3, 50, 0)
 GROUP BY 1 ORDER BY 1;
-- No warning at 100 %: no shuffle is made.
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a,b,c,d}', '{m1,m2}', 3, 100, 0);

-------------------------------------------------------------------------------
-- Bad input: SQLSTATE, message naming the parameter and the range, hint.
-------------------------------------------------------------------------------
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 0)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 101)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', -1)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 2147483647)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, 0)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, 101)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, NULL)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, 50, -1)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, 50, 9223372036854775807)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, 50, NULL, NULL)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs(NULL, '{m}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', NULL)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{}', '{m}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m,NULL}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{NULL}', '{m}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m,""}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m1,m2,m1}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a,b,b}', '{m}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{{m1},{m2}}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{{{a}}}', '{m}')$$);
-- Bad input is refused in the SELECT-list form as well.
SELECT * FROM pg_temp.try($$SELECT multisample.expand_run_jobs('{a}', '{m}', 1, 50, -1)$$);
-- Every argument is checked, also when the failure is in the last one.
SELECT * FROM pg_temp.try($$SELECT * FROM multisample.expand_run_jobs('{a}', '{m}', 1, 100, NULL, NULL)$$);
