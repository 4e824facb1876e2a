-- Runs: preview_run and start_run (selection, jobs, config, cost estimate,
-- bad input). Ids here start with "runs-"; nothing depends on other tests.

-- Shows an error as SQLSTATE: message (HINT), and proves the failed call
-- left nothing behind by returning the counts of runs and jobs with it.
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg || CASE WHEN hint <> '' THEN ' (HINT: ' || hint || ')' ELSE '' END;
END
$$;

INSERT INTO multisample.definitions (id, name) VALUES
    ('runs-def', 'ten scenarios'), ('runs-empty', 'only deleted scenarios');
-- Ten live scenarios, inserted out of order; runs-s03 and runs-s02 share a
-- created_at, so id breaks the tie. One deleted scenario is never selected.
INSERT INTO multisample.scenarios (id, definition_id, name, created_at, deleted_at) VALUES
    ('runs-s05', 'runs-def', 'five',  '2024-01-05', NULL),
    ('runs-s03', 'runs-def', 'three', '2024-01-02', NULL),
    ('runs-s02', 'runs-def', 'two',   '2024-01-02', NULL),
    ('runs-s01', 'runs-def', 'one',   '2024-01-01', NULL),
    ('runs-s04', 'runs-def', 'four',  '2024-01-04', NULL),
    ('runs-s06', 'runs-def', 'six',   '2024-01-06', NULL),
    ('runs-s07', 'runs-def', 'seven', '2024-01-07', NULL),
    ('runs-s08', 'runs-def', 'eight', '2024-01-08', NULL),
    ('runs-s09', 'runs-def', 'nine',  '2024-01-09', NULL),
    ('runs-s10', 'runs-def', 'ten',   '2024-01-10', NULL),
    ('runs-gone', 'runs-def', 'deleted', '2023-12-31', '2024-02-01'),
    ('runs-e1', 'runs-empty', 'deleted', '2024-01-01', '2024-02-01');

-- Preview writes nothing; at 100 % every live scenario, by created_at, id.
SELECT scenario_count, samples, job_count, scenario_ids
  FROM multisample.preview_run('runs-def', ARRAY['runs-m1', 'runs-m2'], 5);
SELECT count(*) AS runs_after_preview FROM multisample.runs WHERE id LIKE 'runs-%';

-- 10 scenarios x 2 models x 5 samples = 100 jobs, all queued.
SELECT run_id, scenario_count, samples, job_count
  FROM multisample.start_run('runs-def', ARRAY['runs-m1', 'runs-m2'], 5, id => 'runs-100');
SELECT run_id, status, total, completed, failed, running, queued, percent, bar
  FROM multisample.run_progress WHERE run_id = 'runs-100';
SELECT model_id, total, queued, samples FROM multisample.run_model_progress
 WHERE run_id = 'runs-100' ORDER BY model_id;
SELECT count(*) AS selections FROM multisample.run_scenario_selections WHERE run_id = 'runs-100';
SELECT state, priority, attempts, max_attempts, count(*) FROM multisample.probe_jobs
 WHERE run_id = 'runs-100' GROUP BY 1, 2, 3, 4;
-- The config keeps the upstream keys; no seed was given, so sampleSeed is absent.
SELECT jsonb_pretty(config - 'estimatedCosts') AS config, config ? 'estimatedCosts' AS has_estimate,
       created_by = current_user AS created_by_caller
  FROM multisample.runs WHERE id = 'runs-100';

-- 3 samples: exactly 3 jobs per scenario-model pair, sample indexes 0, 1, 2.
SELECT job_count FROM multisample.start_run('runs-def', ARRAY['runs-a', 'runs-b'], 3,
                                            sample_percentage => 20, sample_seed => 7, id => 'runs-3');
SELECT scenario_id, model_id, array_agg(sample_index ORDER BY sample_index) AS samples
  FROM multisample.probe_jobs WHERE run_id = 'runs-3'
 GROUP BY scenario_id, model_id ORDER BY model_id, scenario_id;
SELECT config -> 'sampleSeed' AS sample_seed, config -> 'samplePercentage' AS sample_percentage
  FROM multisample.runs WHERE id = 'runs-3';
-- Hand-out order is sample-major: every pair's sample 0, then every pair's sample 1 ...
SELECT scenario_id, model_id, sample_index
  FROM multisample.probe_jobs WHERE run_id = 'runs-3' ORDER BY queue_order;

-- The selection does not depend on the number of samples: the same
-- definition, percentage and seed at 5 and at 10 samples select the same
-- scenarios (and 50 % of 10 is 5 of them).
SELECT scenario_count, job_count FROM multisample.start_run('runs-def', ARRAY['runs-m1'], 5, 50, 42, id => 'runs-sel-5');
SELECT job_count FROM multisample.start_run('runs-def', ARRAY['runs-m1'], 10, 50, 42, id => 'runs-sel-10');
SELECT (SELECT array_agg(scenario_id ORDER BY scenario_id) FROM multisample.run_scenario_selections WHERE run_id = 'runs-sel-5')
     = (SELECT array_agg(scenario_id ORDER BY scenario_id) FROM multisample.run_scenario_selections WHERE run_id = 'runs-sel-10')
       AS same_selection,
       (SELECT scenario_ids FROM multisample.preview_run('runs-def', ARRAY['runs-m1'], 5, 50, 42))
     = (SELECT scenario_ids FROM multisample.preview_run('runs-def', ARRAY['runs-m1'], 10, 50, 42))
       AS same_preview_order,
       (SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'runs-sel-10') AS jobs_at_10;

-- NULL samples_per_scenario means the setting (the "user default").
SET multisample.default_samples_per_scenario = 4;
SELECT samples, job_count FROM multisample.start_run('runs-def', ARRAY['runs-m1'], sample_percentage => 20, id => 'runs-guc');
SELECT config -> 'samplesPerScenario' AS samples_per_scenario FROM multisample.runs WHERE id = 'runs-guc';
RESET multisample.default_samples_per_scenario;

-- Priority, attempts, score scale and success threshold go into the jobs
-- and the config; created_by is the calling role (passing it is allowed only
-- when it names that role).
SELECT job_count FROM multisample.start_run('runs-def', ARRAY['runs-m1'], 1, 10, priority => 'high',
                                            max_attempts => 5, score_scale => '{"min": 0, "max": 10}',
                                            created_by => current_user, id => 'runs-opts',
                                            success_threshold => 7.5);
SELECT config -> 'priority' AS priority, config -> 'maxAttempts' AS max_attempts,
       config -> 'scoreScale' AS score_scale, config -> 'successThreshold' AS success_threshold,
       created_by = current_user AS created_by_caller, status
  FROM multisample.runs WHERE id = 'runs-opts';
SELECT DISTINCT priority, max_attempts FROM multisample.probe_jobs WHERE run_id = 'runs-opts';

-- A generated id when none is given.
SELECT length(run_id) = 36 AS uuid_run_id, job_count
  FROM multisample.start_run('runs-def', ARRAY['runs-m9'], 1, 10);

-------------------------------------------------------------------------------
-- Cost estimate. Done in a transaction on a clean slate of statistics and
-- rolled back, so no other test's rows can change the averages.
-------------------------------------------------------------------------------
BEGIN;
DELETE FROM multisample.model_token_statistics;
INSERT INTO multisample.model_token_statistics (model_id, definition_id, avg_input_tokens, avg_output_tokens, probe_count) VALUES
    -- runs-est-def: its definition-specific row (10 probes) wins over its global row
    ('runs-est-def',  'runs-def', 200, 800, 10),
    ('runs-est-def',  '',         100, 500, 50),
    -- runs-est-zero: the definition row has no probes, so its global row is used
    ('runs-est-zero', 'runs-def', 999, 999, 0),
    ('runs-est-zero', '',         300, 700, 20),
    -- runs-est-gzero: its only row, global, rests on no probes: skipped, both
    -- for the model and in the all-model average
    ('runs-est-gzero', '',        5000, 5000, 0);
-- runs-est-none, runs-est-gzero and runs-est-unpriced have no usable row:
-- the average of the global rows with probes, (100 + 300) / 2 = 200 in and
-- (500 + 700) / 2 = 600 out (with the zero-count row it would be 1800 in and 2066.67 out).
INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million, display_name) VALUES
    ('runs-est-def', 2, 10, 'Estimate (definition)'), ('runs-est-zero', 1, 5, NULL), ('runs-est-none', 3, 15, NULL),
    ('runs-est-gzero', 1, 1, NULL);
-- 10 scenarios x 5 samples = 50 probes per model:
--   est-def   50 * (200 * 2 + 800 * 10) / 1e6 = 0.42
--   est-zero  50 * (300 * 1 + 700 * 5)  / 1e6 = 0.19
--   est-none  50 * (200 * 3 + 600 * 15) / 1e6 = 0.48
--   unpriced  reported, cost null; total = 1.09
-- (scenarioCount 10 and samplesPerScenario 5: the estimate is told the
-- scenarios and the samples apiece, not only the probes.)
SELECT p.estimated_cost, p.unpriced_models, p.estimate -> 'probesPerModel' AS probes_per_model,
       p.estimate -> 'scenarioCount' AS scenario_count, p.estimate -> 'samplesPerScenario' AS samples_per_scenario
  FROM multisample.preview_run('runs-def', ARRAY['runs-est-def', 'runs-est-zero', 'runs-est-none', 'runs-est-unpriced'], 5) AS p;
SELECT m.*
  FROM multisample.preview_run('runs-def', ARRAY['runs-est-def', 'runs-est-zero', 'runs-est-none', 'runs-est-unpriced'], 5) AS p,
       jsonb_to_recordset(p.estimate -> 'perModel') AS m("modelId" text, "tokenSource" text, "inputTokensPerProbe" numeric,
                                                          "outputTokensPerProbe" numeric, priced boolean, cost numeric);
-- Linear in the number of samples: 1, 5 and 10 samples.
SELECT s AS samples, (SELECT estimated_cost FROM multisample.preview_run('runs-def',
                        ARRAY['runs-est-def', 'runs-est-zero', 'runs-est-none', 'runs-est-unpriced'], s)) AS estimated_cost
  FROM unnest(ARRAY[1, 5, 10]) AS s;
-- The reference platform's names, from estimate_run_cost itself: 10
-- scenarios x 5 samples = 50 probes per model.
--   est-def    definition row, sampleCount 10, displayName as set:
--              inputTokens 50 * 200 = 10000, outputTokens 50 * 800 = 40000,
--              inputCost 10000 * 2 / 1e6 = 0.02, outputCost 40000 * 10 / 1e6 = 0.4
--   est-gzero  all-models 200 / 600 (its zero-count row skipped), sampleCount 0,
--              fallback: 10000 * 1 / 1e6 = 0.01, 30000 * 1 / 1e6 = 0.03
--   unpriced   all-models, fallback, costs null, displayName = model id
-- total 0.46; basedOnSampleCount = min(10, 0, 0) = 0; isUsingFallback.
SELECT e -> 'total' AS total, e -> 'scenarioCount' AS scenario_count, e -> 'samplesPerScenario' AS samples,
       e -> 'probesPerModel' AS probes, e -> 'basedOnSampleCount' AS based_on, e -> 'isUsingFallback' AS fallback,
       e ->> 'fallbackReason' AS fallback_reason, e -> 'unpricedModels' AS unpriced
  FROM multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def', 'runs-est-gzero', 'runs-est-unpriced'], 10, 5) AS e;
SELECT m.*
  FROM multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def', 'runs-est-gzero', 'runs-est-unpriced'], 10, 5) AS e,
       jsonb_to_recordset(e -> 'perModel') AS m("modelId" text, "displayName" text, "scenarioCount" int,
                                                "samplesPerScenario" int, "sampleCount" int, "isUsingFallback" boolean,
                                                "avgInputPerProbe" numeric, "avgOutputPerProbe" numeric,
                                                "inputTokens" numeric, "outputTokens" numeric,
                                                "inputCost" numeric, "outputCost" numeric, "totalCost" numeric);
-- Every model on its own statistics: basedOnSampleCount is the smallest
-- count, min(10, 20) = 10; no fallback, no reason.
SELECT e -> 'basedOnSampleCount' AS based_on, e -> 'isUsingFallback' AS fallback,
       e -> 'fallbackReason' AS fallback_reason, e -> 'total' AS total
  FROM multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def', 'runs-est-zero'], 10, 5) AS e;
-- Three arguments (the 1.1 call): one sample per scenario, so the third
-- argument counts probes: 50 probes of est-def cost 0.42 as before.
SELECT e -> 'total' AS total, e -> 'probesPerModel' AS probes
  FROM multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def'], 50) AS e;
-- Bad arguments: 22023.
SELECT pg_temp.err($$SELECT multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def'], -1, 5)$$);
SELECT pg_temp.err($$SELECT multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def'], 10, 0)$$);
SELECT pg_temp.err($$SELECT multisample.estimate_run_cost('runs-def', ARRAY['runs-est-def', NULL], 10, 5)$$);
SELECT pg_temp.err($$SELECT multisample.estimate_run_cost(NULL, ARRAY['runs-est-def'], 10, 5)$$);
-- The last level: no global rows at all gives 100 input and 900 output tokens
--   est-none  50 * (100 * 3 + 900 * 15) / 1e6 = 0.69; est-zero 50 * (100 + 4500) / 1e6 = 0.23
DELETE FROM multisample.model_token_statistics WHERE definition_id = '';
SELECT m."modelId", m."tokenSource", m."inputTokensPerProbe", m."outputTokensPerProbe", m.cost
  FROM multisample.preview_run('runs-def', ARRAY['runs-est-def', 'runs-est-zero', 'runs-est-none'], 5) AS p,
       jsonb_to_recordset(p.estimate -> 'perModel') AS m("modelId" text, "tokenSource" text, "inputTokensPerProbe" numeric,
                                                          "outputTokensPerProbe" numeric, cost numeric);
-- start_run stores the same estimate in the config.
--   est-def 0.42 + est-none 0.69 = 1.11
SELECT estimated_cost FROM multisample.start_run('runs-def', ARRAY['runs-est-def', 'runs-est-none'], 5, id => 'runs-est');
SELECT config -> 'estimatedCosts' -> 'total' AS config_total,
       config -> 'estimatedCosts' -> 'unpricedModels' AS config_unpriced
  FROM multisample.runs WHERE id = 'runs-est';
ROLLBACK;

-------------------------------------------------------------------------------
-- Bad input: SQLSTATE, message and hint; nothing is left behind.
-------------------------------------------------------------------------------
CREATE TEMP TABLE before_errors AS
SELECT (SELECT count(*) FROM multisample.runs) AS runs,
       (SELECT count(*) FROM multisample.run_scenario_selections) AS selections,
       (SELECT count(*) FROM multisample.probe_jobs) AS jobs;

SELECT pg_temp.err($$SELECT multisample.start_run('runs-nope', ARRAY['m'])$$);
SELECT pg_temp.err($$SELECT multisample.preview_run('runs-nope', ARRAY['m'])$$);
SELECT pg_temp.err($$SELECT multisample.start_run(NULL, ARRAY['m'])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-empty', ARRAY['m'])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', NULL)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY[]::text[])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1', NULL])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1', ' '])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1', 'm2', 'm1'])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY[['m1'], ['m2']])$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], 0)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], 101)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], 1, 0)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], 1, 101)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], 1, NULL)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], 1, 50, -1)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], priority => 'URGENT')$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], priority => NULL)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], max_attempts => 0)$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], score_scale => '{"min": 5, "max": 1}')$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], score_scale => '[1, 5]')$$);
-- The scale must be finite within the score bound (|x| <= 1e15).
SELECT left(pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], score_scale => '{"min": 1, "max": 1e400}')$$), 100) AS err;
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], score_scale => '{"min": -1.000001e15, "max": 0}')$$);
-- The boundary itself is allowed (checked in a transaction rolled back).
BEGIN;
SELECT job_count FROM multisample.start_run('runs-def', ARRAY['m1'], score_scale => '{"min": -1e15, "max": 1e15}');
ROLLBACK;
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], success_threshold => 'NaN')$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], success_threshold => 2e15)$$);
-- created_by is the calling role: another name is refused, not stored.
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], created_by => 'alice')$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], id => '')$$);
SELECT pg_temp.err($$SELECT multisample.start_run('runs-def', ARRAY['m1'], id => 'runs-100')$$);
-- The same through psql, as a user sees it.
\set SHOW_CONTEXT never
SELECT * FROM multisample.start_run('runs-def', ARRAY['m1'], 0);

SELECT (SELECT count(*) FROM multisample.runs) = b.runs AS no_run_left,
       (SELECT count(*) FROM multisample.run_scenario_selections) = b.selections AS no_selection_left,
       (SELECT count(*) FROM multisample.probe_jobs) = b.jobs AS no_job_left
  FROM before_errors AS b;
\set SHOW_CONTEXT errors

-- Prices and token statistics reject nonsense.
\set VERBOSITY terse
INSERT INTO multisample.model_pricing VALUES ('runs-neg', -1, 1);
INSERT INTO multisample.model_pricing VALUES ('runs-nan', 'NaN', 1);
INSERT INTO multisample.model_token_statistics (model_id, avg_input_tokens, avg_output_tokens, probe_count) VALUES ('runs-neg', 1, 1, -1);
\set VERBOSITY default

-- Deleting a run deletes its selections and, with them, its jobs (1.2 has a
-- trigger where 1.1 had a foreign key); deleting one selection deletes only
-- that scenario's jobs.
SELECT job_count FROM multisample.start_run('runs-def', ARRAY['runs-d1', 'runs-d2'], 2, 20, id => 'runs-del');
DELETE FROM multisample.run_scenario_selections
 WHERE run_id = 'runs-del' AND scenario_id = (SELECT min(scenario_id) FROM multisample.run_scenario_selections WHERE run_id = 'runs-del');
SELECT count(*) AS jobs_left, count(DISTINCT scenario_id) AS scenarios_left FROM multisample.probe_jobs WHERE run_id = 'runs-del';
DELETE FROM multisample.runs WHERE id = 'runs-del';
SELECT (SELECT count(*) FROM multisample.run_scenario_selections WHERE run_id = 'runs-del') AS selections,
       (SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'runs-del') AS jobs;
