-------------------------------------------------------------------------------
-- The queue's functions (claim, complete, fail, release expired leases) and
-- run control (pause, resume, cancel), rewritten for 1.2.
--
-- Locks: workers lock job rows only (a claim with FOR UPDATE SKIP LOCKED,
-- never waiting; a report locks its one job). Run control locks the run row
-- first and then that run's queued or paused jobs, never a running one.
-- Workers never lock runs (their inserts take only a FOR KEY SHARE lock on
-- the run through the foreign keys, which run control's FOR NO KEY UPDATE
-- does not conflict with), so no wait can close a cycle: no deadlock.
--
-- Snapshots: every function here runs at READ COMMITTED only (it refuses
-- other isolation levels with 25000): a claim at REPEATABLE READ would fail
-- on any job changed since its snapshot, and the functions rely on each
-- statement seeing what committed before it.
--
-- Citus: FOR UPDATE is always filtered by one run_id (claims go run by run);
-- now() is read once into a variable, never inside CASE/COALESCE of an
-- UPDATE; no STABLE function over columns in an UPDATE.
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.assert_read_committed(caller text)
RETURNS void
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% runs only at the READ COMMITTED isolation level, not %', caller,
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = '25000',
                  HINT = 'Call it in autocommit mode or in a READ COMMITTED transaction: each of its statements must see what other workers committed before it.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.assert_read_committed(text) IS
    'Raises 25000 unless the transaction runs at READ COMMITTED; the queue and run-control functions call it first.';

-------------------------------------------------------------------------------
-- claim_probe_jobs
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION @extschema@.claim_probe_jobs(
    worker text,
    max_jobs integer DEFAULT 1,
    lease interval DEFAULT '5 minutes')
RETURNS TABLE (
    run_id text,
    scenario_id text,
    model_id text,
    sample_index integer,
    attempt integer,
    max_attempts integer,
    lease_expires_at timestamptz,
    definition_id text,
    scenario_name text,
    scenario_content jsonb)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- Citus: one connection per worker node for the queries across shards
-- (expired leases, the head of the queue). They are short; a second
-- connection, opened when one is slow, is closed again at the end of every
-- call, and under 8 concurrent workers that churn cut claims from 82 to 14
-- jobs/s (bench/citus_queue.sh). Without Citus the setting is an unused placeholder.
SET citus.max_adaptive_executor_pool_size = 1
AS $$
DECLARE
    started timestamptz := now();
    wanted integer := claim_probe_jobs.max_jobs;
    got integer;
    head_priority smallint;
    head_created timestamptz;
    head_run text;
    run_state text;
    inspected integer := 0;
BEGIN
    IF claim_probe_jobs.worker IS NULL OR btrim(claim_probe_jobs.worker) = ''
       OR length(claim_probe_jobs.worker) > 200 THEN
        RAISE EXCEPTION 'worker must be a non-empty name of at most 200 characters'
            USING ERRCODE = '22023', HINT = 'Name the process, e.g. host:pid; complete_probe_job and fail_probe_job must pass the same name.';
    END IF;
    IF claim_probe_jobs.max_jobs IS NULL OR claim_probe_jobs.max_jobs < 1 OR claim_probe_jobs.max_jobs > 1000 THEN
        RAISE EXCEPTION 'max_jobs must be between 1 and 1000, got %', coalesce(claim_probe_jobs.max_jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF claim_probe_jobs.lease IS NULL OR claim_probe_jobs.lease <= interval '0'
       OR claim_probe_jobs.lease > interval '1 day' THEN
        RAISE EXCEPTION 'lease must be greater than 0 and at most 1 day, got %', coalesce(claim_probe_jobs.lease::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'Make it longer than a probe takes; an expired lease lets another worker take the job.';
    END IF;
    PERFORM @extschema@.assert_read_committed('claim_probe_jobs');

    IF EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                WHERE j.state = 'RUNNING' AND j.lease_expires_at <= started) THEN
        PERFORM @extschema@.release_expired_leases(claim_probe_jobs.worker, 100);
    END IF;

    -- The queue, run by run: highest priority first, then the oldest run;
    -- within a run, hand-out order. Paused runs are passed over (a job handed
    -- back while its run is paused waits there, queued). At most 100 runs
    -- are looked at per claim. (The condition on next_attempt_at, a column
    -- the index lacks, makes these plain index scans: an index-only scan
    -- would never mark the entries of claimed jobs dead, and every claim
    -- would step over all of them.)
    SELECT j.priority, j.created_at, j.run_id INTO head_priority, head_created, head_run
      FROM @extschema@.probe_jobs AS j
     WHERE j.state = 'QUEUED' AND j.next_attempt_at <= started
     ORDER BY j.priority DESC, j.created_at, j.run_id
     LIMIT 1;
    WHILE head_run IS NOT NULL AND inspected < 100 LOOP
        inspected := inspected + 1;
        SELECT r.status INTO run_state FROM @extschema@.runs AS r WHERE r.id = head_run;
        IF run_state = 'CANCELLED' THEN
            -- Jobs handed back while their run was being cancelled: cancel
            -- them, so that they leave the queue.
            UPDATE @extschema@.probe_jobs AS j
               SET state = 'CANCELLED', finished_at = started,
                   lease_holder = claim_probe_jobs.worker, lease_role = current_user
             WHERE j.run_id = head_run AND j.state = 'QUEUED';
        ELSIF run_state IS DISTINCT FROM 'PAUSED' THEN
            RETURN QUERY
            WITH picked AS (
                SELECT j.ctid AS tid
                  FROM @extschema@.probe_jobs AS j
                 WHERE j.run_id = head_run AND j.priority = head_priority AND j.created_at = head_created
                   AND j.state = 'QUEUED' AND j.next_attempt_at <= started
                 ORDER BY j.queue_order
                 LIMIT wanted
                   FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE @extschema@.probe_jobs AS j
                   SET state = 'RUNNING', attempts = j.attempts + 1,
                       lease_holder = claim_probe_jobs.worker, lease_role = current_user,
                       lease_expires_at = started + claim_probe_jobs.lease, claimed_at = started,
                       finished_at = NULL
                  FROM picked AS p
                 WHERE j.run_id = head_run AND j.ctid = p.tid
                RETURNING j.run_id, j.scenario_id, j.model_id, j.sample_index, j.attempts, j.max_attempts,
                          j.lease_expires_at, j.queue_order
            )
            SELECT c.run_id, c.scenario_id, c.model_id, c.sample_index, c.attempts, c.max_attempts,
                   c.lease_expires_at, s.definition_id, s.name, s.content
              FROM claimed AS c
              JOIN @extschema@.scenarios AS s ON s.id = c.scenario_id
             ORDER BY c.queue_order;
            GET DIAGNOSTICS got = ROW_COUNT;
            wanted := wanted - got;
            EXIT WHEN wanted = 0;
        END IF;
        -- The next run with queued jobs: same priority and later, then lower.
        SELECT j.created_at, j.run_id INTO head_created, head_run
          FROM @extschema@.probe_jobs AS j
         WHERE j.state = 'QUEUED' AND j.next_attempt_at <= started AND j.priority = head_priority
           AND (j.created_at, j.run_id) > (head_created, head_run)
         ORDER BY j.created_at, j.run_id
         LIMIT 1;
        IF NOT FOUND THEN
            SELECT j.priority, j.created_at, j.run_id INTO head_priority, head_created, head_run
              FROM @extschema@.probe_jobs AS j
             WHERE j.state = 'QUEUED' AND j.next_attempt_at <= started AND j.priority < head_priority
             ORDER BY j.priority DESC, j.created_at, j.run_id
             LIMIT 1;
        END IF;
    END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.claim_probe_jobs(text, integer, interval) IS
'Leases up to max_jobs queued jobs to a worker (highest priority, then oldest run, then hand-out order; run by run with FOR UPDATE SKIP LOCKED), first handing back jobs whose lease ran out; passes over paused and cancelled runs; returns what the worker needs, scenario content included. READ COMMITTED only.';

-------------------------------------------------------------------------------
-- complete_probe_job
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION @extschema@.complete_probe_job(
    run_id text,
    scenario_id text,
    model_id text,
    sample_index integer,
    worker text,
    content jsonb,
    score double precision DEFAULT NULL,
    decision_code text DEFAULT NULL,
    decision_text text DEFAULT NULL,
    input_tokens integer DEFAULT NULL,
    output_tokens integer DEFAULT NULL,
    cost numeric DEFAULT NULL,
    model_version text DEFAULT NULL,
    duration_ms integer DEFAULT NULL,
    attempt integer DEFAULT NULL)
RETURNS TABLE (outcome text, transcript_id text, job_state text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := now();
    job record;
    current_state text;
    new_transcript text;
    the_cost numeric := complete_probe_job.cost;
BEGIN
    IF complete_probe_job.run_id IS NULL OR complete_probe_job.scenario_id IS NULL
       OR complete_probe_job.model_id IS NULL OR complete_probe_job.sample_index IS NULL THEN
        RAISE EXCEPTION 'run_id, scenario_id, model_id and sample_index must not be NULL'
            USING ERRCODE = '22023', HINT = 'Pass the values claim_probe_jobs returned.';
    END IF;
    IF complete_probe_job.worker IS NULL OR btrim(complete_probe_job.worker) = '' THEN
        RAISE EXCEPTION 'worker must be a non-empty name'
            USING ERRCODE = '22023', HINT = 'Pass the name the job was claimed with.';
    END IF;
    IF complete_probe_job.content IS NULL THEN
        RAISE EXCEPTION 'content must not be NULL'
            USING ERRCODE = '22023', HINT = 'Pass the dialogue as jsonb, e.g. {"turns": [...]}.';
    END IF;
    IF NOT (complete_probe_job.score >= -1e15::float8 AND complete_probe_job.score <= 1e15::float8) THEN
        RAISE EXCEPTION 'score must be a finite number between -1e15 and 1e15, got %', complete_probe_job.score
            USING ERRCODE = '22023', HINT = 'Pass NULL when the answer is not judged yet.';
    END IF;
    IF complete_probe_job.input_tokens < 0 THEN
        RAISE EXCEPTION 'input_tokens must be between 0 and 2147483647, got %', complete_probe_job.input_tokens
            USING ERRCODE = '22023';
    END IF;
    IF complete_probe_job.output_tokens < 0 THEN
        RAISE EXCEPTION 'output_tokens must be between 0 and 2147483647, got %', complete_probe_job.output_tokens
            USING ERRCODE = '22023';
    END IF;
    IF NOT (complete_probe_job.cost >= 0 AND complete_probe_job.cost <= 1e15) THEN
        RAISE EXCEPTION 'cost must be a number between 0 and 1e15, got %', complete_probe_job.cost
            USING ERRCODE = '22023', HINT = 'Pass NULL to compute it from the tokens and model_pricing.';
    END IF;
    IF complete_probe_job.duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must be between 0 and 2147483647, got %', complete_probe_job.duration_ms
            USING ERRCODE = '22023';
    END IF;
    IF complete_probe_job.attempt < 1 THEN
        RAISE EXCEPTION 'attempt must be at least 1, got %', complete_probe_job.attempt
            USING ERRCODE = '22023', HINT = 'Pass the attempt claim_probe_jobs returned, or NULL.';
    END IF;
    PERFORM @extschema@.assert_read_committed('complete_probe_job');

    -- The caller's claim: the job is still RUNNING under this worker name
    -- and role (and attempt, when given). A lease that ran out still counts
    -- as long as nobody has taken the job since. (Looked up by the primary
    -- key alone, then checked: a condition on state here would let the
    -- planner pick a partial index of the run.)
    SELECT j.attempts, j.state, j.lease_holder, j.lease_role INTO job
      FROM @extschema@.probe_jobs AS j
     WHERE j.run_id = complete_probe_job.run_id AND j.scenario_id = complete_probe_job.scenario_id
       AND j.model_id = complete_probe_job.model_id AND j.sample_index = complete_probe_job.sample_index
       FOR UPDATE;
    IF NOT FOUND OR job.state <> 'RUNNING' OR job.lease_holder <> complete_probe_job.worker
       OR job.lease_role <> current_user::text
       OR (complete_probe_job.attempt IS NOT NULL AND job.attempts <> complete_probe_job.attempt) THEN
        -- Not the caller's claim. (A worker role may not lock jobs another
        -- role holds, so row-level security hides them above: read again.)
        SELECT j.state INTO current_state
          FROM @extschema@.probe_jobs AS j
         WHERE j.run_id = complete_probe_job.run_id AND j.scenario_id = complete_probe_job.scenario_id
           AND j.model_id = complete_probe_job.model_id AND j.sample_index = complete_probe_job.sample_index;
        IF NOT FOUND THEN
            IF NOT EXISTS (SELECT 1 FROM @extschema@.runs AS r WHERE r.id = complete_probe_job.run_id) THEN
                RAISE EXCEPTION 'run % does not exist', complete_probe_job.run_id USING ERRCODE = 'P0002';
            END IF;
            RAISE EXCEPTION 'run % has no job for scenario %, model %, sample %', complete_probe_job.run_id,
                complete_probe_job.scenario_id, complete_probe_job.model_id, complete_probe_job.sample_index
                USING ERRCODE = 'P0002';
        END IF;
        IF current_state = 'COMPLETED' THEN
            RETURN QUERY
            SELECT 'already_completed'::text, pr.transcript_id, current_state
              FROM @extschema@.probe_results AS pr
             WHERE pr.run_id = complete_probe_job.run_id AND pr.scenario_id = complete_probe_job.scenario_id
               AND pr.model_id = complete_probe_job.model_id AND pr.sample_index = complete_probe_job.sample_index;
            RETURN;
        END IF;
        RETURN QUERY SELECT 'lease_lost'::text, NULL::text, current_state;
        RETURN;
    END IF;

    IF the_cost IS NULL AND (complete_probe_job.input_tokens IS NOT NULL OR complete_probe_job.output_tokens IS NOT NULL) THEN
        SELECT trim_scale((coalesce(complete_probe_job.input_tokens, 0) * p.input_price_per_million
                          + coalesce(complete_probe_job.output_tokens, 0) * p.output_price_per_million) * 0.000001)
          INTO the_cost
          FROM @extschema@.model_pricing AS p
         WHERE p.model_id = complete_probe_job.model_id;
    END IF;

    INSERT INTO @extschema@.transcripts
           (id, run_id, scenario_id, model_id, model_version, sample_index, content,
            input_tokens, output_tokens, cost, decision_code, decision_text, score)
    VALUES (gen_random_uuid()::text, complete_probe_job.run_id, complete_probe_job.scenario_id,
            complete_probe_job.model_id, complete_probe_job.model_version, complete_probe_job.sample_index,
            complete_probe_job.content, complete_probe_job.input_tokens, complete_probe_job.output_tokens,
            the_cost, complete_probe_job.decision_code, complete_probe_job.decision_text, complete_probe_job.score)
    RETURNING id INTO new_transcript;

    INSERT INTO @extschema@.probe_results
           (run_id, scenario_id, model_id, sample_index, status, transcript_id,
            input_tokens, output_tokens, duration_ms, retry_count)
    VALUES (complete_probe_job.run_id, complete_probe_job.scenario_id, complete_probe_job.model_id,
            complete_probe_job.sample_index, 'SUCCESS', new_transcript,
            complete_probe_job.input_tokens, complete_probe_job.output_tokens, complete_probe_job.duration_ms,
            job.attempts - 1);

    UPDATE @extschema@.probe_jobs AS j
       SET state = 'COMPLETED', finished_at = started
     WHERE j.run_id = complete_probe_job.run_id AND j.scenario_id = complete_probe_job.scenario_id
       AND j.model_id = complete_probe_job.model_id AND j.sample_index = complete_probe_job.sample_index;

    RETURN QUERY SELECT 'completed'::text, new_transcript, 'COMPLETED'::text;
END
$$;

COMMENT ON FUNCTION @extschema@.complete_probe_job(text, text, text, integer, text, jsonb, double precision, text, text, integer, integer, numeric, text, integer, integer) IS
'Records a successful probe (transcript with its sample_index, SUCCESS probe result) and closes the job. Idempotent: returns completed, already_completed (nothing changed) or lease_lost (the caller no longer holds the job; nothing changed). READ COMMITTED only.';

-------------------------------------------------------------------------------
-- fail_probe_job
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION @extschema@.fail_probe_job(
    run_id text,
    scenario_id text,
    model_id text,
    sample_index integer,
    worker text,
    error_code text,
    error_message text,
    retryable boolean DEFAULT true,
    attempt integer DEFAULT NULL,
    retry_after interval DEFAULT NULL,
    duration_ms integer DEFAULT NULL)
RETURNS TABLE (outcome text, job_state text, next_attempt_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := now();
    job record;
    msg text := fail_probe_job.error_message;
    cur record;
    delay interval;
    run_state text;
    back_to text;
    finished timestamptz;
BEGIN
    IF fail_probe_job.run_id IS NULL OR fail_probe_job.scenario_id IS NULL
       OR fail_probe_job.model_id IS NULL OR fail_probe_job.sample_index IS NULL THEN
        RAISE EXCEPTION 'run_id, scenario_id, model_id and sample_index must not be NULL'
            USING ERRCODE = '22023', HINT = 'Pass the values claim_probe_jobs returned.';
    END IF;
    IF fail_probe_job.worker IS NULL OR btrim(fail_probe_job.worker) = '' THEN
        RAISE EXCEPTION 'worker must be a non-empty name'
            USING ERRCODE = '22023', HINT = 'Pass the name the job was claimed with.';
    END IF;
    IF fail_probe_job.error_code IS NULL OR btrim(fail_probe_job.error_code) = ''
       OR length(fail_probe_job.error_code) > 200 THEN
        RAISE EXCEPTION 'error_code must be a non-empty code of at most 200 characters'
            USING ERRCODE = '22023', HINT = 'e.g. RATE_LIMITED, TIMEOUT, PROVIDER_ERROR; put details in error_message.';
    END IF;
    IF fail_probe_job.retryable IS NULL THEN
        RAISE EXCEPTION 'retryable must not be NULL'
            USING ERRCODE = '22023', HINT = 'true puts the job back in the queue with backoff; false fails it at once.';
    END IF;
    IF fail_probe_job.retry_after < interval '0' OR fail_probe_job.retry_after > interval '1 day' THEN
        RAISE EXCEPTION 'retry_after must be between 0 and 1 day, got %', fail_probe_job.retry_after
            USING ERRCODE = '22023', HINT = 'NULL means exponential backoff: 10 s x 2^(attempt - 1), at most 1 hour.';
    END IF;
    IF fail_probe_job.duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must be between 0 and 2147483647, got %', fail_probe_job.duration_ms
            USING ERRCODE = '22023';
    END IF;
    IF fail_probe_job.attempt < 1 THEN
        RAISE EXCEPTION 'attempt must be at least 1, got %', fail_probe_job.attempt
            USING ERRCODE = '22023', HINT = 'Pass the attempt claim_probe_jobs returned, or NULL.';
    END IF;
    PERFORM @extschema@.assert_read_committed('fail_probe_job');
    -- Messages are kept whole up to 10000 characters.
    IF length(msg) > 10000 THEN
        msg := left(msg, 10000) || format(' [truncated: %s characters in all]', length(msg));
    END IF;

    -- By the primary key alone, then checked (see complete_probe_job).
    SELECT j.attempts, j.max_attempts, j.state, j.lease_holder, j.lease_role INTO job
      FROM @extschema@.probe_jobs AS j
     WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
       AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index
       FOR UPDATE;
    IF NOT FOUND OR job.state <> 'RUNNING' OR job.lease_holder <> fail_probe_job.worker
       OR job.lease_role <> current_user::text
       OR (fail_probe_job.attempt IS NOT NULL AND job.attempts <> fail_probe_job.attempt) THEN
        SELECT j.state, j.lease_holder, j.lease_role, j.attempts, j.next_attempt_at INTO cur
          FROM @extschema@.probe_jobs AS j
         WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
           AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index;
        IF NOT FOUND THEN
            IF NOT EXISTS (SELECT 1 FROM @extschema@.runs AS r WHERE r.id = fail_probe_job.run_id) THEN
                RAISE EXCEPTION 'run % does not exist', fail_probe_job.run_id USING ERRCODE = 'P0002';
            END IF;
            RAISE EXCEPTION 'run % has no job for scenario %, model %, sample %', fail_probe_job.run_id,
                fail_probe_job.scenario_id, fail_probe_job.model_id, fail_probe_job.sample_index
                USING ERRCODE = 'P0002';
        END IF;
        IF cur.state = 'COMPLETED' THEN
            RETURN QUERY SELECT 'already_completed'::text, cur.state, NULL::timestamptz;
        ELSIF cur.state = 'FAILED' AND cur.lease_holder = fail_probe_job.worker
              AND cur.lease_role = current_user::text
              AND (fail_probe_job.attempt IS NULL OR cur.attempts = fail_probe_job.attempt) THEN
            RETURN QUERY SELECT 'already_failed'::text, cur.state, NULL::timestamptz;
        ELSE
            RETURN QUERY SELECT 'lease_lost'::text, cur.state,
                                CASE WHEN cur.state IN ('QUEUED', 'PAUSED') THEN cur.next_attempt_at END;
        END IF;
        RETURN;
    END IF;

    IF fail_probe_job.retryable AND job.attempts < job.max_attempts THEN
        delay := coalesce(fail_probe_job.retry_after,
                          least(interval '10 seconds' * power(2, job.attempts - 1), interval '1 hour'));
        -- Back to the queue of its run (where, if the run is paused, it
        -- waits: claims pass over paused runs); a cancelled run cancels it.
        SELECT r.status INTO run_state FROM @extschema@.runs AS r WHERE r.id = fail_probe_job.run_id;
        back_to := CASE WHEN run_state = 'CANCELLED' THEN 'CANCELLED' ELSE 'QUEUED' END;
        finished := CASE WHEN back_to = 'CANCELLED' THEN started END;
        UPDATE @extschema@.probe_jobs AS j
           SET state = back_to, next_attempt_at = started + delay, finished_at = finished,
               last_error_code = fail_probe_job.error_code, last_error_message = msg
         WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
           AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index;
        RETURN QUERY SELECT 'retry_scheduled'::text, back_to, started + delay;
        RETURN;
    END IF;

    INSERT INTO @extschema@.probe_results
           (run_id, scenario_id, model_id, sample_index, status, duration_ms, error_code, error_message, retry_count)
    VALUES (fail_probe_job.run_id, fail_probe_job.scenario_id, fail_probe_job.model_id, fail_probe_job.sample_index,
            'FAILED', fail_probe_job.duration_ms, fail_probe_job.error_code, msg, job.attempts - 1);
    UPDATE @extschema@.probe_jobs AS j
       SET state = 'FAILED', finished_at = started,
           last_error_code = fail_probe_job.error_code, last_error_message = msg
     WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
       AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index;
    RETURN QUERY SELECT 'failed'::text, 'FAILED'::text, NULL::timestamptz;
END
$$;

COMMENT ON FUNCTION @extschema@.fail_probe_job(text, text, text, integer, text, text, text, boolean, integer, interval, integer) IS
'Records a failed attempt: retryable ones go back to the queue with exponential backoff until max_attempts (CANCELLED when the run is), then (or at once when not retryable) the job is FAILED with a FAILED probe result. Returns retry_scheduled, failed, already_failed, already_completed or lease_lost. READ COMMITTED only.';

-------------------------------------------------------------------------------
-- release_expired_leases
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION @extschema@.release_expired_leases(
    worker text DEFAULT 'release_expired_leases',
    max_jobs integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- Citus: one connection per worker node for the queries across shards
-- (expired leases, the head of the queue). They are short; a second
-- connection, opened when one is slow, is closed again at the end of every
-- call, and under 8 concurrent workers that churn cut claims from 82 to 14
-- jobs/s (bench/citus_queue.sh). Without Citus the setting is an unused placeholder.
SET citus.max_adaptive_executor_pool_size = 1
AS $$
DECLARE
    started timestamptz := now();
    handled integer := 0;
    expired_run record;
    job record;
    run_state text;
    result_status text;
    result_transcript text;
    live_transcript text;
    back_to text;
    finished timestamptz;
    msg text;
    n integer;
BEGIN
    IF release_expired_leases.worker IS NULL OR btrim(release_expired_leases.worker) = ''
       OR length(release_expired_leases.worker) > 200 THEN
        RAISE EXCEPTION 'worker must be a non-empty name of at most 200 characters'
            USING ERRCODE = '22023', HINT = 'Name the process, e.g. host:pid.';
    END IF;
    IF release_expired_leases.max_jobs IS NULL OR release_expired_leases.max_jobs < 1
       OR release_expired_leases.max_jobs > 100000 THEN
        RAISE EXCEPTION 'max_jobs must be between 1 and 100000, got %', coalesce(release_expired_leases.max_jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.assert_read_committed('release_expired_leases');

    -- Run by run (FOR UPDATE within one run, as Citus requires).
    FOR expired_run IN
        SELECT DISTINCT j.run_id
          FROM @extschema@.probe_jobs AS j
         WHERE j.state = 'RUNNING' AND j.lease_expires_at <= started
    LOOP
        EXIT WHEN handled >= release_expired_leases.max_jobs;
        SELECT r.status INTO run_state FROM @extschema@.runs AS r WHERE r.id = expired_run.run_id;
        FOR job IN
            SELECT j.scenario_id, j.model_id, j.sample_index, j.attempts, j.max_attempts, j.lease_holder
              FROM @extschema@.probe_jobs AS j
             WHERE j.run_id = expired_run.run_id AND j.state = 'RUNNING' AND j.lease_expires_at <= started
             ORDER BY j.lease_expires_at
             LIMIT release_expired_leases.max_jobs - handled
               FOR UPDATE SKIP LOCKED
        LOOP
            -- What the job already has: a probe result, a live transcript.
            SELECT pr.status, pr.transcript_id INTO result_status, result_transcript
              FROM @extschema@.probe_results AS pr
             WHERE pr.run_id = expired_run.run_id AND pr.scenario_id = job.scenario_id
               AND pr.model_id = job.model_id AND pr.sample_index = job.sample_index;
            IF NOT FOUND THEN
                result_status := NULL;
            END IF;
            SELECT t.id INTO live_transcript
              FROM @extschema@.transcripts AS t
             WHERE t.run_id = expired_run.run_id AND t.scenario_id = job.scenario_id
               AND t.model_id = job.model_id AND t.sample_index = job.sample_index AND t.deleted_at IS NULL;
            IF NOT FOUND THEN
                live_transcript := NULL;
            END IF;

            IF result_status IS NOT NULL THEN
                -- The outcome is recorded: the job finishes with it. (A
                -- SUCCESS result without its live transcript can only be a
                -- run manager's doing; it is left to the manager.)
                CONTINUE WHEN result_status = 'SUCCESS' AND result_transcript IS DISTINCT FROM live_transcript;
                UPDATE @extschema@.probe_jobs AS j
                   SET state = CASE WHEN result_status = 'SUCCESS' THEN 'COMPLETED' ELSE 'FAILED' END,
                       finished_at = started, lease_holder = release_expired_leases.worker, lease_role = current_user
                 WHERE j.run_id = expired_run.run_id AND j.scenario_id = job.scenario_id
                   AND j.model_id = job.model_id AND j.sample_index = job.sample_index;
            ELSIF live_transcript IS NOT NULL THEN
                -- An answer recorded without its result: the sample is done;
                -- take the job over and record the result that names it.
                UPDATE @extschema@.probe_jobs AS j
                   SET lease_holder = release_expired_leases.worker, lease_role = current_user
                 WHERE j.run_id = expired_run.run_id AND j.scenario_id = job.scenario_id
                   AND j.model_id = job.model_id AND j.sample_index = job.sample_index;
                INSERT INTO @extschema@.probe_results
                       (run_id, scenario_id, model_id, sample_index, status, transcript_id, retry_count)
                VALUES (expired_run.run_id, job.scenario_id, job.model_id, job.sample_index, 'SUCCESS',
                        live_transcript, job.attempts - 1)
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS n = ROW_COUNT;
                CONTINUE WHEN n = 0;
                UPDATE @extschema@.probe_jobs AS j
                   SET state = 'COMPLETED', finished_at = started
                 WHERE j.run_id = expired_run.run_id AND j.scenario_id = job.scenario_id
                   AND j.model_id = job.model_id AND j.sample_index = job.sample_index;
            ELSIF job.attempts < job.max_attempts THEN
                -- Attempts left: back to the queue at once (cancelled with
                -- a cancelled run). The lease holder's name stays, so the
                -- expired worker's late report is recognised as lost.
                back_to := CASE WHEN run_state = 'CANCELLED' THEN 'CANCELLED' ELSE 'QUEUED' END;
                finished := CASE WHEN back_to = 'CANCELLED' THEN started END;
                msg := format('the lease of worker %s ran out before it reported (attempt %s of %s)',
                              left(job.lease_holder, 200), job.attempts, job.max_attempts);
                UPDATE @extschema@.probe_jobs AS j
                   SET state = back_to, next_attempt_at = started, finished_at = finished,
                       last_error_code = 'LEASE_EXPIRED', last_error_message = msg,
                       lease_role = current_user
                 WHERE j.run_id = expired_run.run_id AND j.scenario_id = job.scenario_id
                   AND j.model_id = job.model_id AND j.sample_index = job.sample_index;
            ELSE
                -- The last attempt: the job fails for good. Take the lease
                -- over first, so this role may write the FAILED result.
                msg := format('the lease ran out on the last of %s attempts', job.max_attempts);
                UPDATE @extschema@.probe_jobs AS j
                   SET lease_holder = release_expired_leases.worker, lease_role = current_user
                 WHERE j.run_id = expired_run.run_id AND j.scenario_id = job.scenario_id
                   AND j.model_id = job.model_id AND j.sample_index = job.sample_index;
                INSERT INTO @extschema@.probe_results
                       (run_id, scenario_id, model_id, sample_index, status, error_code, error_message, retry_count)
                VALUES (expired_run.run_id, job.scenario_id, job.model_id, job.sample_index, 'FAILED',
                        'LEASE_EXPIRED', msg, job.attempts - 1)
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS n = ROW_COUNT;
                CONTINUE WHEN n = 0;
                UPDATE @extschema@.probe_jobs AS j
                   SET state = 'FAILED', finished_at = started,
                       last_error_code = 'LEASE_EXPIRED', last_error_message = msg
                 WHERE j.run_id = expired_run.run_id AND j.scenario_id = job.scenario_id
                   AND j.model_id = job.model_id AND j.sample_index = job.sample_index;
            END IF;
            handled := handled + 1;
        END LOOP;
    END LOOP;
    RETURN handled;
END
$$;

COMMENT ON FUNCTION @extschema@.release_expired_leases(text, integer) IS
'Deals with jobs whose lease ran out: one whose outcome is recorded finishes with it, one with attempts left goes back to the queue (LEASE_EXPIRED), one on its last attempt fails for good; returns how many it handled. claim_probe_jobs calls it; a maintenance job may too. READ COMMITTED only.';

-------------------------------------------------------------------------------
-- Run control: the run row first, then its queued or paused jobs.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.lock_run(caller text, run_id text, OUT stored_status text, OUT status text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@.assert_read_committed(caller);
    SELECT r.status INTO stored_status FROM @extschema@.runs AS r WHERE r.id = lock_run.run_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', lock_run.run_id USING ERRCODE = 'P0002';
    END IF;
    -- Read after the lock: the jobs as committed by everyone before it.
    SELECT s.status INTO status FROM @extschema@.run_status AS s WHERE s.run_id = lock_run.run_id;
END
$$;
COMMENT ON FUNCTION @extschema@.lock_run(text, text) IS
    'Run control''s first step (pause_run, resume_run, cancel_run, and adding samples): READ COMMITTED only, locks the run''s row (FOR NO KEY UPDATE; P0002 if there is none) and returns its stored and its derived status.';

CREATE OR REPLACE FUNCTION @extschema@.pause_run(run_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    run record := @extschema@.lock_run('pause_run', pause_run.run_id);
    n integer;
BEGIN
    IF run.stored_status = 'PAUSED' THEN
        RETURN 0;
    END IF;
    IF run.status NOT IN ('PENDING', 'RUNNING') THEN
        RAISE EXCEPTION 'run % is %; only a PENDING or RUNNING run can be paused', pause_run.run_id, run.status
            USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.runs AS r SET status = 'PAUSED' WHERE r.id = pause_run.run_id;
    UPDATE @extschema@.probe_jobs AS j SET state = 'PAUSED'
     WHERE j.run_id = pause_run.run_id AND j.state = 'QUEUED';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION @extschema@.pause_run(text) IS
'Pauses a run: its queued jobs become PAUSED and no job of it is handed out; running jobs finish normally (their retries wait in the paused run). Returns the number of jobs paused (0 if already paused). READ COMMITTED only.';

CREATE OR REPLACE FUNCTION @extschema@.resume_run(run_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    run record := @extschema@.lock_run('resume_run', resume_run.run_id);
    n integer;
BEGIN
    IF run.stored_status <> 'PAUSED' THEN
        IF run.status IN ('PENDING', 'RUNNING') THEN
            RETURN 0;
        END IF;
        RAISE EXCEPTION 'run % is %; only a PAUSED run can be resumed', resume_run.run_id, run.status
            USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.runs AS r SET status = 'PENDING' WHERE r.id = resume_run.run_id;
    UPDATE @extschema@.probe_jobs AS j SET state = 'QUEUED'
     WHERE j.run_id = resume_run.run_id AND j.state = 'PAUSED';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION @extschema@.resume_run(text) IS
'Resumes a paused run: its PAUSED jobs are queued again (keeping their backoff) and its status follows its jobs again. Returns the number of jobs queued (0 if the run was not paused). READ COMMITTED only.';

CREATE OR REPLACE FUNCTION @extschema@.cancel_run(run_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := now();
    run record := @extschema@.lock_run('cancel_run', cancel_run.run_id);
    n integer;
BEGIN
    IF run.stored_status = 'CANCELLED' THEN
        RETURN 0;
    END IF;
    IF run.status NOT IN ('PENDING', 'RUNNING', 'PAUSED') THEN
        RAISE EXCEPTION 'run % is %; only a PENDING, RUNNING or PAUSED run can be cancelled', cancel_run.run_id, run.status
            USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.runs AS r SET status = 'CANCELLED', completed_at = started WHERE r.id = cancel_run.run_id;
    UPDATE @extschema@.probe_jobs AS j SET state = 'CANCELLED', finished_at = started
     WHERE j.run_id = cancel_run.run_id AND j.state IN ('QUEUED', 'PAUSED');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION @extschema@.cancel_run(text) IS
'Cancels a run: its queued and paused jobs become CANCELLED; running jobs may still report (a success is kept, a retry is cancelled). Returns the number of jobs cancelled (0 if already cancelled). READ COMMITTED only.';
