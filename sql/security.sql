-- Limits of 1.2 (SPEC 12.1; issue 10, items 6, 7 and 8): scores bounded by
-- |score| <= 1e15 so that no view and no analysis_json can overflow however
-- many samples there are; costs, prices and token counts in range; the
-- queue's functions only at READ COMMITTED. Ids start with "sec-".
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN st || ': ' || msg;
END
$$;

INSERT INTO multisample.definitions (id, name) VALUES ('sec-def', 'bounds');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    ('sec-s1', 'sec-def', 'one'), ('sec-s2', 'sec-def', 'two'), ('sec-s3', 'sec-def', 'three');

-------------------------------------------------------------------------------
-- Scores: 1e308 (1.1 stored it; then every analysis view failed with 22003)
-- and anything beyond 1e15 or not finite is refused.
-------------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', score => 1e308)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', score => -1000000000000001)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', score => 'Infinity')$$);
-- At the bound the argument check passes (and the job lookup answers P0002).
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', score => 1e15)$$);

-- A run whose pairs hit both bounds, 100 samples each (written directly, as
-- a run manager may):
--   (s1, ma) and (s2, mb): 50 x +1e15 and 50 x -1e15: mean 0, sample
--       variance 100 * 1e30 / 99 = 1.010101e30, sd sqrt(100/99) e15 = 1.005038e15;
--   (s1, mb): 100 x +1e15 and (s2, ma): 100 x -1e15: mean +-1e15, variance 0.
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('sec-run', 'sec-def', '{"models": ["sec-ma", "sec-mb"], "samplesPerScenario": 100, "scoreScale": {"min": -1e15, "max": 1e15}}'),
    ('sec-many', 'sec-def', '{"models": ["sec-ma"], "samplesPerScenario": 20000, "scoreScale": {"min": -1e15, "max": 1e15}}');
INSERT INTO multisample.run_scenario_selections VALUES ('sec-run', 'sec-s1'), ('sec-run', 'sec-s2'), ('sec-many', 'sec-s3');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
SELECT format('sec-%s-%s-%s', s, m, i), 'sec-run', s, m, i,
       CASE WHEN (s, m) IN (('sec-s1', 'sec-ma'), ('sec-s2', 'sec-mb')) THEN CASE WHEN i % 2 = 0 THEN 1e15 ELSE -1e15 END
            WHEN s = 'sec-s1' THEN 1e15
            ELSE -1e15 END
  FROM unnest(ARRAY['sec-s1', 'sec-s2']) AS s, unnest(ARRAY['sec-ma', 'sec-mb']) AS m, generate_series(0, 99) AS i;
-- And one pair of 20000 samples alternating +-1e15: variance 20000e30 / 19999 = 1.000050e30.
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
SELECT 'sec-many-' || i, 'sec-many', 'sec-s3', 'sec-ma', i, CASE WHEN i % 2 = 0 THEN 1e15 ELSE -1e15 END
  FROM generate_series(0, 19999) AS i;
-- The CHECK holds for direct writes too: 1e15 fits, the next double above it does not.
\set VERBOSITY terse
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('sec-over', 'sec-run', 'sec-s1', 'sec-mc', 0, 1000000000000000.125);
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('sec-huge', 'sec-run', 'sec-s1', 'sec-mc', 0, 1e308);
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('sec-nan', 'sec-run', 'sec-s1', 'sec-mc', 0, 'NaN');
\set VERBOSITY default

-- Every view answers, in units of 1e15 (scores) and 1e30 (variances).
SELECT run_id, scenario_id, model_id, sample_count,
       round((mean / 1e15)::numeric, 6) AS mean_e15, round((std_dev / 1e15)::numeric, 6) AS sd_e15,
       round((variance / 1e30)::numeric, 6) AS variance_e30,
       min / 1e15 AS min_e15, max / 1e15 AS max_e15, range / 1e15 AS range_e15
  FROM multisample.scenario_variance WHERE run_id IN ('sec-run', 'sec-many') ORDER BY 1, 2, 3;
-- Per scenario: the mean of the two models' variances, (100/99 + 0) / 2 = 0.505051 (e30).
SELECT run_id, scenario_id, model_count, sample_count,
       round((mean_variance / 1e30)::numeric, 6) AS mean_variance_e30, round((max_variance / 1e30)::numeric, 6) AS max_variance_e30
  FROM multisample.scenario_variance_overall WHERE run_id IN ('sec-run', 'sec-many') ORDER BY 1, 2;
-- Per model over its 200 samples: sec-ma has 50 x +1e15 and 150 x -1e15,
-- mean -0.5e15, variance (50 * 1.5^2 + 150 * 0.5^2) e30 / 199 = 150e30 / 199
-- = 0.753769e30; sec-mb the mirror image. Scenario means 0 and -1e15 (sec-ma)
-- or 1e15 and 0 (sec-mb): scenario_mean +-0.5e15, standard error 0.5e15,
-- t(0.975, df 1) = tan(0.475 pi) = 12.706205, margin 6.353102e15.
SELECT run_id, model_id, scored_samples, scenario_count,
       round((mean / 1e15)::numeric, 6) AS mean_e15, round((variance / 1e30)::numeric, 6) AS variance_e30,
       round((avg_within_scenario_variance / 1e30)::numeric, 6) AS avg_within_e30,
       round((max_within_scenario_variance / 1e30)::numeric, 6) AS max_within_e30,
       round((scenario_mean / 1e15)::numeric, 6) AS scenario_mean_e15, round((ci_margin / 1e15)::numeric, 6) AS ci_margin_e15
  FROM multisample.model_variance WHERE run_id IN ('sec-run', 'sec-many') ORDER BY 1, 2;
SELECT jsonb_typeof(multisample.analysis_json('sec-run')) AS run_json,
       jsonb_typeof(multisample.analysis_json('sec-many')) AS many_json;

-------------------------------------------------------------------------------
-- Costs, prices, tokens (1.1 stored cost 'Infinity').
-------------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', cost => 'NaN')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', cost => -0.01)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', cost => 1e16)$$);
-- (numeric has Infinity from PostgreSQL 14 on; before, the literal itself is
-- refused as invalid input, 22P02.)
SELECT CASE WHEN current_setting('server_version_num')::integer >= 140000
            THEN pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', cost => 'Infinity')$$) LIKE '22023: cost must be a number between 0 and 1e15%'
            ELSE pg_temp.err($$SELECT 'Infinity'::numeric$$) LIKE '22P02:%' END AS infinite_cost_refused;
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', input_tokens => -1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-none', 'sec-s1', 'm', 0, 'w', '{}', output_tokens => -1)$$);
\set VERBOSITY terse
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, cost)
VALUES ('sec-c1', 'sec-run', 'sec-s1', 'sec-mc', 1, 'NaN');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, cost)
VALUES ('sec-c2', 'sec-run', 'sec-s1', 'sec-mc', 2, -1);
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, cost)
VALUES ('sec-c3', 'sec-run', 'sec-s1', 'sec-mc', 3, 1e15 + 1);
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, input_tokens)
VALUES ('sec-c4', 'sec-run', 'sec-s1', 'sec-mc', 4, -1);
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, output_tokens)
VALUES ('sec-run', 'sec-s1', 'sec-mc', 5, 'FAILED', -1);
INSERT INTO multisample.model_pricing VALUES ('sec-price', 'NaN', 1);
INSERT INTO multisample.model_pricing VALUES ('sec-price', 1, -1);
INSERT INTO multisample.model_pricing VALUES ('sec-price', 1e16, 1);
\set VERBOSITY default
-- At the bounds they are stored.
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, cost, input_tokens, output_tokens)
VALUES ('sec-c5', 'sec-run', 'sec-s1', 'sec-mc', 6, 1e15, 0, 0), ('sec-c6', 'sec-run', 'sec-s1', 'sec-mc', 7, 0, 0, 0);
INSERT INTO multisample.model_pricing VALUES ('sec-price', 1e15, 0);
SELECT id, cost FROM multisample.transcripts WHERE id IN ('sec-c5', 'sec-c6') ORDER BY id;
DELETE FROM multisample.model_pricing WHERE model_id = 'sec-price';

-------------------------------------------------------------------------------
-- Isolation: the queue and run control refuse anything but READ COMMITTED
-- (25000), before they read or write anything (1.1 let REPEATABLE READ
-- workers leave runs RUNNING for ever).
-------------------------------------------------------------------------------
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('sec-w')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('sec-run', 'sec-s1', 'sec-ma', 0, 'sec-w', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('sec-run', 'sec-s1', 'sec-ma', 0, 'sec-w', 'E', 'x')$$);
SELECT pg_temp.err($$SELECT multisample.release_expired_leases()$$);
SELECT pg_temp.err($$SELECT multisample.pause_run('sec-run')$$);
SELECT pg_temp.err($$SELECT multisample.resume_run('sec-run')$$);
SELECT pg_temp.err($$SELECT multisample.cancel_run('sec-run')$$);
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('sec-w')$$);
SELECT pg_temp.err($$SELECT multisample.cancel_run('sec-run')$$);
ROLLBACK;
-- At READ COMMITTED run control works (the run has no jobs: it keeps its
-- stored status, PENDING, and may be cancelled).
SELECT multisample.cancel_run('sec-run') AS cancelled;
SELECT run_id, status FROM multisample.run_status WHERE run_id = 'sec-run';

DELETE FROM multisample.runs WHERE id IN ('sec-run', 'sec-many');
