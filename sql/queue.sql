-- The queue: claim, complete, fail, retries, leases, pause/resume/cancel,
-- run status, progress, bad input and the least-privilege roles of the
-- README. Ids here start with "q-"; roles with "regress_ms_".
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

-- claim_probe_jobs serves every run of the database: park the runs other
-- tests left with queued jobs, and resume them at the end.
CREATE TEMP TABLE parked AS
SELECT run_id AS id FROM multisample.run_status WHERE status IN ('PENDING', 'RUNNING');
SELECT count(*) >= 0 AS parked FROM parked, LATERAL multisample.pause_run(parked.id);

INSERT INTO multisample.definitions (id, name) VALUES ('q-def', 'four scenarios'), ('q-one', 'one scenario');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'q-s' || i, 'q-def', 'scenario ' || i, jsonb_build_object('prompt', 'prompt ' || i, 'dimensions', jsonb_build_object('harm', i)),
       '2024-01-01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 4) AS i;
INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES ('q-only', 'q-one', 'only', '{"prompt": "only"}');

-------------------------------------------------------------------------------
-- Hand-out order: highest priority first, then oldest. Each run has one job.
-------------------------------------------------------------------------------
SELECT run_id FROM multisample.start_run('q-one', ARRAY['q-m'], 1, priority => 'LOW', id => 'q-low');
SELECT run_id FROM multisample.start_run('q-one', ARRAY['q-m'], 1, priority => 'NORMAL', id => 'q-normal');
SELECT run_id FROM multisample.start_run('q-one', ARRAY['q-m'], 1, priority => 'HIGH', id => 'q-high');
SELECT run_id FROM multisample.start_run('q-one', ARRAY['q-m'], 1, priority => 'LOW', id => 'q-low-later');
SELECT run_id, scenario_id, model_id, sample_index, attempt, max_attempts, definition_id, scenario_name, scenario_content,
       lease_expires_at - now() AS lease
  FROM multisample.claim_probe_jobs('w-order', 10);
SELECT run_id AS id, status FROM multisample.run_status WHERE run_id IN ('q-low', 'q-normal', 'q-high', 'q-low-later') ORDER BY id;
-- Nothing left to claim.
SELECT count(*) AS claimed FROM multisample.claim_probe_jobs('w-order', 10);
-- Completing the only job of a run completes the run.
SELECT j.run_id, c.outcome, c.job_state
  FROM multisample.probe_jobs AS j,
       LATERAL multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'w-order',
                                              '{"turns": []}', score => 4) AS c
 WHERE j.run_id IN ('q-low', 'q-normal', 'q-high', 'q-low-later') ORDER BY j.run_id;
SELECT run_id AS id, status, started_at IS NOT NULL AS started, completed_at IS NOT NULL AS completed
  FROM multisample.run_status WHERE run_id IN ('q-low', 'q-normal', 'q-high', 'q-low-later') ORDER BY id;

-------------------------------------------------------------------------------
-- A run of 4 scenarios x 2 models x 3 samples = 24 jobs.
-------------------------------------------------------------------------------
SELECT run_id, job_count FROM multisample.start_run('q-def', ARRAY['q-m1', 'q-m2'], 3, id => 'q-run');
SELECT status FROM multisample.run_status WHERE run_id = 'q-run';
-- Sample-major: every pair's sample 0 first.
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-a', 5);
SELECT status FROM multisample.run_status WHERE run_id = 'q-run';
SELECT lease_holder, lease_role = current_user AS lease_role_is_caller, count(*)
  FROM multisample.probe_jobs WHERE run_id = 'q-run' AND state = 'RUNNING' GROUP BY 1, 2;

-- Completion records the transcript (with its sample_index) and the result.
CREATE TEMP TABLE first_completion AS
SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w-a', '{"turns": [{"role": "assistant", "content": "yes"}]}',
                                             score => 4, decision_code => '4', decision_text => 'lean towards acting',
                                             input_tokens => 120, output_tokens => 880, cost => 0.5,
                                             model_version => 'q-m1-2024', duration_ms => 1500, attempt => 1);
SELECT outcome, job_state FROM first_completion;
SELECT t.sample_index, t.score, t.decision_code, t.decision_text, t.input_tokens, t.output_tokens, t.cost, t.model_version,
       t.content, t.id = f.transcript_id AS same_transcript
  FROM multisample.transcripts AS t, first_completion AS f
 WHERE t.run_id = 'q-run' AND t.scenario_id = 'q-s1' AND t.model_id = 'q-m1';
SELECT status, sample_index, transcript_id = (SELECT transcript_id FROM first_completion) AS names_transcript,
       input_tokens, output_tokens, duration_ms, retry_count
  FROM multisample.probe_results WHERE run_id = 'q-run' AND scenario_id = 'q-s1' AND model_id = 'q-m1';
-- Idempotent: the same call again, or another worker's, changes nothing and says so.
SELECT c.outcome, c.job_state, c.transcript_id = f.transcript_id AS same_transcript
  FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w-a', '{"turns": []}', score => 1) AS c, first_completion AS f;
SELECT c.outcome, c.job_state, c.transcript_id = f.transcript_id AS same_transcript
  FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w-b', '{"turns": []}', score => 2) AS c, first_completion AS f;
SELECT count(*) AS transcripts, min(score) AS score
  FROM multisample.transcripts WHERE run_id = 'q-run' AND scenario_id = 'q-s1' AND model_id = 'q-m1' AND sample_index = 0;
-- A worker that does not hold the job, or names another attempt, is refused.
SELECT * FROM multisample.complete_probe_job('q-run', 'q-s2', 'q-m1', 0, 'w-b', '{}');
SELECT * FROM multisample.complete_probe_job('q-run', 'q-s2', 'q-m1', 0, 'w-a', '{}', attempt => 2);
-- Cost from model_pricing when the worker reports tokens but no cost:
-- (100 * 2.5 + 1000 * 10) / 1e6 = 0.01025.
INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million) VALUES ('q-m1', 2.5, 10);
SELECT outcome FROM multisample.complete_probe_job('q-run', 'q-s2', 'q-m1', 0, 'w-a', '{}', input_tokens => 100, output_tokens => 1000);
SELECT cost FROM multisample.transcripts WHERE run_id = 'q-run' AND scenario_id = 'q-s2' AND model_id = 'q-m1';

-------------------------------------------------------------------------------
-- Retries: exponential backoff (10 s, 20 s ...) until max_attempts (3).
-------------------------------------------------------------------------------
SELECT outcome, job_state, next_attempt_at - now() AS backoff
  FROM multisample.fail_probe_job('q-run', 'q-s3', 'q-m1', 0, 'w-a', 'RATE_LIMITED', 'HTTP 429', true);
SELECT state, attempts, last_error_code, last_error_message
  FROM multisample.probe_jobs WHERE run_id = 'q-run' AND scenario_id = 'q-s3' AND model_id = 'q-m1' AND sample_index = 0;
-- Not handed out during its backoff: the next claim takes another job.
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-a');
-- Fast-forward the backoff (as the test's superuser) and claim it again.
UPDATE multisample.probe_jobs SET next_attempt_at = now() - interval '1 second'
 WHERE run_id = 'q-run' AND scenario_id = 'q-s3' AND model_id = 'q-m1' AND sample_index = 0;
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-a');
SELECT outcome, job_state, next_attempt_at - now() AS backoff
  FROM multisample.fail_probe_job('q-run', 'q-s3', 'q-m1', 0, 'w-a', 'RATE_LIMITED', 'HTTP 429 again', true, attempt => 2);
UPDATE multisample.probe_jobs SET next_attempt_at = now() - interval '1 second'
 WHERE run_id = 'q-run' AND scenario_id = 'q-s3' AND model_id = 'q-m1' AND sample_index = 0;
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-a');
-- The third attempt was the last: a retryable failure now fails the job for good.
SELECT * FROM multisample.fail_probe_job('q-run', 'q-s3', 'q-m1', 0, 'w-a', 'RATE_LIMITED', 'HTTP 429 a third time', true, attempt => 3);
SELECT status, transcript_id, error_code, error_message, retry_count
  FROM multisample.probe_results WHERE run_id = 'q-run' AND scenario_id = 'q-s3' AND model_id = 'q-m1' AND sample_index = 0;
-- Reporting it again changes nothing; a late success is refused.
SELECT * FROM multisample.fail_probe_job('q-run', 'q-s3', 'q-m1', 0, 'w-a', 'RATE_LIMITED', 'again', true, attempt => 3);
SELECT * FROM multisample.complete_probe_job('q-run', 'q-s3', 'q-m1', 0, 'w-a', '{}');
-- A caller-chosen delay (e.g. the provider's Retry-After).
SELECT outcome, job_state, next_attempt_at - now() AS backoff
  FROM multisample.fail_probe_job('q-run', 'q-s4', 'q-m1', 0, 'w-a', 'RATE_LIMITED', 'Retry-After: 90', true, retry_after => '90 seconds');
-- Not retryable: fails at once. The message is kept whole up to 10000
-- characters; a longer one keeps its first 10000 and says how long it was.
SELECT outcome, job_state
  FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m2', 0, 'w-a', 'CONTENT_POLICY', repeat('m', 12000), false);
SELECT length(error_message) AS stored_length, right(error_message, 35) AS ending, retry_count
  FROM multisample.probe_results WHERE run_id = 'q-run' AND scenario_id = 'q-s1' AND model_id = 'q-m2' AND sample_index = 0;
SELECT outcome FROM multisample.fail_probe_job('q-run', 'q-s4', 'q-m2', 1, 'w-a', 'X', 'not claimed', false);

-------------------------------------------------------------------------------
-- Leases: an expired lease is handed out again; the old holder's late
-- report is refused (lease_lost), the new holder's is recorded.
-------------------------------------------------------------------------------
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-slow', 1, '1 minute');
UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second'
 WHERE run_id = 'q-run' AND lease_holder = 'w-slow' AND state = 'RUNNING';
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-fast', 1);
SELECT * FROM multisample.complete_probe_job('q-run', 'q-s3', 'q-m2', 0, 'w-slow', '{}', score => 1);
SELECT outcome, job_state FROM multisample.complete_probe_job('q-run', 'q-s3', 'q-m2', 0, 'w-fast', '{}', score => 5, attempt => 2);
SELECT * FROM multisample.fail_probe_job('q-run', 'q-s3', 'q-m2', 0, 'w-slow', 'TIMEOUT', 'too slow', true);
SELECT count(*) AS live_transcripts, min(score) AS score
  FROM multisample.transcripts WHERE run_id = 'q-run' AND scenario_id = 'q-s3' AND model_id = 'q-m2' AND sample_index = 0 AND deleted_at IS NULL;
-- A lease that ran out but was not taken by anyone yet still counts.
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-late', 1);
UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second'
 WHERE run_id = 'q-run' AND lease_holder = 'w-late' AND state = 'RUNNING';
SELECT outcome, job_state FROM multisample.complete_probe_job('q-run', 'q-s4', 'q-m2', 0, 'w-late', '{}', score => 3);
-- A lease that runs out on the last attempt fails the job (LEASE_EXPIRED).
SELECT job_count FROM multisample.start_run('q-one', ARRAY['q-m'], 1, max_attempts => 1, priority => 'HIGH', id => 'q-once');
SELECT run_id, attempt, max_attempts FROM multisample.claim_probe_jobs('w-dies', 1);
UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second' WHERE run_id = 'q-once';
SELECT multisample.release_expired_leases();
SELECT state, attempts, last_error_code FROM multisample.probe_jobs WHERE run_id = 'q-once';
SELECT status, error_code, error_message FROM multisample.probe_results WHERE run_id = 'q-once';
SELECT status FROM multisample.run_status WHERE run_id = 'q-once';

-------------------------------------------------------------------------------
-- Pause, resume, cancel.
-------------------------------------------------------------------------------
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-a', 1);
SELECT state, count(*) FROM multisample.probe_jobs WHERE run_id = 'q-run' GROUP BY state ORDER BY state;
SELECT multisample.pause_run('q-run') AS paused;
SELECT multisample.pause_run('q-run') AS paused_again;
SELECT status FROM multisample.run_status WHERE run_id = 'q-run';
SELECT count(*) AS claimed_while_paused FROM multisample.claim_probe_jobs('w-a', 10);
-- A job that was running finishes normally; a retry of one goes to PAUSED.
SELECT scenario_id, model_id, sample_index, state, lease_holder FROM multisample.probe_jobs
 WHERE run_id = 'q-run' AND state = 'RUNNING' ORDER BY queue_order;
SELECT outcome, job_state FROM multisample.complete_probe_job('q-run', 'q-s2', 'q-m2', 0, 'w-a', '{}', score => 2);
-- (The retry waits in the paused run, queued: claims pass over paused runs,
-- even once its backoff is over; progress counts it as paused.)
SELECT outcome, job_state FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 1, 'w-a', 'TIMEOUT', 'slow', true);
SELECT state, count(*) FROM multisample.probe_jobs WHERE run_id = 'q-run' GROUP BY state ORDER BY state;
UPDATE multisample.probe_jobs SET next_attempt_at = now() - interval '1 second'
 WHERE run_id = 'q-run' AND scenario_id = 'q-s1' AND model_id = 'q-m1' AND sample_index = 1;
SELECT count(*) AS claimed_while_paused FROM multisample.claim_probe_jobs('w-a', 10);
SELECT status, queued, paused FROM multisample.run_progress WHERE run_id = 'q-run';
UPDATE multisample.probe_jobs SET next_attempt_at = now() + interval '20 seconds'
 WHERE run_id = 'q-run' AND scenario_id = 'q-s1' AND model_id = 'q-m1' AND sample_index = 1;
SELECT multisample.resume_run('q-run') AS resumed;
SELECT multisample.resume_run('q-run') AS resumed_again;
SELECT status FROM multisample.run_status WHERE run_id = 'q-run';
-- (q-s1, q-m1, 1) keeps its backoff, so other jobs come first.
SELECT scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w-a', 2);
SELECT multisample.cancel_run('q-run') AS cancelled;
SELECT multisample.cancel_run('q-run') AS cancelled_again;
-- Running jobs may still report: a success is kept, a retry is cancelled.
SELECT outcome, job_state FROM multisample.complete_probe_job('q-run', 'q-s3', 'q-m1', 1, 'w-a', '{}', score => 3);
SELECT outcome, job_state FROM multisample.fail_probe_job('q-run', 'q-s2', 'q-m1', 1, 'w-a', 'TIMEOUT', 'slow', true);
SELECT run_id, status, total, completed, failed, running, queued, paused, cancelled, percent, bar
  FROM multisample.run_progress WHERE run_id = 'q-run';
SELECT count(*) AS claimed_after_cancel FROM multisample.claim_probe_jobs('w-a', 10);

-------------------------------------------------------------------------------
-- A run worked off to the end: 3 transcripts per pair, sample indexes 0-2.
-------------------------------------------------------------------------------
SELECT job_count FROM multisample.start_run('q-def', ARRAY['q-m1', 'q-m2'], 3, sample_percentage => 50, id => 'q-full');
SELECT run_id, status, total, completed, queued, percent, bar FROM multisample.run_progress WHERE run_id = 'q-full';
DO $$
DECLARE j record; n integer := 0;
BEGIN
    LOOP
        n := n + 1;
        FOR j IN SELECT * FROM multisample.claim_probe_jobs('w-loop', 5) LOOP
            IF n = 1 THEN
                -- the first batch fails once, retryably, and comes back at once
                PERFORM multisample.fail_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'w-loop',
                                                   'FLAKY', 'first try', true, retry_after => '0');
            ELSE
                PERFORM multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'w-loop',
                                                       jsonb_build_object('sample', j.sample_index),
                                                       score => j.sample_index + 1, attempt => j.attempt);
            END IF;
        END LOOP;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM multisample.probe_jobs WHERE run_id = 'q-full' AND state <> 'COMPLETED');
        EXIT WHEN n > 100;
    END LOOP;
END
$$;
SELECT status, completed_at IS NOT NULL AS completed_at_set FROM multisample.run_status WHERE run_id = 'q-full';
SELECT scenario_id, model_id, array_agg(sample_index ORDER BY sample_index) AS transcripts
  FROM multisample.transcripts WHERE run_id = 'q-full' AND deleted_at IS NULL
 GROUP BY scenario_id, model_id ORDER BY model_id, scenario_id;
SELECT status, retry_count, count(*) FROM multisample.probe_results WHERE run_id = 'q-full' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT run_id, status, total, completed, failed, running, queued, percent, bar FROM multisample.run_progress WHERE run_id = 'q-full';
SELECT model_id, status, total, completed, percent, samples, bar FROM multisample.run_model_progress
 WHERE run_id = 'q-full' ORDER BY model_id;

-------------------------------------------------------------------------------
-- Integrity: a job cannot be closed without its outcome, even by a superuser.
-------------------------------------------------------------------------------
SELECT run_id FROM multisample.start_run('q-one', ARRAY['q-m'], 1, id => 'q-guard');
SELECT count(*) FROM multisample.claim_probe_jobs('w-guard', 1);
\set VERBOSITY terse
UPDATE multisample.probe_jobs SET state = 'COMPLETED' WHERE run_id = 'q-guard';
UPDATE multisample.probe_jobs SET state = 'FAILED' WHERE run_id = 'q-guard';
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status)
VALUES ('q-guard', 'q-only', 'q-m', 0, 'SUCCESS');
UPDATE multisample.probe_jobs SET state = 'COMPLETED' WHERE run_id = 'q-guard';
-- A finished job stays finished: its outcome is the sample's only one.
UPDATE multisample.probe_jobs SET state = 'QUEUED' WHERE run_id = 'q-full' AND scenario_id = 'q-s2' AND model_id = 'q-m1' AND sample_index = 0;
UPDATE multisample.probe_jobs SET state = 'RUNNING' WHERE run_id = 'q-once';
\set VERBOSITY default
DELETE FROM multisample.probe_results WHERE run_id = 'q-guard';
SELECT multisample.cancel_run('q-guard') AS cancelled;

-------------------------------------------------------------------------------
-- Bad input.
-------------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('w', 0)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('w', 1001)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('w', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('w', 1, '-5 minutes')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('w', 1, '0')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('w', 1, '2 days')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('   ')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs(NULL)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs(repeat('w', 201))$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-nope', 'q-s1', 'q-m1', 0, 'w', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m9', 0, 'w', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', NULL, 'q-m1', 0, 'w', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, '', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', score => 'NaN')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', score => '-Infinity')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', input_tokens => -1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', output_tokens => -5)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', cost => -0.01)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', duration_ms => -1)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.complete_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', '{}', attempt => 0)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-nope', 'q-s1', 'q-m1', 0, 'w', 'E', 'm')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 7, 'w', 'E', 'm')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', NULL, 'm')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', repeat('E', 201), 'm')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', 'E', 'm', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 0, 'w', 'E', 'm', true, retry_after => '-1 second')$$);
SELECT pg_temp.err($$SELECT * FROM multisample.fail_probe_job('q-run', 'q-s1', 'q-m1', 0, NULL, 'E', 'm')$$);
SELECT pg_temp.err($$SELECT multisample.pause_run('q-nope')$$);
SELECT pg_temp.err($$SELECT multisample.resume_run('q-nope')$$);
SELECT pg_temp.err($$SELECT multisample.cancel_run('q-nope')$$);
SELECT pg_temp.err($$SELECT multisample.pause_run('q-full')$$);
SELECT pg_temp.err($$SELECT multisample.cancel_run('q-full')$$);
SELECT pg_temp.err($$SELECT multisample.resume_run('q-run')$$);
SELECT pg_temp.err($$SELECT multisample.pause_run('q-run')$$);
SELECT pg_temp.err($$SELECT multisample.release_expired_leases('w', 0)$$);

-------------------------------------------------------------------------------
-- Least privilege, as in the README: a worker role and a dashboard role.
-------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_ms_worker;
DROP ROLE IF EXISTS regress_ms_worker2;
DROP ROLE IF EXISTS regress_ms_dashboard;
RESET client_min_messages;
CREATE ROLE regress_ms_worker;
CREATE ROLE regress_ms_worker2;
CREATE ROLE regress_ms_dashboard;
GRANT USAGE ON SCHEMA multisample TO regress_ms_worker, regress_ms_worker2, regress_ms_dashboard;
GRANT SELECT ON multisample.runs, multisample.scenarios, multisample.model_pricing
    TO regress_ms_worker, regress_ms_worker2;
GRANT SELECT, UPDATE (state, attempts, lease_holder, lease_role, lease_expires_at, next_attempt_at,
                      last_error_code, last_error_message, claimed_at, finished_at)
    ON multisample.probe_jobs TO regress_ms_worker, regress_ms_worker2;
GRANT SELECT, INSERT ON multisample.transcripts, multisample.probe_results TO regress_ms_worker, regress_ms_worker2;
GRANT SELECT ON multisample.run_progress, multisample.run_model_progress,
                multisample.scenario_variance, multisample.scenario_variance_overall,
                multisample.model_variance, multisample.run_analysis_settings,
                multisample.transcript_samples, multisample.transcript_turns,
                multisample.transcript_export
    TO regress_ms_dashboard;

SELECT job_count FROM multisample.start_run('q-def', ARRAY['q-m1'], 2, id => 'q-priv');
SET ROLE regress_ms_worker2;
SELECT scenario_id, sample_index, attempt FROM multisample.claim_probe_jobs('w2', 1);
RESET ROLE;
SET ROLE regress_ms_worker;
-- Allowed: claim, complete, fail, read progress of the jobs.
SELECT scenario_id, sample_index, attempt FROM multisample.claim_probe_jobs('w1', 3);
SELECT outcome, job_state FROM multisample.complete_probe_job('q-priv', 'q-s2', 'q-m1', 0, 'w1', '{}', score => 3, input_tokens => 10);
SELECT outcome, job_state FROM multisample.fail_probe_job('q-priv', 'q-s3', 'q-m1', 0, 'w1', 'BAD', 'bad', false);
SELECT outcome, job_state FROM multisample.fail_probe_job('q-priv', 'q-s4', 'q-m1', 0, 'w1', 'FLAKY', 'flaky', true);
-- Another role's lease: its job cannot be completed, failed, or changed.
SELECT outcome, job_state FROM multisample.complete_probe_job('q-priv', 'q-s1', 'q-m1', 0, 'w2', '{}');
SELECT outcome, job_state FROM multisample.fail_probe_job('q-priv', 'q-s1', 'q-m1', 0, 'w2', 'X', 'x', false);
WITH changed AS (
    UPDATE multisample.probe_jobs SET lease_expires_at = now() + interval '1 day', lease_role = current_user
     WHERE run_id = 'q-priv' AND lease_holder = 'w2' RETURNING 1)
SELECT count(*) AS rows_changed FROM changed;
\set VERBOSITY terse
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index)
VALUES ('q-forged', 'q-priv', 'q-s1', 'q-m1', 0);
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status)
VALUES ('q-priv', 'q-s1', 'q-m1', 0, 'FAILED');
\set VERBOSITY default
-- Forbidden: runs, prices, run control, starting runs.
SELECT pg_temp.err($$UPDATE multisample.runs SET status = 'COMPLETED' WHERE id = 'q-priv'$$);
SELECT pg_temp.err($$UPDATE multisample.model_pricing SET input_price_per_million = 0$$);
SELECT pg_temp.err($$INSERT INTO multisample.model_pricing VALUES ('free', 0, 0)$$);
SELECT pg_temp.err($$SELECT multisample.cancel_run('q-priv')$$);
SELECT pg_temp.err($$SELECT multisample.pause_run('q-priv')$$);
SELECT pg_temp.err($$SELECT multisample.start_run('q-def', ARRAY['q-m1'])$$);
SELECT pg_temp.err($$UPDATE multisample.probe_jobs SET priority = 2 WHERE run_id = 'q-priv'$$);
SELECT pg_temp.err($$UPDATE multisample.probe_jobs SET state = 'CANCELLED' WHERE run_id = 'q-priv' AND state = 'QUEUED'$$);
SELECT pg_temp.err($$UPDATE multisample.probe_jobs SET state = 'PAUSED' WHERE run_id = 'q-priv' AND state = 'QUEUED'$$);
SELECT pg_temp.err($$DELETE FROM multisample.probe_jobs WHERE run_id = 'q-priv'$$);
SELECT pg_temp.err($$DELETE FROM multisample.transcripts WHERE run_id = 'q-priv'$$);
RESET ROLE;
SELECT scenario_id, state, lease_holder, lease_role FROM multisample.probe_jobs
 WHERE run_id = 'q-priv' AND state <> 'QUEUED' ORDER BY scenario_id;
SELECT status FROM multisample.run_status WHERE run_id = 'q-priv';
-- Once the other role's lease runs out, this worker may take the job over.
UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second'
 WHERE run_id = 'q-priv' AND lease_holder = 'w2';
SET ROLE regress_ms_worker;
SELECT scenario_id, sample_index, attempt FROM multisample.claim_probe_jobs('w1', 1);
SELECT outcome, job_state FROM multisample.complete_probe_job('q-priv', 'q-s1', 'q-m1', 0, 'w1', '{}', score => 2);
RESET ROLE;
SELECT scenario_id, state, lease_holder, lease_role FROM multisample.probe_jobs
 WHERE run_id = 'q-priv' AND scenario_id = 'q-s1' AND sample_index = 0;
-- A lease of another role that runs out on the job's last attempt: this
-- worker fails the job for good (LEASE_EXPIRED), as the owner would.
SELECT job_count FROM multisample.start_run('q-one', ARRAY['q-m'], 1, max_attempts => 1, priority => 'HIGH', id => 'q-priv-once');
SET ROLE regress_ms_worker2;
SELECT run_id, attempt, max_attempts FROM multisample.claim_probe_jobs('w2', 1);
RESET ROLE;
UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second' WHERE run_id = 'q-priv-once';
SET ROLE regress_ms_worker;
SELECT multisample.release_expired_leases('w1') AS released;
RESET ROLE;
SELECT j.state, j.lease_holder, j.lease_role, r.status, r.error_code, s.status AS run_status
  FROM multisample.probe_jobs AS j
  JOIN multisample.probe_results AS r USING (run_id, scenario_id, model_id, sample_index)
  JOIN multisample.run_status AS s ON s.run_id = j.run_id
 WHERE j.run_id = 'q-priv-once';
-- The dashboard reads the views and nothing else.
SET ROLE regress_ms_dashboard;
SELECT run_id, status, total, completed, failed, running, queued, percent FROM multisample.run_progress WHERE run_id = 'q-priv';
SELECT model_id, samples FROM multisample.run_model_progress WHERE run_id = 'q-priv';
SELECT v AS view, pg_temp.err(format('SELECT count(*) FROM multisample.%I', v)) AS readable
  FROM unnest(ARRAY['scenario_variance', 'scenario_variance_overall', 'model_variance', 'run_analysis_settings',
                    'transcript_samples', 'transcript_turns', 'transcript_export']) AS v;
SELECT pg_temp.err($$SELECT count(*) FROM multisample.probe_jobs$$);
SELECT pg_temp.err($$SELECT count(*) FROM multisample.transcripts$$);
SELECT pg_temp.err($$SELECT * FROM multisample.claim_probe_jobs('dash')$$);
RESET ROLE;

DROP OWNED BY regress_ms_worker, regress_ms_worker2, regress_ms_dashboard;
DROP ROLE regress_ms_worker;
DROP ROLE regress_ms_worker2;
DROP ROLE regress_ms_dashboard;

-- Give the other tests' runs back.
SELECT count(*) >= 0 AS resumed FROM parked, LATERAL multisample.resume_run(parked.id);

-- progress_bar is always 30 wide whatever the counts (the hostile-input
-- campaign once found a negative count building a 700 MB string); NULL
-- when there is no total.
SELECT multisample.progress_bar(100, 50, 10, 5) AS half_done,
       multisample.progress_bar(1703593701, 101, 1063695281, -41628254006830183) AS negative_running,
       multisample.progress_bar(10, 20, 0, 0) AS over_total,
       multisample.progress_bar(9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807) AS at_bigint_limit,
       multisample.progress_bar(0, 1, 1, 1) IS NULL AS zero_total_is_null;
