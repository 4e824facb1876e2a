-- Adaptive sampling: a run's plan per pair (run_pair_plan), progress against
-- it, top_up_run, plan_samples (allocations derived by hand below),
-- add_samples, and the analysis views with unequal samples per pair. Ids
-- here start with "ad-".
\set SHOW_CONTEXT never

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

-- A simulated run manager answering jobs: every QUEUED job of the run that
-- has a row in pg_temp.answers is completed with that score (or failed for
-- good when failed is true), as complete_probe_job / fail_probe_job record
-- outcomes (transcript, probe result, job finished).
CREATE TEMP TABLE answers (run_id text, scenario_id text, model_id text, sample_index integer,
                           score float8, failed boolean DEFAULT false);
CREATE FUNCTION pg_temp.answer(run text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    WITH due AS (
        SELECT j.scenario_id, j.model_id, j.sample_index, a.score, a.failed
          FROM multisample.probe_jobs AS j
          JOIN pg_temp.answers AS a USING (run_id, scenario_id, model_id, sample_index)
         WHERE j.run_id = run AND j.state = 'QUEUED'
    ), t AS (
        INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
        SELECT format('%s/%s/%s/%s', run, d.scenario_id, d.model_id, d.sample_index), run,
               d.scenario_id, d.model_id, d.sample_index, d.score
          FROM due AS d WHERE NOT d.failed
        RETURNING id, scenario_id, model_id, sample_index
    ), ok AS (
        INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id)
        SELECT run, t.scenario_id, t.model_id, t.sample_index, 'SUCCESS', t.id FROM t
    )
    INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, error_code)
    SELECT run, d.scenario_id, d.model_id, d.sample_index, 'FAILED', 'REFUSED' FROM due AS d WHERE d.failed;
    UPDATE multisample.probe_jobs AS j
       SET state = CASE WHEN r.status = 'SUCCESS' THEN 'COMPLETED' ELSE 'FAILED' END, finished_at = now()
      FROM multisample.probe_results AS r
     WHERE j.run_id = run AND j.state = 'QUEUED'
       AND (r.run_id, r.scenario_id, r.model_id, r.sample_index) = (j.run_id, j.scenario_id, j.model_id, j.sample_index);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

INSERT INTO multisample.definitions (id, name) VALUES ('ad-def', 'three scenarios'), ('ad-one', 'one scenario');
INSERT INTO multisample.scenarios (id, definition_id, name, created_at)
SELECT 'ad-s' || i, 'ad-def', 'scenario ' || i, '2024-01-01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 3) AS i;
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES ('ad-only', 'ad-one', 'only');

-------------------------------------------------------------------------------
-- The plan of a run started with one number: uniform, no plan rows.
-- 3 scenarios x 2 models x 3 samples.
-------------------------------------------------------------------------------
SELECT job_count FROM multisample.start_run('ad-def', ARRAY['ad-ma', 'ad-mb'], 3, priority => 'HIGH',
                                            max_attempts => 5, id => 'ad-run');
SELECT scenario_id, model_id, planned_samples, planned_per_pair, jobs, completed, failed, cancelled, unfinished, scored_samples
  FROM multisample.run_pair_plan WHERE run_id = 'ad-run' ORDER BY model_id, scenario_id;
SELECT count(*) AS plan_rows FROM multisample.run_pair_plans WHERE run_id = 'ad-run';

-- Scores chosen so that the variances are round: model ad-ma has pair
-- variances 0, 1, 4 ({2,2,2}, {1,2,3}, {1,3,5}); model ad-mb 0, 0, 1
-- ({3,3,3}, {3,3,3}, {2,3,4}).
INSERT INTO answers (run_id, scenario_id, model_id, sample_index, score)
SELECT 'ad-run', v.s, v.m, v.i, v.score
  FROM (VALUES ('ad-s1', 'ad-ma', 0, 2), ('ad-s1', 'ad-ma', 1, 2), ('ad-s1', 'ad-ma', 2, 2),
               ('ad-s2', 'ad-ma', 0, 1), ('ad-s2', 'ad-ma', 1, 2), ('ad-s2', 'ad-ma', 2, 3),
               ('ad-s3', 'ad-ma', 0, 1), ('ad-s3', 'ad-ma', 1, 3), ('ad-s3', 'ad-ma', 2, 5),
               ('ad-s1', 'ad-mb', 0, 3), ('ad-s1', 'ad-mb', 1, 3), ('ad-s1', 'ad-mb', 2, 3),
               ('ad-s2', 'ad-mb', 0, 3), ('ad-s2', 'ad-mb', 1, 3), ('ad-s2', 'ad-mb', 2, 3),
               ('ad-s3', 'ad-mb', 0, 2), ('ad-s3', 'ad-mb', 1, 3), ('ad-s3', 'ad-mb', 2, 4)) AS v(s, m, i, score);
SELECT pg_temp.answer('ad-run') AS answered;
SELECT status, total, completed, percent FROM multisample.run_progress WHERE run_id = 'ad-run';

-------------------------------------------------------------------------------
-- plan_samples, derived by hand.
--
-- Spread per model (nu = n - 1 = 2 for every pair):
--   ad-ma: pooled s_p^2 = (2*0 + 2*1 + 2*4) / 6 = 5/3.
--     tau^2 = sum[(s^2 - 5/3)^2 - 2 (5/3)^2 / 2] / sum(1 + 2/2)
--           = [(25/9 + 4/9 + 49/9) - 3 * 25/9] / 6 = (3/9) / 6 = 1/18;
--     k = 2 (s_p^4 + tau^2) / tau^2 = 2 (25/9 + 1/18) * 18 = 102.
--     ad-s1 agreed ({2,2,2}): s_p^2 / n = 5/9 = 0.5556;
--     ad-s2: (2*1 + 102 * 5/3) / (2 + 102) = 172/104 = 43/26 = 1.6538;
--     ad-s3: (2*4 + 170) / 104 = 178/104 = 89/52 = 1.7115.
--   ad-mb: s_p^2 = (0 + 0 + 2*1) / 6 = 1/3.
--     tau^2 = [(1/9 + 1/9 + 4/9) - 3 * (1/9)] / 6 = (3/9) / 6 = 1/18;
--     k = 2 (1/9 + 1/18) * 18 = 6.
--     ad-s1, ad-s2 agreed: (1/3) / 3 = 1/9 = 0.1111;
--     ad-s3: (2*1 + 6 * 1/3) / (2 + 6) = 4/8 = 0.5.
-- Both models have 3 scenarios: the same weight 1/9 for every pair, so the
-- reduction of the j-th extra sample of a pair (n = 3 + j - 1 before it) is
-- proportional to sigma~^2 / (n (n + 1)): /12, /20, /30, /42 ...
--   ad-ma/ad-s3: 89/624 = .14263, 89/1040 = .08558, 89/1560 = .05705, 89/2184 = .04075
--   ad-ma/ad-s2: 43/312 = .13782, 43/520  = .08269, 43/780  = .05513, 43/1092 = .03938
--   ad-ma/ad-s1: 5/108  = .04630, 5/180   = .02778
--   ad-mb/ad-s3: 1/24   = .04167, 1/40    = .02500
--   ad-mb/ad-s1 and ad-s2: 1/108 = .00926 (a tie: the same n, then by id)
-- Budget 9, in order: s3, s2, s3, s2, s3, s2 (ad-ma), ad-ma/s1, ad-mb/s3,
-- ad-ma/s3 -> ad-ma: s1 1, s2 3, s3 4; ad-mb: s3 1; the others 0.
-------------------------------------------------------------------------------
SELECT scenario_id, model_id, planned_samples, samples, scored_samples, variance,
       round(planning_variance::numeric, 4) AS planning_variance, extra, new_planned_samples, at_cap
  FROM multisample.plan_samples('ad-run', 9);
-- Budget 10: the next one is ad-ma/ad-s2's 4th (.03938).
SELECT scenario_id, model_id, extra FROM multisample.plan_samples('ad-run', 10) WHERE extra > 0;
-- At most 5 samples per pair (2 extra each), budget 9: s3, s2, s3, s2 (both
-- at the cap), ad-ma/s1 .04630, ad-mb/s3 .04167, ad-ma/s1 .02778 (cap),
-- ad-mb/s3 .025 (cap), then the tie .00926: ad-mb/ad-s1 before ad-mb/ad-s2.
SELECT scenario_id, model_id, extra, new_planned_samples, at_cap
  FROM multisample.plan_samples('ad-run', 9, max_samples_per_pair => 5);
-- Budget 13 under that cap: 6 pairs x 2 = 12 fit, 1 is left (a NOTICE).
SELECT sum(extra) AS planned, bool_and(at_cap) AS all_at_cap
  FROM multisample.plan_samples('ad-run', 13, max_samples_per_pair => 5);
-- Budget 0 plans nothing; plan_samples wrote nothing.
SELECT sum(extra) AS planned FROM multisample.plan_samples('ad-run', 0);
SELECT count(*) AS plan_rows, (SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'ad-run') AS jobs
  FROM multisample.run_pair_plans WHERE run_id = 'ad-run';

-------------------------------------------------------------------------------
-- add_samples queues exactly that plan.
-------------------------------------------------------------------------------
CREATE TEMP TABLE first_add AS
SELECT * FROM multisample.add_samples('ad-run', 9, request_id => 'ad-req-1');
SELECT * FROM first_add ORDER BY model_id, scenario_id;
-- The same as plan_samples proposed (for the same state before the call).
SELECT p.scenario_id, p.model_id, p.extra, a.extra AS added
  FROM (VALUES ('ad-s1', 'ad-ma', 1), ('ad-s2', 'ad-ma', 3), ('ad-s3', 'ad-ma', 4), ('ad-s3', 'ad-mb', 1))
       AS p(scenario_id, model_id, extra)
  FULL JOIN first_add AS a USING (scenario_id, model_id)
 WHERE p.extra IS DISTINCT FROM a.extra;
-- Plan rows for the raised pairs only; the others read as the run's 3.
SELECT scenario_id, model_id, planned_samples FROM multisample.run_pair_plans WHERE run_id = 'ad-run'
 ORDER BY model_id, scenario_id;
SELECT scenario_id, model_id, planned_samples, planned_per_pair, jobs, completed, unfinished
  FROM multisample.run_pair_plan WHERE run_id = 'ad-run' ORDER BY model_id, scenario_id;
-- New jobs: the next sample indexes, the run's priority (HIGH = 2),
-- max_attempts (5) and created_at, after the run's 18 jobs in hand-out
-- order, sample-major among themselves.
SELECT j.scenario_id, j.model_id, j.sample_index, j.state, j.priority, j.max_attempts, j.queue_order,
       j.created_at = r.created_at AS run_created_at
  FROM multisample.probe_jobs AS j JOIN multisample.runs AS r ON r.id = j.run_id
 WHERE j.run_id = 'ad-run' AND j.state = 'QUEUED' ORDER BY j.queue_order;
-- Progress follows the plan: 18 + 9 = 27 samples.
SELECT status, total, completed, queued, percent FROM multisample.run_progress WHERE run_id = 'ad-run';
SELECT model_id, total, completed, queued, samples FROM multisample.run_model_progress
 WHERE run_id = 'ad-run' ORDER BY model_id;
-- The same request again returns the same allocation and changes nothing.
SELECT a.* = f.* AS same
  FROM multisample.add_samples('ad-run', 9, request_id => 'ad-req-1') AS a
  JOIN first_add AS f USING (scenario_id, model_id) ORDER BY a.model_id, a.scenario_id;
SELECT count(*) AS jobs FROM multisample.probe_jobs WHERE run_id = 'ad-run';
-- The same request id with another budget is refused.
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-run', 10, request_id => 'ad-req-1')$$);
SELECT request_id, extra_samples, max_samples_per_pair, queued, jsonb_array_length(allocation) AS pairs
  FROM multisample.run_sample_requests WHERE run_id = 'ad-run';
-- Once answered, the run is complete again and its plan met: 100 %.
INSERT INTO answers (run_id, scenario_id, model_id, sample_index, score)
SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index, 3
  FROM multisample.probe_jobs AS j WHERE j.run_id = 'ad-run' AND j.state = 'QUEUED';
SELECT pg_temp.answer('ad-run') AS answered;
SELECT status, total, completed, percent, bar FROM multisample.run_progress WHERE run_id = 'ad-run';
SELECT count(*) AS short_pairs FROM multisample.run_pair_plan
 WHERE run_id = 'ad-run' AND completed <> planned_samples;

-------------------------------------------------------------------------------
-- top_up_run: what the plan did not get.
-- One scenario x 2 models x 4 samples; ad-x1 loses two samples (one failed
-- for good, one cancelled), ad-x2 one (failed).
-------------------------------------------------------------------------------
SELECT job_count FROM multisample.start_run('ad-one', ARRAY['ad-x1', 'ad-x2'], 4, id => 'ad-top');
INSERT INTO answers (run_id, scenario_id, model_id, sample_index, score, failed)
SELECT 'ad-top', 'ad-only', m, i, i, (m, i) IN (('ad-x1', 1), ('ad-x2', 3))
  FROM unnest(ARRAY['ad-x1', 'ad-x2']) AS m, generate_series(0, 3) AS i
 WHERE (m, i) <> ('ad-x1', 2);
SELECT pg_temp.answer('ad-top') AS answered;
UPDATE multisample.probe_jobs SET state = 'CANCELLED', finished_at = now()
 WHERE run_id = 'ad-top' AND model_id = 'ad-x1' AND sample_index = 2;
SELECT status, total, completed, failed, cancelled, percent FROM multisample.run_progress WHERE run_id = 'ad-top';
-- A budget of 2: the first missing sample of every pair first.
SELECT * FROM multisample.top_up_run('ad-top', max_new_jobs => 2);
-- The rest; a third call finds nothing missing (idempotent).
SELECT * FROM multisample.top_up_run('ad-top');
SELECT * FROM multisample.top_up_run('ad-top');
SELECT model_id, sample_index, state, queue_order FROM multisample.probe_jobs
 WHERE run_id = 'ad-top' AND sample_index >= 4 ORDER BY queue_order;
-- The run goes on: status follows the jobs; the total is the plan, or more
-- where a pair has more jobs that were not cancelled (ad-x1: 6 - 1 = 5,
-- ad-x2: 5): 10.
SELECT status, total, completed, failed, cancelled, queued, percent FROM multisample.run_progress WHERE run_id = 'ad-top';
INSERT INTO answers (run_id, scenario_id, model_id, sample_index, score)
SELECT 'ad-top', 'ad-only', m, i, 2 FROM unnest(ARRAY['ad-x1', 'ad-x2']) AS m, generate_series(4, 5) AS i;
SELECT pg_temp.answer('ad-top') AS answered;
-- Finished: 100 % (8 completed + 2 failed of 10) although 3 jobs did not
-- succeed; every pair has its 4.
SELECT status, total, completed, failed, cancelled, percent, bar FROM multisample.run_progress WHERE run_id = 'ad-top';
SELECT model_id, total, completed, failed, cancelled, percent, samples FROM multisample.run_model_progress
 WHERE run_id = 'ad-top' ORDER BY model_id;
SELECT model_id, planned_samples, completed FROM multisample.run_pair_plan WHERE run_id = 'ad-top' ORDER BY model_id;
SELECT count(*) AS topped_up FROM multisample.top_up_run('ad-top');

-- At most 100 jobs per pair: a pair of 100 samples whose last 3 failed
-- cannot be topped up.
SELECT job_count FROM multisample.start_run('ad-one', ARRAY['ad-c'], 100, id => 'ad-cap');
INSERT INTO answers (run_id, scenario_id, model_id, sample_index, score, failed)
SELECT 'ad-cap', 'ad-only', 'ad-c', i, 1, i >= 97 FROM generate_series(0, 99) AS i;
SELECT pg_temp.answer('ad-cap') AS answered;
SELECT * FROM multisample.top_up_run('ad-cap');
-- Nor can it get more samples: a run whose only pair is at the cap plans nothing.
SELECT extra, at_cap FROM multisample.plan_samples('ad-cap', 5);

-------------------------------------------------------------------------------
-- A COMPLETED run that gets jobs is RUNNING again (worked through the real
-- queue, so that its jobs were claimed). claim_probe_jobs serves every run
-- of the database: park the runs other tests left queued first.
-------------------------------------------------------------------------------
CREATE TEMP TABLE parked AS
SELECT run_id AS id FROM multisample.run_status WHERE status IN ('PENDING', 'RUNNING');
SELECT count(*) >= 0 AS parked FROM parked, LATERAL multisample.pause_run(parked.id);
SELECT job_count FROM multisample.start_run('ad-one', ARRAY['ad-q'], 2, id => 'ad-queue');
SELECT c.outcome
  FROM multisample.claim_probe_jobs('ad-w', 10) AS j,
       LATERAL multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'ad-w',
                                              '{}', score => 1 + j.sample_index) AS c;
SELECT status FROM multisample.run_status WHERE run_id = 'ad-queue';
SELECT scenario_id, model_id, extra, planned_samples, first_sample_index, job_state
  FROM multisample.add_samples('ad-queue', 2);
SELECT status, total, completed, queued FROM multisample.run_progress WHERE run_id = 'ad-queue';
SELECT j.run_id, j.sample_index, c.outcome
  FROM multisample.claim_probe_jobs('ad-w', 10) AS j,
       LATERAL multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'ad-w',
                                              '{}', score => 2) AS c
 ORDER BY j.sample_index;
SELECT status, total, completed, percent FROM multisample.run_progress WHERE run_id = 'ad-queue';

-------------------------------------------------------------------------------
-- Paused and cancelled runs.
-------------------------------------------------------------------------------
SELECT scenario_id, model_id, extra, job_state FROM multisample.add_samples('ad-queue', 1);
SELECT multisample.pause_run('ad-queue') AS paused;
SELECT scenario_id, model_id, extra, job_state FROM multisample.add_samples('ad-queue', 1);
SELECT state, count(*) FROM multisample.probe_jobs WHERE run_id = 'ad-queue' GROUP BY state ORDER BY state;
SELECT multisample.resume_run('ad-queue') AS resumed;
SELECT multisample.cancel_run('ad-queue') AS cancelled;
SELECT pg_temp.err($$SELECT * FROM multisample.top_up_run('ad-queue')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-queue', 1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-queue', 1)$$);
SELECT count(*) >= 0 AS resumed FROM parked, LATERAL multisample.resume_run(parked.id);

-------------------------------------------------------------------------------
-- Bad input: clear errors, nothing written.
-------------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT * FROM multisample.top_up_run(NULL)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.top_up_run('ad-nope')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.top_up_run('ad-run', -1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples(NULL, 1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-nope', 1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-run', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-run', -5)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-run', 1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-run', 1, 101)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-run', -1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-run', 1, request_id => ' ')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-run', 1, request_id => repeat('r', 201))$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-nope', 1)$$);
-- An absurd budget is spent as far as the caps allow: ad-run's 6 pairs may
-- reach 100 samples each (600 - 27 = 573), the rest is reported.
SELECT sum(extra) AS planned, bool_and(at_cap) AS all_at_cap FROM multisample.plan_samples('ad-run', 9223372036854775807);
-- A run without scored samples has no spread to plan with.
SELECT job_count FROM multisample.start_run('ad-def', ARRAY['ad-m'], 3, id => 'ad-new');
SELECT pg_temp.err($$SELECT * FROM multisample.plan_samples('ad-new', 10)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-new', 10)$$);
SELECT count(*) AS jobs FROM multisample.probe_jobs WHERE run_id = 'ad-new';
-- Only READ COMMITTED.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.err($$SELECT * FROM multisample.top_up_run('ad-run')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.add_samples('ad-run', 1)$$);
ROLLBACK;
-- queue_new_samples (the shared helper) checks its arrays.
SELECT pg_temp.err($$SELECT * FROM multisample.queue_new_samples('ad-run', ARRAY['ad-s1'], ARRAY['ad-ma', 'ad-mb'], ARRAY[1])$$);
SELECT pg_temp.err($$SELECT * FROM multisample.queue_new_samples('ad-run', ARRAY['ad-s1', 'ad-s1'], ARRAY['ad-ma', 'ad-ma'], ARRAY[1, 1])$$);
SELECT pg_temp.err($$SELECT * FROM multisample.queue_new_samples('ad-run', ARRAY['ad-s1'], ARRAY['ad-ma'], ARRAY[101])$$);
SELECT pg_temp.err($$SELECT * FROM multisample.queue_new_samples('ad-run', ARRAY['ad-s1'], ARRAY[NULL], ARRAY[1])$$);
SELECT pg_temp.err($$SELECT * FROM multisample.queue_new_samples('ad-run', ARRAY['ad-only'], ARRAY['ad-ma'], ARRAY[1])$$);
SELECT count(*) AS jobs FROM multisample.probe_jobs WHERE run_id = 'ad-run';
-- A plan row is 1 to 100 samples of a selected scenario.
SELECT pg_temp.err($$INSERT INTO multisample.run_pair_plans VALUES ('ad-run', 'ad-s1', 'ad-ma', 101)$$);
SELECT pg_temp.err($$INSERT INTO multisample.run_pair_plans VALUES ('ad-run', 'ad-only', 'ad-ma', 5)$$);

-------------------------------------------------------------------------------
-- The analysis with unequal samples per pair: scenario means stay the
-- units, and each pair's variance uses its own count. Model ad-u:
--   ad-s1: {1, 3}        n = 2, mean 2, s^2 = 2
--   ad-s2: {4, 4, 4, 4}  n = 4, mean 4, s^2 = 0
--   ad-s3: {3, 5, 7, 9}  n = 4, mean 6, s^2 = (9 + 1 + 1 + 9) / 3 = 20/3
-- scenario_mean = (2 + 4 + 6) / 3 = 4 (the interval's centre: mean of the
-- scenario means, sd 2, se 2/sqrt(3), t(0.975, 2) = 4.302652729749464,
-- margin 4.96828); mean over all samples = 44 / 10 = 4.4 (weighted by the
-- samples); variance over all samples = 44.4 / 9 = 4.93333;
-- within-scenario: mean of (2, 0, 20/3) = 26/9 = 2.88889, max 20/3;
-- population variances 1, 0, 5 -> mean 2; scale 0..10: consistency
-- 1 - 2 / (100 / 4) = 0.92.
-------------------------------------------------------------------------------
SELECT job_count FROM multisample.start_run('ad-def', ARRAY['ad-u'], 4, score_scale => '{"min": 0, "max": 10}', id => 'ad-unequal');
INSERT INTO answers (run_id, scenario_id, model_id, sample_index, score, failed)
SELECT 'ad-unequal', v.s, 'ad-u', v.i, v.score, v.score IS NULL
  FROM (VALUES ('ad-s1', 0, 1), ('ad-s1', 1, 3), ('ad-s1', 2, NULL), ('ad-s1', 3, NULL),
               ('ad-s2', 0, 4), ('ad-s2', 1, 4), ('ad-s2', 2, 4), ('ad-s2', 3, 4),
               ('ad-s3', 0, 3), ('ad-s3', 1, 5), ('ad-s3', 2, 7), ('ad-s3', 3, 9)) AS v(s, i, score);
SELECT pg_temp.answer('ad-unequal') AS answered;
-- The plan of ad-s1 is 2 now (written as add_samples would: a plan row).
INSERT INTO multisample.run_pair_plans VALUES ('ad-unequal', 'ad-s1', 'ad-u', 2);
SELECT scenario_id, sample_count, mean, variance FROM multisample.scenario_variance
 WHERE run_id = 'ad-unequal' ORDER BY scenario_id;
SELECT scored_samples, scenario_count, scenario_mean, mean, round(variance::numeric, 5) AS variance,
       round(avg_within_scenario_variance::numeric, 5) AS avg_within, round(max_within_scenario_variance::numeric, 5) AS max_within,
       round(ci_margin::numeric, 5) AS ci_margin, round(consistency_score::numeric, 5) AS consistency
  FROM multisample.model_variance WHERE run_id = 'ad-unequal';
-- Progress against the plan: 2 + 4 + 4 = 10, but ad-s1 has 4 jobs (2 failed): 12.
SELECT status, total, completed, failed, percent FROM multisample.run_progress WHERE run_id = 'ad-unequal';

-- analysis_json compares each pair with its plan: ad-s1 is planned at 2
-- and has 2, ad-s2 and ad-s3 at 4 and have 4: no warning. With ad-s3's plan
-- at 3, its 4 scored samples are extra, and each listed pair says its plan.
SELECT multisample.analysis_json('ad-unequal') -> 'warnings' AS warnings;
INSERT INTO multisample.run_pair_plans VALUES ('ad-unequal', 'ad-s3', 'ad-u', 3);
SELECT jsonb_pretty(multisample.analysis_json('ad-unequal') -> 'warnings') AS warnings;
DELETE FROM multisample.run_pair_plans WHERE run_id = 'ad-unequal' AND scenario_id = 'ad-s3';

-- A run of one sample per pair is not multi-sample until a pair is planned
-- at more; a pair planned at 3 (its plan raised by hand, then topped up) is
-- short until its samples are in.
SELECT job_count FROM multisample.start_run('ad-one', ARRAY['ad-p'], 1, id => 'ad-single');
INSERT INTO answers VALUES ('ad-single', 'ad-only', 'ad-p', 0, 2);
SELECT pg_temp.answer('ad-single') AS answered;
SELECT d -> 'isMultiSample' AS multi, d -> 'samplesPerScenario' AS samples, d -> 'warnings' AS warnings
  FROM multisample.analysis_json('ad-single') AS d;
INSERT INTO multisample.run_pair_plans VALUES ('ad-single', 'ad-only', 'ad-p', 3);
SELECT d -> 'isMultiSample' AS multi, d -> 'samplesPerScenario' AS samples, jsonb_pretty(d -> 'warnings') AS warnings
  FROM multisample.analysis_json('ad-single') AS d;
SELECT scenario_id, model_id, missing, queued, first_sample_index FROM multisample.top_up_run('ad-single');
INSERT INTO answers VALUES ('ad-single', 'ad-only', 'ad-p', 1, 3), ('ad-single', 'ad-only', 'ad-p', 2, 4);
SELECT pg_temp.answer('ad-single') AS answered;
SELECT d -> 'isMultiSample' AS multi, d -> 'warnings' AS warnings, d -> 'perModel' -> 'ad-p' -> 'withinScenario' -> 'meanVariance' AS within
  FROM multisample.analysis_json('ad-single') AS d;
SELECT status, total, completed, percent FROM multisample.run_progress WHERE run_id = 'ad-single';

-------------------------------------------------------------------------------
-- A run written without jobs (as 1.0 runs were): its live transcripts are
-- its samples. Nothing is missing, and new samples get the indexes after
-- the transcripts' ones.
-------------------------------------------------------------------------------
INSERT INTO multisample.runs (id, definition_id, config)
VALUES ('ad-legacy', 'ad-one', '{"models": ["ad-l"], "samplesPerScenario": 3}');
INSERT INTO multisample.run_scenario_selections VALUES ('ad-legacy', 'ad-only');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('ad-l0', 'ad-legacy', 'ad-only', 'ad-l', 0, 1), ('ad-l1', 'ad-legacy', 'ad-only', 'ad-l', 1, 2),
       ('ad-l2', 'ad-legacy', 'ad-only', 'ad-l', 2, NULL);
SELECT planned_samples, jobs, completed, live_samples, scored_samples
  FROM multisample.run_pair_plan WHERE run_id = 'ad-legacy';
SELECT count(*) AS topped_up FROM multisample.top_up_run('ad-legacy');
SELECT samples, scored_samples, variance, extra FROM multisample.plan_samples('ad-legacy', 2);
SELECT extra, planned_samples, first_sample_index FROM multisample.add_samples('ad-legacy', 2);

-------------------------------------------------------------------------------
-- Runs whose samplesPerScenario is unusable have no known plan: progress
-- counts their jobs, and top_up_run queues nothing.
-------------------------------------------------------------------------------
SELECT job_count FROM multisample.start_run('ad-one', ARRAY['ad-z'], 2, id => 'ad-odd');
UPDATE multisample.runs SET config = config || '{"samplesPerScenario": "two"}' WHERE id = 'ad-odd';
SELECT planned_samples, jobs FROM multisample.run_pair_plan WHERE run_id = 'ad-odd';
SELECT total, queued FROM multisample.run_progress WHERE run_id = 'ad-odd';
SELECT count(*) AS topped_up FROM multisample.top_up_run('ad-odd');
