-- Runs in flight in a 1.1 database, written straight into the tables (the
-- 1.1 queue cannot claim on Citus), identical on every server it is loaded
-- into apart from times relative to now(). Used by test/citus.sh to upgrade
-- a distributed 1.1 database and a single node alike, then finish the runs
-- under 1.2. Needs examples/evaluation.sql and a role
-- ms_citus_old_worker (the 1.1 worker that holds four leases).
--
-- Run u-live (RUNNING as 1.1 stored it): 3 models x 12 scenarios x 2
-- samples = 72 jobs, numbered n = 1..72 in hand-out order:
--   1-24  COMPLETED, transcript and SUCCESS result (n = 5 scored 2e15, out
--         of the 1.2 bound: the upgrade sets it NULL)
--   25-26 FAILED on their third attempt, with a FAILED result
--   27-30 RUNNING under ms_citus_old_worker ('old-1'), lease live for an hour
--   31-33 RUNNING, lease expired a minute ago (attempt 1 of 3)
--   34    RUNNING, lease expired on its last attempt (3 of 3)
--   35    RUNNING, lease 3 days ahead (the upgrade ends it in a day)
--   36    RUNNING with its SUCCESS result and live transcript recorded (the
--         upgrade completes it)
--   37-38 QUEUED for a retry (attempt 1 failed with RATE_LIMITED)
--   39    QUEUED with no attempt left (wedged every 1.1 claim; the upgrade
--         fails it for good, NO_ATTEMPTS_LEFT)
--   40    QUEUED, next attempt 3 days ahead (the upgrade makes it now)
--   41-72 QUEUED, never claimed
-- Run u-paused (PAUSED): 1 model x 12 scenarios x 1 sample, jobs 1-4
-- COMPLETED, 5-12 PAUSED.

BEGIN;

INSERT INTO multisample.runs (id, definition_id, status, config, created_by, created_at, started_at)
VALUES ('u-live', 'moral-dilemmas-v1', 'RUNNING',
        '{"models": ["gpt-sim-large", "claude-sim", "local-llama"], "samplePercentage": 100,
          "samplesPerScenario": 2, "priority": "NORMAL", "maxAttempts": 3, "scoreScale": {"min": 1, "max": 5}}',
        'fixture', timestamptz '2026-01-03 00:00', timestamptz '2026-01-03 00:01'),
       ('u-paused', 'moral-dilemmas-v1', 'PAUSED',
        '{"models": ["claude-sim"], "samplePercentage": 100, "samplesPerScenario": 1, "priority": "LOW",
          "maxAttempts": 3, "scoreScale": {"min": 1, "max": 5}}',
        'fixture', timestamptz '2026-01-03 00:00', timestamptz '2026-01-03 00:01');

INSERT INTO multisample.run_scenario_selections (run_id, scenario_id)
SELECT r.id, s.id
  FROM (VALUES ('u-live'), ('u-paused')) AS r(id), multisample.scenarios AS s
 WHERE s.definition_id = 'moral-dilemmas-v1';

CREATE TEMP TABLE fixture_jobs AS
SELECT j.*,
       pg_catalog.row_number() OVER (PARTITION BY j.run_id ORDER BY j.queue_order) AS n
  FROM (SELECT r.run_id, s.id AS scenario_id, m.model_id, i AS sample_index, s.prompt,
               i * 12 * r.models + (m.ord - 1) * 12 + s.ord - 1 AS queue_order,
               CASE r.run_id WHEN 'u-live' THEN 1 ELSE 0 END AS priority
          FROM (VALUES ('u-live', 3, 2), ('u-paused', 1, 1)) AS r(run_id, models, samples)
          JOIN (SELECT sc.id, sc.content ->> 'prompt' AS prompt,
                       pg_catalog.row_number() OVER (ORDER BY sc.created_at, sc.id) AS ord
                  FROM multisample.scenarios AS sc WHERE sc.definition_id = 'moral-dilemmas-v1') AS s ON true
          JOIN LATERAL pg_catalog.unnest(CASE r.run_id WHEN 'u-live' THEN ARRAY['gpt-sim-large', 'claude-sim', 'local-llama']
                                                   ELSE ARRAY['claude-sim'] END) WITH ORDINALITY AS m(model_id, ord) ON true
          CROSS JOIN LATERAL pg_catalog.generate_series(0, r.samples - 1) AS i) AS j;

ALTER TABLE fixture_jobs ADD COLUMN state text, ADD COLUMN attempts integer, ADD COLUMN lease_holder text,
    ADD COLUMN lease_role text, ADD COLUMN lease_expires_at timestamptz, ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN error_code text, ADD COLUMN outcome text;
UPDATE fixture_jobs SET
    state = CASE WHEN run_id = 'u-paused' THEN CASE WHEN n <= 4 THEN 'COMPLETED' ELSE 'PAUSED' END
                 WHEN n <= 24 THEN 'COMPLETED' WHEN n <= 26 THEN 'FAILED' WHEN n <= 36 THEN 'RUNNING'
                 ELSE 'QUEUED' END,
    attempts = CASE WHEN run_id = 'u-paused' THEN CASE WHEN n <= 4 THEN 1 ELSE 0 END
                    WHEN n <= 24 THEN 1 WHEN n <= 26 THEN 3 WHEN n = 34 THEN 3 WHEN n <= 38 THEN 1
                    WHEN n = 39 THEN 3 ELSE 0 END,
    lease_holder = CASE WHEN run_id = 'u-paused' AND n > 4 THEN NULL WHEN n BETWEEN 27 AND 30 THEN 'old-1'
                        WHEN n <= 36 OR run_id = 'u-paused' THEN 'old-2' END,
    lease_role = CASE WHEN run_id = 'u-paused' AND n > 4 THEN NULL WHEN n BETWEEN 27 AND 30 THEN 'ms_citus_old_worker'
                      WHEN n <= 36 OR run_id = 'u-paused' THEN 'fixture' END,
    lease_expires_at = CASE WHEN run_id = 'u-paused' OR n > 36 THEN NULL
                            WHEN n BETWEEN 27 AND 30 THEN pg_catalog.now() + interval '1 hour'
                            WHEN n BETWEEN 31 AND 34 THEN pg_catalog.now() - interval '1 minute'
                            WHEN n = 35 THEN pg_catalog.now() + interval '3 days'
                            WHEN n = 36 THEN pg_catalog.now() + interval '10 minutes'
                            ELSE timestamptz '2026-01-03 00:10' END,
    next_attempt_at = CASE WHEN run_id = 'u-live' AND n = 40 THEN pg_catalog.now() + interval '3 days'
                           WHEN run_id = 'u-live' AND n IN (37, 38) THEN pg_catalog.now() - interval '1 second'
                           ELSE timestamptz '2026-01-03 00:00' END,
    error_code = CASE WHEN run_id = 'u-live' AND n IN (25, 26) THEN 'REFUSED'
                      WHEN run_id = 'u-live' AND n IN (37, 38, 39) THEN 'RATE_LIMITED' END,
    outcome = CASE WHEN run_id = 'u-paused' THEN CASE WHEN n <= 4 THEN 'SUCCESS' END
                   WHEN n <= 24 OR n = 36 THEN 'SUCCESS' WHEN n <= 26 THEN 'FAILED' END;

INSERT INTO multisample.probe_jobs
       (run_id, scenario_id, model_id, sample_index, state, priority, queue_order, attempts, max_attempts,
        lease_holder, lease_role, lease_expires_at, next_attempt_at, last_error_code, last_error_message,
        created_at, claimed_at, finished_at)
SELECT f.run_id, f.scenario_id, f.model_id, f.sample_index, f.state, f.priority, f.queue_order, f.attempts, 3,
       f.lease_holder, f.lease_role, f.lease_expires_at, f.next_attempt_at, f.error_code,
       CASE WHEN f.error_code IS NOT NULL THEN 'a 1.1 worker''s error' END,
       timestamptz '2026-01-03 00:00',
       CASE WHEN f.attempts > 0 THEN timestamptz '2026-01-03 00:05' END,
       CASE WHEN f.state IN ('COMPLETED', 'FAILED') THEN timestamptz '2026-01-03 00:06' END
  FROM fixture_jobs AS f;

INSERT INTO multisample.transcripts
       (id, run_id, scenario_id, model_id, model_version, sample_index, content, input_tokens, output_tokens,
        cost, decision_code, score, created_at)
SELECT pg_catalog.format('%s/%s/%s/%s', f.run_id, f.scenario_id, f.model_id, f.sample_index),
       f.run_id, f.scenario_id, f.model_id, '2026-01', f.sample_index,
       pg_catalog.jsonb_build_object('turns', pg_catalog.jsonb_build_array(
           pg_catalog.jsonb_build_object('role', 'user', 'content', f.prompt),
           pg_catalog.jsonb_build_object('role', 'assistant', 'content', pg_catalog.format('1.1 answer %s', f.n)))),
       90 + f.n, 700 + f.n, 0.001 * f.n, 'd' || f.n % 5,
       CASE WHEN f.run_id = 'u-live' AND f.n = 5 THEN 2e15
            ELSE 1 + pg_catalog.abs(pg_catalog.hashtext(f.run_id || f.scenario_id || f.model_id || f.sample_index)) % 5 END,
       timestamptz '2026-01-03 00:06'
  FROM fixture_jobs AS f
 WHERE f.outcome = 'SUCCESS';

INSERT INTO multisample.probe_results
       (run_id, scenario_id, model_id, sample_index, status, transcript_id, input_tokens, output_tokens,
        duration_ms, error_code, error_message, retry_count, created_at)
SELECT f.run_id, f.scenario_id, f.model_id, f.sample_index, f.outcome,
       CASE WHEN f.outcome = 'SUCCESS' THEN pg_catalog.format('%s/%s/%s/%s', f.run_id, f.scenario_id, f.model_id, f.sample_index) END,
       90 + f.n, 700 + f.n, 1000 + f.n, f.error_code,
       CASE WHEN f.outcome = 'FAILED' THEN 'the model refused' END,
       f.attempts - 1, timestamptz '2026-01-03 00:06'
  FROM fixture_jobs AS f
 WHERE f.outcome IS NOT NULL;

DROP TABLE fixture_jobs;

COMMIT;
