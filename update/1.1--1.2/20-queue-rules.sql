-------------------------------------------------------------------------------
-- The queue's rules (SPEC 12.1): who may move a job, and how.
--
-- 1.1 kept runs.status in step with two SECURITY DEFINER triggers: a worker's
-- claim or report made the table owner (the bootstrap superuser under a
-- trusted install) write the run, and took the run's row lock in the opposite
-- order to pause_run/cancel_run (deadlocks). In 1.2 nothing runs with another
-- role's rights and no trigger writes anything but the row being written:
--
-- * A run's RUNNING/COMPLETED status, started_at and completed_at are derived
--   from its jobs (view run_status); runs.status keeps only what a person
--   sets (PAUSED, CANCELLED; PENDING = left to its jobs). Workers never write
--   runs, so workers lock only job rows and run control locks the run row
--   before its jobs: one lock order, no deadlock.
-- * BEFORE triggers, running with the caller's rights, check every change:
--   for everyone, a finished job stays finished, a job is COMPLETED only with
--   its SUCCESS result and live transcript and FAILED only with its FAILED
--   result, and a job with an outcome is never handed back; for a worker
--   (a role without UPDATE on runs) also that it only claims queued jobs
--   of runs that are not paused or cancelled, changes only jobs its role
--   holds (or whose lease ran out), keeps every attempt counted, holds a job
--   at most 1 day after its claim (renewals included), waits at most 1 day
--   before a retry, cancels a job only when its run is cancelled, never
--   pauses one, and records transcripts and results only for jobs its role
--   holds.
-- * Pausing is the run manager's: pause_run parks the run's queued jobs
--   (PAUSED) and claims pass over paused runs, so a job a worker hands back
--   meanwhile simply waits, queued, in the paused run; the worker never has
--   to decide between QUEUED and PAUSED on a status that may change under
--   it. Cancelling is final, so a worker may act on it.
-- * A queued or paused job always has an attempt left (a CHECK), so a claim
--   can never raise on its attempts: the last attempt of a job ends in an
--   outcome (failed for good, with a probe result saying why).
-- * Row-level security policies hold no subquery (Citus distributes them);
--   what needs another table is in the triggers.
-------------------------------------------------------------------------------

-- The 1.1 triggers and their SECURITY DEFINER functions go first, so that
-- the repairs below run without them.
DO $drop_definer_triggers$
DECLARE
    unsafe_triggers text := pg_catalog.current_setting('citus.enable_unsafe_triggers', true);
BEGIN
    IF NOT @extschema@.applies_table_changes() THEN
        RETURN;
    END IF;
    -- Citus changes the triggers of a distributed table (and its shards)
    -- only when told so; set back at the end of the block.
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;
    EXECUTE 'DROP TRIGGER probe_jobs_sync_run ON @extschema@.probe_jobs';
    EXECUTE 'DROP TRIGGER probe_jobs_check_transition ON @extschema@.probe_jobs';
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    END IF;
END
$drop_definer_triggers$;
DROP FUNCTION @extschema@.probe_jobs_sync_run();
DROP FUNCTION @extschema@.probe_jobs_check_transition();

-------------------------------------------------------------------------------
-- Repairs of job states that 1.1 let a worker create (each reported).
-------------------------------------------------------------------------------
DO $repair_jobs$
DECLARE
    n bigint;
    names text;
BEGIN
    IF NOT @extschema@.applies_table_changes() THEN
        RETURN;
    END IF;

    -- A probe result that names a transcript of another sample (1.0 allowed
    -- it; the 1.1 upgrade then gave the result that transcript's index).
    WITH unlinked AS (
        UPDATE @extschema@.probe_results AS r
           SET transcript_id = NULL
          FROM @extschema@.transcripts AS t
         WHERE t.run_id = r.run_id AND t.id = r.transcript_id
           AND (t.scenario_id, t.model_id, t.sample_index)
               IS DISTINCT FROM (r.scenario_id, r.model_id, r.sample_index)
        RETURNING r.run_id, r.scenario_id, r.model_id, r.sample_index)
    SELECT pg_catalog.count(*),
           pg_catalog.string_agg(pg_catalog.format('(%L, %L, %L, %s)', run_id, scenario_id, model_id, sample_index), ', ')
      INTO n, names FROM unlinked;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % probe result(s) named the transcript of another sample; the link was removed: %', n, names
            USING HINT = 'A probe result names the transcript of its own run, scenario, model and sample_index.';
    END IF;

    -- Unfinished jobs whose outcome is already recorded finish with it.
    WITH outcome AS (
        SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index,
               CASE WHEN r.status = 'FAILED' THEN 'FAILED'
                    WHEN t.id IS NOT NULL THEN 'COMPLETED' END AS new_state
          FROM @extschema@.probe_jobs AS j
          JOIN @extschema@.probe_results AS r
            ON r.run_id = j.run_id AND r.scenario_id = j.scenario_id
           AND r.model_id = j.model_id AND r.sample_index = j.sample_index
          LEFT JOIN @extschema@.transcripts AS t
            ON t.run_id = r.run_id AND t.id = r.transcript_id
           AND t.deleted_at IS NULL
         WHERE j.state = ANY (ARRAY['QUEUED', 'RUNNING', 'PAUSED'])
    ), finished AS (
        UPDATE @extschema@.probe_jobs AS j
           SET state = o.new_state, finished_at = pg_catalog.now()
          FROM outcome AS o
         WHERE o.new_state IS NOT NULL
           AND (j.run_id, j.scenario_id, j.model_id, j.sample_index)
               = (o.run_id, o.scenario_id, o.model_id, o.sample_index)
        RETURNING j.run_id, j.scenario_id, j.model_id, j.sample_index, j.state)
    SELECT pg_catalog.count(*),
           pg_catalog.string_agg(pg_catalog.format('(%L, %L, %L, %s) %s', run_id, scenario_id, model_id, sample_index, state), ', ')
      INTO n, names FROM finished;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % unfinished job(s) already had their outcome recorded; they were finished with it: %', n, names;
    END IF;

    -- A SUCCESS result of an unfinished job without a live transcript is no
    -- outcome at all: it is removed, and the job probed again.
    WITH removed AS (
        DELETE FROM @extschema@.probe_results AS r
         USING @extschema@.probe_jobs AS j
         WHERE (j.run_id, j.scenario_id, j.model_id, j.sample_index)
               = (r.run_id, r.scenario_id, r.model_id, r.sample_index)
           AND j.state = ANY (ARRAY['QUEUED', 'RUNNING', 'PAUSED'])
        RETURNING r.run_id, r.scenario_id, r.model_id, r.sample_index)
    SELECT pg_catalog.count(*),
           pg_catalog.string_agg(pg_catalog.format('(%L, %L, %L, %s)', run_id, scenario_id, model_id, sample_index), ', ')
      INTO n, names FROM removed;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: removed % SUCCESS probe result(s) of unfinished jobs that named no live transcript: %', n, names;
    END IF;

    -- A live transcript of an unfinished job without a result was written
    -- outside complete_probe_job; it would make the job's real completion
    -- fail. It is deleted (deleted_at), and the job probed again.
    WITH stray AS (
        UPDATE @extschema@.transcripts AS t
           SET deleted_at = pg_catalog.now()
          FROM @extschema@.probe_jobs AS j
         WHERE (j.run_id, j.scenario_id, j.model_id, j.sample_index)
               = (t.run_id, t.scenario_id, t.model_id, t.sample_index)
           AND j.state = ANY (ARRAY['QUEUED', 'RUNNING', 'PAUSED'])
           AND t.deleted_at IS NULL
        RETURNING t.run_id, t.id)
    SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%L in run %L', id, run_id), ', ')
      INTO n, names FROM stray;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % live transcript(s) of unfinished jobs had no probe result; they were marked deleted: %', n, names;
    END IF;

    -- Queued or paused jobs without an attempt left wedged every claim in
    -- 1.1; they fail for good, with a result that says why.
    WITH exhausted AS (
        SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index, j.attempts
          FROM @extschema@.probe_jobs AS j
         WHERE j.state = ANY (ARRAY['QUEUED', 'PAUSED'])
           AND j.attempts >= j.max_attempts
    ), results AS (
        INSERT INTO @extschema@.probe_results
               (run_id, scenario_id, model_id, sample_index, status, error_code, error_message, retry_count)
        SELECT e.run_id, e.scenario_id, e.model_id, e.sample_index, 'FAILED', 'NO_ATTEMPTS_LEFT',
               'the job was queued with no attempt left (repaired by the 1.2 upgrade)',
               greatest(e.attempts - 1, 0)
          FROM exhausted AS e
        RETURNING 1
    ), failed AS (
        UPDATE @extschema@.probe_jobs AS j
           SET state = 'FAILED', finished_at = pg_catalog.now(), last_error_code = 'NO_ATTEMPTS_LEFT',
               last_error_message = 'the job was queued with no attempt left (repaired by the 1.2 upgrade)'
          FROM exhausted AS e
         WHERE (j.run_id, j.scenario_id, j.model_id, j.sample_index)
               = (e.run_id, e.scenario_id, e.model_id, e.sample_index)
        RETURNING j.run_id, j.scenario_id, j.model_id, j.sample_index)
    SELECT pg_catalog.count(*),
           pg_catalog.string_agg(pg_catalog.format('(%L, %L, %L, %s)', f.run_id, f.scenario_id, f.model_id, f.sample_index), ', ')
      INTO n, names FROM failed AS f;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % queued or paused job(s) had no attempt left; they failed for good (NO_ATTEMPTS_LEFT): %', n, names;
    END IF;

    -- Waits and leases beyond the 1.2 maxima (a retry in at most 1 day, a
    -- lease of at most 1 day).
    UPDATE @extschema@.probe_jobs
       SET next_attempt_at = pg_catalog.now()
     WHERE state = ANY (ARRAY['QUEUED', 'PAUSED'])
       AND next_attempt_at > pg_catalog.now() + '1 day'::pg_catalog.interval;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % queued job(s) waited more than a day for their next attempt; they may be claimed now', n;
    END IF;
    UPDATE @extschema@.probe_jobs
       SET lease_expires_at = pg_catalog.now() + '1 day'::pg_catalog.interval
     WHERE state = 'RUNNING'
       AND lease_expires_at > pg_catalog.now() + '1 day'::pg_catalog.interval;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % lease(s) ran longer than a day from now; they now end in a day', n;
    END IF;

    -- When a job was first claimed: a run's started_at derives from it.
    EXECUTE 'ALTER TABLE @extschema@.probe_jobs ADD COLUMN first_claimed_at timestamptz';
    UPDATE @extschema@.probe_jobs
       SET first_claimed_at = claimed_at
     WHERE attempts > 0;

    EXECUTE $ddl$
        ALTER TABLE @extschema@.probe_jobs
            ADD CONSTRAINT probe_jobs_open_attempts_check CHECK (
                state <> ALL (ARRAY['QUEUED', 'PAUSED'])
                OR attempts < max_attempts)
    $ddl$;

    -- Claims walk the queue run by run (as Citus requires of FOR UPDATE):
    -- the runs with queued jobs by priority and age (probe_jobs_claim_idx),
    -- then a run's queued jobs in hand-out order (probe_jobs_open_idx, which
    -- no longer holds running jobs: a claim would step over every job of the
    -- run still running, and a claimed job would enter it again).
    EXECUTE 'DROP INDEX @extschema@.probe_jobs_claim_idx';
    EXECUTE $ddl$
        CREATE INDEX probe_jobs_claim_idx
            ON @extschema@.probe_jobs (priority DESC, created_at, run_id, queue_order)
         WHERE state = 'QUEUED'
    $ddl$;
    EXECUTE 'DROP INDEX @extschema@.probe_jobs_open_idx';
    EXECUTE $ddl$
        CREATE INDEX probe_jobs_open_idx
            ON @extschema@.probe_jobs (run_id, queue_order)
         WHERE state = ANY (ARRAY['QUEUED', 'PAUSED'])
    $ddl$;
END
$repair_jobs$;

COMMENT ON COLUMN @extschema@.probe_jobs.first_claimed_at IS 'When the job was first claimed (set by the trigger probe_jobs_guard, never by the caller); a run''s started_at derives from it.';
COMMENT ON COLUMN @extschema@.probe_jobs.attempts IS 'How many times the job has been claimed; the current claim''s attempt number. Never decreases; a queued or paused job always has one left (attempts < max_attempts).';
COMMENT ON INDEX @extschema@.probe_jobs_claim_idx IS 'Queued jobs by priority, age and run, then in hand-out order: a claim finds the next run with work here.';
COMMENT ON INDEX @extschema@.probe_jobs_open_idx IS 'Queued and paused jobs of a run in hand-out order: a claim takes a run''s jobs from its head; pause, resume and cancel find them here.';

-------------------------------------------------------------------------------
-- probe_jobs_guard: every change of a job.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.probe_jobs_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := now();
    -- What counts as "now" for the times a worker writes. On one node the
    -- trigger runs in the caller's transaction: exactly now(). On a Citus
    -- shard it runs in the worker node's part of the distributed
    -- transaction, which began a little after the coordinator's, whose
    -- now() the functions wrote: there, the node's now() give or take a
    -- minute (longer only for a transaction held open a minute before it
    -- reached this node, or for clocks that are not synchronised).
    slack interval := CASE WHEN TG_RELID = '@extschema@.probe_jobs'::regclass
                           THEN interval '0' ELSE interval '1 minute' END;
    now_from timestamptz := started - slack;
    now_to timestamptz := started + slack;
    job text := format('probe job (%s, %s, %s, %s)', quote_literal(OLD.run_id), quote_literal(OLD.scenario_id),
                       quote_literal(OLD.model_id), OLD.sample_index);
    run_status text;
    holds boolean;
BEGIN
    -- Rules for every role.
    IF OLD.state IN ('COMPLETED', 'FAILED', 'CANCELLED') AND NEW.state IS DISTINCT FROM OLD.state THEN
        RAISE EXCEPTION '% is %; a finished job cannot change state', job, OLD.state
            USING ERRCODE = '23514', HINT = 'Add samples to the run instead (top_up_run, add_samples).';
    END IF;
    IF NEW.state = 'COMPLETED' AND OLD.state <> 'COMPLETED' AND NOT EXISTS (
        SELECT 1
          FROM @extschema@.probe_results AS pr
          JOIN @extschema@.transcripts AS t ON t.run_id = pr.run_id AND t.id = pr.transcript_id
         WHERE pr.run_id = NEW.run_id AND pr.scenario_id = NEW.scenario_id
           AND pr.model_id = NEW.model_id AND pr.sample_index = NEW.sample_index
           AND pr.status = 'SUCCESS'
           AND t.scenario_id = NEW.scenario_id AND t.model_id = NEW.model_id
           AND t.sample_index = NEW.sample_index AND t.deleted_at IS NULL)
    THEN
        RAISE EXCEPTION '% cannot be COMPLETED without a SUCCESS probe result naming its live transcript', job
            USING ERRCODE = '23514', HINT = 'Record successes with multisample.complete_probe_job().';
    END IF;
    IF NEW.state = 'FAILED' AND OLD.state <> 'FAILED' AND NOT EXISTS (
        SELECT 1
          FROM @extschema@.probe_results AS pr
         WHERE pr.run_id = NEW.run_id AND pr.scenario_id = NEW.scenario_id
           AND pr.model_id = NEW.model_id AND pr.sample_index = NEW.sample_index
           AND pr.status = 'FAILED')
    THEN
        RAISE EXCEPTION '% cannot be FAILED without a FAILED probe result', job
            USING ERRCODE = '23514', HINT = 'Record failures with multisample.fail_probe_job().';
    END IF;
    IF OLD.state = 'RUNNING' AND NEW.state IN ('QUEUED', 'PAUSED', 'CANCELLED') AND (
        EXISTS (SELECT 1 FROM @extschema@.probe_results AS pr
                 WHERE pr.run_id = OLD.run_id AND pr.scenario_id = OLD.scenario_id
                   AND pr.model_id = OLD.model_id AND pr.sample_index = OLD.sample_index)
        OR EXISTS (SELECT 1 FROM @extschema@.transcripts AS t
                    WHERE t.run_id = OLD.run_id AND t.scenario_id = OLD.scenario_id
                      AND t.model_id = OLD.model_id AND t.sample_index = OLD.sample_index
                      AND t.deleted_at IS NULL))
    THEN
        RAISE EXCEPTION '% has a recorded outcome (a probe result or a live transcript); it cannot be handed back', job
            USING ERRCODE = '23514', HINT = 'Finish it with multisample.complete_probe_job() or multisample.fail_probe_job().';
    END IF;
    -- When the job was first claimed is kept here, never taken from the caller.
    NEW.first_claimed_at := CASE WHEN OLD.state = 'QUEUED' AND NEW.state = 'RUNNING'
                                 THEN coalesce(OLD.first_claimed_at, started) ELSE OLD.first_claimed_at END;

    -- Run managers (UPDATE on runs) are trusted with their runs.
    IF has_table_privilege('@extschema@.runs'::regclass, 'UPDATE') THEN
        RETURN NEW;
    END IF;

    -- Rules for a worker.
    IF (NEW.run_id, NEW.scenario_id, NEW.model_id, NEW.sample_index, NEW.priority, NEW.queue_order,
        NEW.max_attempts, NEW.created_at)
       IS DISTINCT FROM
       (OLD.run_id, OLD.scenario_id, OLD.model_id, OLD.sample_index, OLD.priority, OLD.queue_order,
        OLD.max_attempts, OLD.created_at) THEN
        RAISE EXCEPTION 'a worker may not change the key, priority, order, max_attempts or created_at of %', job
            USING ERRCODE = '42501', HINT = 'Only run managers (roles with UPDATE on multisample.runs) may.';
    END IF;
    -- What the worker writes is checked, not what the row held before (a
    -- value a run manager or 1.1 left there must not stop everybody's claims
    -- and releases, which keep it).
    IF NEW.lease_role IS DISTINCT FROM current_user::text
       OR (NEW.lease_holder IS DISTINCT FROM OLD.lease_holder
           AND (NEW.lease_holder IS NULL OR btrim(NEW.lease_holder) = '' OR length(NEW.lease_holder) > 200)) THEN
        RAISE EXCEPTION 'a worker must hold % under its own role (lease_role = current_user) and a worker name of 1 to 200 characters', job
            USING ERRCODE = '42501';
    END IF;
    IF (NEW.last_error_code IS DISTINCT FROM OLD.last_error_code AND length(NEW.last_error_code) > 200)
       OR (NEW.last_error_message IS DISTINCT FROM OLD.last_error_message AND length(NEW.last_error_message) > 10100) THEN
        RAISE EXCEPTION 'the error of % must be a code of at most 200 characters and a message of at most 10100', job
            USING ERRCODE = '42501', HINT = 'multisample.fail_probe_job() truncates long messages.';
    END IF;

    IF OLD.state = 'QUEUED' AND NEW.state = 'RUNNING' THEN
        -- A claim: one attempt more, a lease of at most 1 day, nothing else.
        IF NEW.attempts <> OLD.attempts + 1
           OR NEW.claimed_at IS NULL OR NEW.claimed_at < now_from OR NEW.claimed_at > now_to
           OR NEW.lease_expires_at IS NULL OR NEW.lease_expires_at <= NEW.claimed_at
           OR NEW.lease_expires_at > NEW.claimed_at + interval '1 day'
           OR NEW.next_attempt_at IS DISTINCT FROM OLD.next_attempt_at
           OR NEW.finished_at IS NOT NULL THEN
            RAISE EXCEPTION 'a claim of % must count one attempt (%, got %), start now and lease the job for more than 0 and at most 1 day',
                job, OLD.attempts + 1, NEW.attempts
                USING ERRCODE = '42501', HINT = 'Claim with multisample.claim_probe_jobs().';
        END IF;
        -- Not from a paused or cancelled run (a job handed back meanwhile
        -- waits there, queued): such a claim changes no row. (No error: a
        -- claim that read the run's status just before a pause committed
        -- gets fewer jobs, not an exception.)
        SELECT r.status INTO run_status FROM @extschema@.runs AS r WHERE r.id = NEW.run_id;
        IF run_status IN ('PAUSED', 'CANCELLED') THEN
            RETURN NULL;
        END IF;
        RETURN NEW;
    END IF;

    IF NEW.state = 'CANCELLED' AND OLD.state IN ('QUEUED', 'RUNNING') THEN
        -- A job of a cancelled run (cancelling is final, so this cannot race
        -- with run control) is cancelled by whoever finds it queued, or by
        -- its holder instead of a retry.
        SELECT r.status INTO run_status FROM @extschema@.runs AS r WHERE r.id = NEW.run_id;
        IF run_status IS DISTINCT FROM 'CANCELLED'
           OR NEW.finished_at IS NULL OR NEW.finished_at < now_from OR NEW.finished_at > now_to
           OR NEW.attempts <> OLD.attempts THEN
            RAISE EXCEPTION 'a worker cancels % only when its run is cancelled, and then as of now', job
                USING ERRCODE = '42501', HINT = 'Run managers cancel runs with multisample.cancel_run().';
        END IF;
        IF OLD.state = 'QUEUED' THEN
            RETURN NEW;
        END IF;
    ELSIF OLD.state <> 'RUNNING' THEN
        RAISE EXCEPTION 'a worker may claim % (it is %) but not change it otherwise', job, OLD.state
            USING ERRCODE = '42501', HINT = 'Workers claim queued jobs and report the jobs their role holds.';
    END IF;

    -- The job is RUNNING: the worker's role holds it, or its lease ran out
    -- and the worker takes it over (to hand it back or record its outcome).
    holds := OLD.lease_role = current_user::text;
    IF NOT holds AND OLD.lease_expires_at > started THEN
        RAISE EXCEPTION '% is held by another role until %', job, OLD.lease_expires_at
            USING ERRCODE = '42501';
    END IF;
    IF NEW.attempts <> OLD.attempts OR NEW.claimed_at IS DISTINCT FROM OLD.claimed_at THEN
        RAISE EXCEPTION 'a worker may not change the attempts or claimed_at of % it holds', job
            USING ERRCODE = '42501';
    END IF;
    CASE NEW.state
        WHEN 'RUNNING' THEN
            -- Renewed: a lease ends after now and at most 1 day after the
            -- claim, so that renewals cannot hold a job for ever. Taken over
            -- (an expired lease, to record the job's outcome): the lease may
            -- stay as it was.
            IF NEW.lease_expires_at IS DISTINCT FROM OLD.lease_expires_at
               AND (NEW.lease_expires_at IS NULL OR NEW.lease_expires_at <= now_from
                    OR NEW.lease_expires_at > least(coalesce(OLD.claimed_at, now_to), now_to) + interval '1 day') THEN
                RAISE EXCEPTION 'a lease of % must end after now and at most 1 day after its claim (%)', job, OLD.claimed_at
                    USING ERRCODE = '42501', HINT = 'A probe that takes longer fails, and its job is claimed again.';
            END IF;
        WHEN 'QUEUED' THEN
            IF NEW.finished_at IS NOT NULL OR NEW.next_attempt_at < now_from
               OR NEW.next_attempt_at > now_to + interval '1 day' THEN
                RAISE EXCEPTION 'a worker hands % back with its next attempt between now and 1 day from now', job
                    USING ERRCODE = '42501', HINT = 'Hand jobs back with multisample.fail_probe_job(..., retryable => true).';
            END IF;
        WHEN 'COMPLETED', 'FAILED' THEN
            IF NEW.finished_at IS NULL OR NEW.finished_at < now_from OR NEW.finished_at > now_to THEN
                RAISE EXCEPTION 'a % % finishes now', lower(NEW.state), job USING ERRCODE = '42501';
            END IF;
        WHEN 'CANCELLED' THEN
            NULL;  -- checked above
        ELSE
            RAISE EXCEPTION 'a worker may not make % %', job, NEW.state
                USING ERRCODE = '42501', HINT = 'Run managers pause runs with multisample.pause_run().';
    END CASE;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.probe_jobs_guard() IS
    'Trigger (caller''s rights): finished jobs stay finished, outcomes before COMPLETED/FAILED, no hand-back once an outcome exists, first_claimed_at kept by the trigger; workers (roles without UPDATE on runs) only claim queued jobs of runs that are not paused or cancelled (one attempt more, a lease of at most 1 day), move jobs their role holds or whose lease ran out (a lease renewed to at most 1 day after the claim), and cancel jobs only of cancelled runs.';

-------------------------------------------------------------------------------
-- probe_outcome_guard: transcripts and probe results a worker records.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.probe_outcome_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sample text := format('(%s, %s, %s, %s)', quote_literal(NEW.run_id), quote_literal(NEW.scenario_id),
                          quote_literal(NEW.model_id), NEW.sample_index);
BEGIN
    -- Run managers (UPDATE on runs) are trusted with their runs.
    IF has_table_privilege('@extschema@.runs'::regclass, 'UPDATE') THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                    WHERE j.run_id = NEW.run_id AND j.scenario_id = NEW.scenario_id
                      AND j.model_id = NEW.model_id AND j.sample_index = NEW.sample_index
                      AND j.state = 'RUNNING' AND j.lease_role = current_user::text) THEN
        RAISE EXCEPTION 'a worker records % only for a job its role holds: sample % is not RUNNING under role %',
            TG_ARGV[0], sample, current_user
            USING ERRCODE = '42501', HINT = 'Report with multisample.complete_probe_job() or multisample.fail_probe_job().';
    END IF;
    -- (By the trigger's argument: on a Citus shard the table is named
    -- transcripts_102008 and so on.)
    IF TG_ARGV[0] = 'transcripts' THEN
        IF NEW.deleted_at IS NOT NULL THEN
            RAISE EXCEPTION 'a worker records live transcripts only (deleted_at NULL), got % for sample %', NEW.deleted_at, sample
                USING ERRCODE = '42501';
        END IF;
    ELSIF length(NEW.error_code) > 200 OR length(NEW.error_message) > 10100 THEN
        RAISE EXCEPTION 'the error of a probe result of sample % must be a code of at most 200 characters and a message of at most 10100', sample
            USING ERRCODE = '42501', HINT = 'multisample.fail_probe_job() truncates long messages.';
    ELSIF NEW.status = 'SUCCESS' AND NOT EXISTS (
            SELECT 1 FROM @extschema@.transcripts AS t
             WHERE t.run_id = NEW.run_id AND t.id = NEW.transcript_id
               AND t.scenario_id = NEW.scenario_id AND t.model_id = NEW.model_id
               AND t.sample_index = NEW.sample_index AND t.deleted_at IS NULL) THEN
        RAISE EXCEPTION 'a SUCCESS probe result of sample % must name its live transcript', sample
            USING ERRCODE = '23514';
    ELSIF NEW.status = 'FAILED' AND NEW.transcript_id IS NOT NULL THEN
        RAISE EXCEPTION 'a FAILED probe result of sample % names no transcript', sample
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.probe_outcome_guard() IS
    'Trigger (caller''s rights) on transcripts and probe_results: a worker records an outcome only for a job its role holds; a SUCCESS result names the sample''s live transcript, a FAILED one none; an error code has at most 200 characters, a message at most 10100.';

-------------------------------------------------------------------------------
-- runs_audit: created_by is the role that created the run.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.runs_audit()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Superusers are trusted with the column (a restore writes it as dumped).
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := current_user;
    ELSIF NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'created_by records the role that created run %; it cannot be changed', quote_literal(OLD.id)
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.runs_audit() IS
    'Trigger (caller''s rights) on runs: created_by is current_user at insert and never changes (superusers excepted, so that a restore keeps it).';

-- The triggers of 1.2 run the functions just created, which exist only on
-- this node so far: Citus runs this script on the coordinator first and
-- then on each worker node, so a CREATE TRIGGER that Citus propagated from
-- the coordinator would reach the workers before their functions do. So
-- every node creates the triggers on its own relations: the table itself
-- and, where the table is distributed, the shards placed on this node (with
-- Citus's propagation off for them). On a plain server, and on a Citus node
-- whose tables are not distributed yet, that is just the table.
DO $queue_triggers$
DECLARE
    distributed boolean := false;
    ddl_propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
    unsafe_triggers text := pg_catalog.current_setting('citus.enable_unsafe_triggers', true);
    def record;
    shard record;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p
                                 WHERE p.logicalrelid = ''@extschema@.probe_jobs''::pg_catalog.regclass)'
           INTO distributed;
    END IF;
    IF distributed THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;
    FOR def IN
        SELECT d.tbl, d.trigger_name, d.ddl
          FROM (VALUES
                ('probe_jobs', 'probe_jobs_guard',
                 'BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.probe_jobs_guard()'),
                ('transcripts', 'transcripts_guard',
                 'BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.probe_outcome_guard(''transcripts'')'),
                ('probe_results', 'probe_results_guard',
                 'BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.probe_outcome_guard(''probe results'')'),
                ('runs', 'runs_audit',
                 'BEFORE INSERT OR UPDATE OF created_by ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.runs_audit()'))
               AS d(tbl, trigger_name, ddl)
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I ', def.trigger_name)
                || pg_catalog.format(def.ddl, '@extschema@.' || pg_catalog.quote_ident(def.tbl));
        IF distributed THEN
            -- A shard and its trigger are named as Citus names them: with
            -- the shard id appended (table_102008, trigger_102008).
            FOR shard IN EXECUTE
                'SELECT c.relname, s.shardid
                   FROM pg_catalog.pg_dist_shard AS s
                   JOIN pg_catalog.pg_class AS c
                     ON c.relname = pg_catalog.format(''%s_%s'', $1, s.shardid)
                    AND c.relnamespace = ''@extschema@''::pg_catalog.regnamespace
                  WHERE s.logicalrelid = (''@extschema@.'' || pg_catalog.quote_ident($1))::pg_catalog.regclass
                  ORDER BY s.shardid'
                USING def.tbl
            LOOP
                EXECUTE pg_catalog.format('CREATE TRIGGER %I ', def.trigger_name || '_' || shard.shardid)
                        || pg_catalog.format(def.ddl, '@extschema@.' || pg_catalog.quote_ident(shard.relname));
            END LOOP;
        END IF;
    END LOOP;
    IF distributed THEN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', ddl_propagation, true);
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    END IF;
END
$queue_triggers$;

DO $queue_policies$
BEGIN
    IF NOT @extschema@.applies_table_changes() THEN
        RETURN;
    END IF;
    -- Policies without subqueries; the checks that need other tables are in
    -- the triggers above.
    EXECUTE $ddl$
        ALTER POLICY probe_jobs_manage ON @extschema@.probe_jobs
            USING (pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE'))
            WITH CHECK (pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE'))
    $ddl$;
    EXECUTE $ddl$
        ALTER POLICY probe_jobs_work ON @extschema@.probe_jobs
            USING (state = 'QUEUED'
                   OR (state = 'RUNNING'
                       AND (lease_role = (CURRENT_USER)::text
                            OR lease_expires_at <= pg_catalog.now())))
            WITH CHECK (lease_role = (CURRENT_USER)::text)
    $ddl$;
    EXECUTE $ddl$
        ALTER POLICY transcripts_manage ON @extschema@.transcripts
            USING (pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE'))
            WITH CHECK (pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE'))
    $ddl$;
    EXECUTE 'ALTER POLICY transcripts_record ON @extschema@.transcripts WITH CHECK (true)';
    EXECUTE $ddl$
        ALTER POLICY probe_results_manage ON @extschema@.probe_results
            USING (pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE'))
            WITH CHECK (pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE'))
    $ddl$;
    EXECUTE 'ALTER POLICY probe_results_record ON @extschema@.probe_results WITH CHECK (true)';
END
$queue_policies$;

COMMENT ON TRIGGER probe_jobs_guard ON @extschema@.probe_jobs IS 'Checks every change of a job: the transitions of the queue, and for workers that they move only what their role holds.';
COMMENT ON TRIGGER transcripts_guard ON @extschema@.transcripts IS 'A worker records transcripts only for jobs its role holds.';
COMMENT ON TRIGGER probe_results_guard ON @extschema@.probe_results IS 'A worker records probe results only for jobs its role holds; results name their own sample''s transcript.';
COMMENT ON TRIGGER runs_audit ON @extschema@.runs IS 'created_by is the role that created the run.';
COMMENT ON POLICY probe_jobs_manage ON @extschema@.probe_jobs IS 'Run managers (UPDATE on runs) are not restricted.';
COMMENT ON POLICY probe_jobs_work ON @extschema@.probe_jobs IS 'Workers may update queued jobs (to claim them), jobs their role holds and jobs whose lease ran out, leaving them under their own role; the trigger probe_jobs_guard checks the transition.';
COMMENT ON POLICY transcripts_manage ON @extschema@.transcripts IS 'Run managers (UPDATE on runs) are not restricted.';
COMMENT ON POLICY transcripts_record ON @extschema@.transcripts IS 'Workers insert transcripts; the trigger transcripts_guard admits only those of jobs their role holds.';
COMMENT ON POLICY probe_results_manage ON @extschema@.probe_results IS 'Run managers (UPDATE on runs) are not restricted.';
COMMENT ON POLICY probe_results_record ON @extschema@.probe_results IS 'Workers insert probe results; the trigger probe_results_guard admits only those of jobs their role holds.';
