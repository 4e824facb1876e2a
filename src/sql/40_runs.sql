
-------------------------------------------------------------------------------
-- Runs and the probe-job queue: how a multi-sample run comes into being
-- (preview_run, start_run, the cost estimate) and how workers work it off
-- (claim_probe_jobs, complete_probe_job, fail_probe_job), run control
-- (pause_run, resume_run, cancel_run), progress views derived from the jobs,
-- and the row-level security that lets a worker role touch only its leases.
--
-- Every plpgsql/SQL function below pins search_path to pg_catalog, pg_temp
-- and names our objects with @extschema@: pg_temp is never searched for
-- functions or operators, so the unqualified operators in the bodies can
-- only be pg_catalog's whatever the caller's search_path is.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------

CREATE TABLE @extschema@.probe_jobs (
    run_id             text        NOT NULL,
    scenario_id        text        NOT NULL,
    model_id           text        NOT NULL CONSTRAINT probe_jobs_model_id_check CHECK (model_id OPERATOR(pg_catalog.<>) ''),
    sample_index       integer     NOT NULL CONSTRAINT probe_jobs_sample_index_check CHECK (sample_index OPERATOR(pg_catalog.>=) 0),
    state              text        NOT NULL DEFAULT 'QUEUED'
                       CONSTRAINT probe_jobs_state_check
                       CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['QUEUED', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'])),
    priority           smallint    NOT NULL DEFAULT 1
                       CONSTRAINT probe_jobs_priority_check CHECK (priority OPERATOR(pg_catalog.>=) 0 AND priority OPERATOR(pg_catalog.<=) 2),
    queue_order        bigint      NOT NULL DEFAULT 0,
    attempts           integer     NOT NULL DEFAULT 0,
    max_attempts       integer     NOT NULL DEFAULT 3,
    lease_holder       text,
    lease_role         text,
    lease_expires_at   timestamptz,
    next_attempt_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_error_code    text,
    last_error_message text,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    claimed_at         timestamptz,
    finished_at        timestamptz,
    CONSTRAINT probe_jobs_pkey PRIMARY KEY (run_id, scenario_id, model_id, sample_index),
    CONSTRAINT probe_jobs_selection_fkey FOREIGN KEY (run_id, scenario_id)
        REFERENCES @extschema@.run_scenario_selections (run_id, scenario_id) ON DELETE CASCADE,
    CONSTRAINT probe_jobs_attempts_check CHECK (
        max_attempts OPERATOR(pg_catalog.>=) 1 AND max_attempts OPERATOR(pg_catalog.<=) 100
        AND attempts OPERATOR(pg_catalog.>=) 0 AND attempts OPERATOR(pg_catalog.<=) max_attempts),
    CONSTRAINT probe_jobs_lease_check CHECK (
        state OPERATOR(pg_catalog.<>) 'RUNNING'
        OR (lease_holder IS NOT NULL AND lease_role IS NOT NULL AND lease_expires_at IS NOT NULL))
);

-- Claiming: the queued jobs in hand-out order; a claim reads the head of it.
CREATE INDEX probe_jobs_claim_idx
    ON @extschema@.probe_jobs (priority DESC, created_at, queue_order)
    WHERE state OPERATOR(pg_catalog.=) 'QUEUED';
-- Leases: the running jobs by lease expiry, so expired ones are found at once.
CREATE INDEX probe_jobs_lease_idx
    ON @extschema@.probe_jobs (lease_expires_at)
    WHERE state OPERATOR(pg_catalog.=) 'RUNNING';
-- The unfinished jobs of a run: run completion, pause, resume, cancel.
CREATE INDEX probe_jobs_open_idx
    ON @extschema@.probe_jobs (run_id, queue_order)
    WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['QUEUED', 'RUNNING', 'PAUSED']);

CREATE TABLE @extschema@.model_pricing (
    model_id                 text        PRIMARY KEY CONSTRAINT model_pricing_model_id_check CHECK (model_id OPERATOR(pg_catalog.<>) ''),
    input_price_per_million  numeric     NOT NULL,
    output_price_per_million numeric     NOT NULL,
    updated_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT model_pricing_prices_check CHECK (
        input_price_per_million OPERATOR(pg_catalog.>=) 0 AND output_price_per_million OPERATOR(pg_catalog.>=) 0
        AND input_price_per_million OPERATOR(pg_catalog.<>) 'NaN'::numeric
        AND output_price_per_million OPERATOR(pg_catalog.<>) 'NaN'::numeric)
);

CREATE TABLE @extschema@.model_token_statistics (
    model_id          text        NOT NULL CONSTRAINT model_token_statistics_model_id_check CHECK (model_id OPERATOR(pg_catalog.<>) ''),
    definition_id     text        NOT NULL DEFAULT '',
    avg_input_tokens  numeric     NOT NULL,
    avg_output_tokens numeric     NOT NULL,
    probe_count       bigint      NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT model_token_statistics_pkey PRIMARY KEY (model_id, definition_id),
    CONSTRAINT model_token_statistics_values_check CHECK (
        avg_input_tokens OPERATOR(pg_catalog.>=) 0 AND avg_output_tokens OPERATOR(pg_catalog.>=) 0
        AND avg_input_tokens OPERATOR(pg_catalog.<>) 'NaN'::numeric
        AND avg_output_tokens OPERATOR(pg_catalog.<>) 'NaN'::numeric
        AND probe_count OPERATOR(pg_catalog.>=) 0)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.probe_jobs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_pricing', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_token_statistics', '');

COMMENT ON TABLE @extschema@.probe_jobs IS 'The job queue: one row per sample of a run (scenario x model x sample_index), with its state, lease and retry bookkeeping. Written through claim_probe_jobs, complete_probe_job, fail_probe_job and the run-control functions.';
COMMENT ON COLUMN @extschema@.probe_jobs.state IS 'QUEUED (claimable once next_attempt_at has passed), RUNNING (leased to a worker), PAUSED (run paused), COMPLETED, FAILED (attempts used up or not retryable), CANCELLED (run cancelled before it ran).';
COMMENT ON COLUMN @extschema@.probe_jobs.priority IS '0 = LOW, 1 = NORMAL, 2 = HIGH; higher is handed out first.';
COMMENT ON COLUMN @extschema@.probe_jobs.queue_order IS 'Hand-out order within a run: sample-major (every pair''s sample 0 before any pair''s sample 1), so a run stopped early still covers every pair.';
COMMENT ON COLUMN @extschema@.probe_jobs.attempts IS 'How many times the job has been claimed; the current claim''s attempt number.';
COMMENT ON COLUMN @extschema@.probe_jobs.max_attempts IS 'Claims allowed before the job fails for good (1-100).';
COMMENT ON COLUMN @extschema@.probe_jobs.lease_holder IS 'Worker name given to the claim that holds (or last held) the job.';
COMMENT ON COLUMN @extschema@.probe_jobs.lease_role IS 'Database role (current_user) of that claim; row-level security lets a worker role write only jobs its role holds.';
COMMENT ON COLUMN @extschema@.probe_jobs.lease_expires_at IS 'When the current lease runs out; after that the job can be handed out again.';
COMMENT ON COLUMN @extschema@.probe_jobs.next_attempt_at IS 'A queued job is not handed out before this time (retry backoff).';
COMMENT ON COLUMN @extschema@.probe_jobs.last_error_code IS 'Error code of the last failed attempt (LEASE_EXPIRED when a lease ran out).';
COMMENT ON COLUMN @extschema@.probe_jobs.last_error_message IS 'Error message of the last failed attempt, whole up to 10000 characters.';
COMMENT ON TABLE @extschema@.model_pricing IS 'Price per million input and output tokens of each model, for cost estimates and for transcript costs a worker does not report.';
COMMENT ON TABLE @extschema@.model_token_statistics IS 'Average input and output tokens per probe of a model, per definition; definition_id '''' is the model''s global row (definition-independent).';
COMMENT ON COLUMN @extschema@.model_token_statistics.definition_id IS 'The definition these averages were measured on, or '''' for the model''s global row.';
COMMENT ON COLUMN @extschema@.model_token_statistics.probe_count IS 'Number of probes the averages are based on; a definition-specific row with 0 is ignored by the estimate.';
COMMENT ON INDEX @extschema@.probe_jobs_claim_idx IS 'Queued jobs in hand-out order (priority, then oldest): a claim reads only the head.';
COMMENT ON INDEX @extschema@.probe_jobs_lease_idx IS 'Running jobs by lease expiry: finds expired leases without a scan.';
COMMENT ON INDEX @extschema@.probe_jobs_open_idx IS 'Unfinished jobs of a run in hand-out order: run completion (read from the back), pause, resume and cancel.';

-------------------------------------------------------------------------------
-- Job state transitions: guards and run-status maintenance (triggers)
-------------------------------------------------------------------------------

-- SECURITY DEFINER, reviewed: it only reads probe_results and transcripts
-- and may only refuse a transition (out of a finished state, or into
-- COMPLETED or FAILED without the recorded outcome). Its only input is the
-- job row being updated. Owner's rights so that the check does not depend
-- on what the updating role may read.
CREATE FUNCTION @extschema@.probe_jobs_check_transition()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.state IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN
        -- An outcome is final: every sample keeps exactly one.
        RAISE EXCEPTION 'probe job (%, %, %, %) is %; a finished job cannot change state',
            NEW.run_id, NEW.scenario_id, NEW.model_id, NEW.sample_index, OLD.state
            USING ERRCODE = '23514', HINT = 'Start a new run to probe again.';
    ELSIF NEW.state = 'COMPLETED' THEN
        IF NOT EXISTS (
            SELECT 1
              FROM @extschema@.probe_results AS pr
              JOIN @extschema@.transcripts AS t
                ON t.run_id = pr.run_id AND t.id = pr.transcript_id
             WHERE pr.run_id = NEW.run_id AND pr.scenario_id = NEW.scenario_id
               AND pr.model_id = NEW.model_id AND pr.sample_index = NEW.sample_index
               AND pr.status = 'SUCCESS'
               AND t.scenario_id = NEW.scenario_id AND t.model_id = NEW.model_id
               AND t.sample_index = NEW.sample_index AND t.deleted_at IS NULL)
        THEN
            RAISE EXCEPTION 'probe job (%, %, %, %) cannot be COMPLETED without a SUCCESS probe result naming its live transcript',
                NEW.run_id, NEW.scenario_id, NEW.model_id, NEW.sample_index
                USING ERRCODE = '23514', HINT = 'Record successes with multisample.complete_probe_job().';
        END IF;
    ELSE
        IF NOT EXISTS (
            SELECT 1
              FROM @extschema@.probe_results AS pr
             WHERE pr.run_id = NEW.run_id AND pr.scenario_id = NEW.scenario_id
               AND pr.model_id = NEW.model_id AND pr.sample_index = NEW.sample_index
               AND pr.status = 'FAILED')
        THEN
            RAISE EXCEPTION 'probe job (%, %, %, %) cannot be FAILED without a FAILED probe result',
                NEW.run_id, NEW.scenario_id, NEW.model_id, NEW.sample_index
                USING ERRCODE = '23514', HINT = 'Record failures with multisample.fail_probe_job().';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- SECURITY DEFINER, reviewed: its only input is the job row being updated;
-- its only writes are runs.status/started_at/completed_at of that job's run,
-- with the transitions PENDING -> RUNNING (a job was claimed) and PENDING/
-- RUNNING/PAUSED -> COMPLETED (no job of the run is unfinished, re-checked
-- under the run lock), and the state of that same job when it was handed
-- back to the queue (RUNNING -> QUEUED) of a run that is paused or cancelled
-- (-> PAUSED or CANCELLED). A worker can set it off only by moving a job it
-- may move anyway.
--
-- Why the hand-back is redirected here, with the owner's rights, and not by
-- the worker's own UPDATE: the share lock on the run waits for a concurrent
-- pause_run/cancel_run to commit, so a job never lands in the queue of a
-- paused or cancelled run; the worker's row-level-security check would judge
-- the run's status by the statement's older snapshot instead.
--
-- Why "every job finished" is race-free without a counter: a finishing
-- transaction either share-locks an unfinished job that nobody is changing
-- (fast path: whoever finishes that job later must wait for this commit, so
-- its own check sees this job finished), or, when every unfinished job is
-- being changed right now, takes the run row lock and re-checks with a fresh
-- snapshot (slow path: the lock serialises the last finishers; each one
-- commits before the next one looks). The fast path never waits and the slow
-- path waits only for the run row, so the two cannot deadlock.
CREATE FUNCTION @extschema@.probe_jobs_sync_run()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    run_status text;
BEGIN
    IF NEW.state = 'QUEUED' THEN
        SELECT r.status INTO run_status
          FROM @extschema@.runs AS r
         WHERE r.id = NEW.run_id
           FOR SHARE;
        IF run_status IN ('PAUSED', 'CANCELLED') THEN
            UPDATE @extschema@.probe_jobs AS j
               SET state = run_status,
                   finished_at = CASE WHEN run_status = 'CANCELLED' THEN now() END
             WHERE j.run_id = NEW.run_id AND j.scenario_id = NEW.scenario_id
               AND j.model_id = NEW.model_id AND j.sample_index = NEW.sample_index
               AND j.state = 'QUEUED';
        END IF;
        RETURN NULL;
    END IF;

    IF NEW.state = 'RUNNING' THEN
        -- First claim of a run. Never wait for the run row: a claim must not
        -- block on (or deadlock with) pause_run/cancel_run; if the row is
        -- busy, a later claim or the run control that holds it sets it.
        IF EXISTS (SELECT 1 FROM @extschema@.runs AS r
                    WHERE r.id = NEW.run_id AND r.status = 'PENDING') THEN
            UPDATE @extschema@.runs AS r
               SET status = 'RUNNING', started_at = coalesce(r.started_at, now())
             WHERE r.ctid = (SELECT r2.ctid FROM @extschema@.runs AS r2
                              WHERE r2.id = NEW.run_id AND r2.status = 'PENDING'
                                FOR NO KEY UPDATE SKIP LOCKED);
        END IF;
        RETURN NULL;
    END IF;

    -- A job finished. Fast path: an unfinished job nobody is changing,
    -- looked for from the back of the run's queue (the jobs handed out last,
    -- so the lock is in nobody's way and the index entries that finished
    -- jobs leave behind are at the other end).
    PERFORM 1
       FROM @extschema@.probe_jobs AS j
      WHERE j.run_id = NEW.run_id
        AND j.state IN ('QUEUED', 'RUNNING', 'PAUSED')
      ORDER BY j.queue_order DESC
      LIMIT 1
        FOR SHARE SKIP LOCKED;
    IF FOUND THEN
        RETURN NULL;
    END IF;

    -- Slow path: the end of the run. Take the run row, then look again with
    -- a fresh snapshot (a new statement): every finisher that held the row
    -- before has committed and is visible now.
    PERFORM 1 FROM @extschema@.runs AS r WHERE r.id = NEW.run_id FOR NO KEY UPDATE;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                    WHERE j.run_id = NEW.run_id
                      AND j.state IN ('QUEUED', 'RUNNING', 'PAUSED')) THEN
        UPDATE @extschema@.runs AS r
           SET status = 'COMPLETED', completed_at = now()
         WHERE r.id = NEW.run_id AND r.status IN ('PENDING', 'RUNNING', 'PAUSED');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER probe_jobs_check_transition
    BEFORE UPDATE OF state ON @extschema@.probe_jobs
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state
          AND (OLD.state IN ('COMPLETED', 'FAILED', 'CANCELLED')
               OR NEW.state IN ('COMPLETED', 'FAILED')))
    EXECUTE FUNCTION @extschema@.probe_jobs_check_transition();

CREATE TRIGGER probe_jobs_sync_run
    AFTER UPDATE OF state ON @extschema@.probe_jobs
    FOR EACH ROW
    WHEN ((OLD.state = 'QUEUED' AND NEW.state = 'RUNNING')
          OR (OLD.state = 'RUNNING' AND NEW.state = 'QUEUED')
          OR (NEW.state IN ('COMPLETED', 'FAILED') AND OLD.state NOT IN ('COMPLETED', 'FAILED')))
    EXECUTE FUNCTION @extschema@.probe_jobs_sync_run();

-- Trigger functions cannot be called directly; no role needs EXECUTE on them.
REVOKE ALL ON FUNCTION @extschema@.probe_jobs_check_transition() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.probe_jobs_sync_run() FROM PUBLIC;

COMMENT ON FUNCTION @extschema@.probe_jobs_check_transition() IS 'Trigger (SECURITY DEFINER, reviewed): a finished job (COMPLETED, FAILED, CANCELLED) keeps its state; a job is COMPLETED only with its SUCCESS result and live transcript, FAILED only with its FAILED result.';
COMMENT ON FUNCTION @extschema@.probe_jobs_sync_run() IS 'Trigger (SECURITY DEFINER, reviewed): moves a run PENDING -> RUNNING at its first claim and to COMPLETED when no job of it is unfinished, race-free under concurrent workers; a job handed back to the queue of a paused or cancelled run becomes PAUSED or CANCELLED.';
COMMENT ON TRIGGER probe_jobs_check_transition ON @extschema@.probe_jobs IS 'Keeps finished jobs finished and guards the transitions to COMPLETED and FAILED.';
COMMENT ON TRIGGER probe_jobs_sync_run ON @extschema@.probe_jobs IS 'Keeps runs.status in step with the jobs (first claim, every job finished) and parks retries of paused or cancelled runs.';

-------------------------------------------------------------------------------
-- Cost estimate, preview and start
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.estimate_run_cost(
    definition_id text,
    models text[],
    probes_per_model bigint)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH m AS (
        SELECT u.model_id, u.ord
          FROM unnest($2) WITH ORDINALITY AS u(model_id, ord)
    ), all_models AS (
        SELECT avg(g.avg_input_tokens) AS input_tokens, avg(g.avg_output_tokens) AS output_tokens,
               count(*) AS n
          FROM @extschema@.model_token_statistics AS g
         WHERE g.definition_id = ''
    ), per_model AS (
        SELECT m.model_id, m.ord,
               CASE WHEN d.model_id IS NOT NULL THEN 'definition'
                    WHEN g.model_id IS NOT NULL THEN 'model'
                    WHEN a.n > 0 THEN 'all-models'
                    ELSE 'default' END AS token_source,
               trim_scale(coalesce(d.avg_input_tokens, g.avg_input_tokens, a.input_tokens, 100)) AS input_tokens,
               trim_scale(coalesce(d.avg_output_tokens, g.avg_output_tokens, a.output_tokens, 900)) AS output_tokens,
               p.input_price_per_million, p.output_price_per_million
          FROM m
          CROSS JOIN all_models AS a
          LEFT JOIN @extschema@.model_token_statistics AS d
                 ON d.model_id = m.model_id AND d.definition_id = $1
                AND d.definition_id <> '' AND d.probe_count > 0
          LEFT JOIN @extschema@.model_token_statistics AS g
                 ON g.model_id = m.model_id AND g.definition_id = ''
          LEFT JOIN @extschema@.model_pricing AS p ON p.model_id = m.model_id
    ), costed AS (
        SELECT pm.*,
               trim_scale($3 * (pm.input_tokens * pm.input_price_per_million
                                + pm.output_tokens * pm.output_price_per_million) * 0.000001) AS cost
          FROM per_model AS pm
    )
    SELECT jsonb_build_object(
               'total', sum(c.cost),
               'probesPerModel', $3,
               'unpricedModels', coalesce(jsonb_agg(c.model_id ORDER BY c.ord) FILTER (WHERE c.cost IS NULL), '[]'::jsonb),
               'perModel', jsonb_agg(jsonb_build_object(
                   'modelId', c.model_id,
                   'probes', $3,
                   'tokenSource', c.token_source,
                   'inputTokensPerProbe', c.input_tokens,
                   'outputTokensPerProbe', c.output_tokens,
                   'inputPricePerMillion', c.input_price_per_million,
                   'outputPricePerMillion', c.output_price_per_million,
                   'priced', c.cost IS NOT NULL,
                   'cost', c.cost) ORDER BY c.ord))
      FROM costed AS c
$$;

COMMENT ON FUNCTION @extschema@.estimate_run_cost(text, text[], bigint) IS
'Cost estimate (jsonb) for probes_per_model probes of each model: tokens per probe from model_token_statistics (definition row with probes, else the model''s global row, else the average of all global rows, else 100 in / 900 out), prices from model_pricing; unpriced models are listed, not dropped.';

CREATE FUNCTION @extschema@.preview_run(
    definition_id text,
    models text[],
    samples_per_scenario integer DEFAULT NULL,
    sample_percentage integer DEFAULT 100,
    sample_seed bigint DEFAULT NULL)
RETURNS TABLE (
    scenario_count integer,
    samples integer,
    job_count bigint,
    estimated_cost numeric,
    unpriced_models text[],
    scenario_ids text[],
    estimate jsonb)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live_ids text[];
    selected text[];
    n_samples integer;
    dup text;
    est jsonb;
BEGIN
    IF preview_run.definition_id IS NULL THEN
        RAISE EXCEPTION 'definition_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF preview_run.models IS NULL OR cardinality(preview_run.models) = 0 THEN
        RAISE EXCEPTION 'models must list at least one model id'
            USING ERRCODE = '22023', HINT = 'Pass e.g. ARRAY[''model-a'', ''model-b''].';
    END IF;
    IF array_ndims(preview_run.models) <> 1 THEN
        RAISE EXCEPTION 'models must be a one-dimensional array, got % dimensions', array_ndims(preview_run.models)
            USING ERRCODE = '22023';
    END IF;
    IF array_position(preview_run.models, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'models must not contain NULL, found one at position %', array_position(preview_run.models, NULL)
            USING ERRCODE = '22023', HINT = 'Every element must be a model id.';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(preview_run.models) AS u(m) WHERE btrim(u.m) = '') THEN
        RAISE EXCEPTION 'models must not contain an empty model id'
            USING ERRCODE = '22023', HINT = 'Every element must be a model id.';
    END IF;
    SELECT u.m INTO dup FROM unnest(preview_run.models) AS u(m) GROUP BY u.m HAVING count(*) > 1 ORDER BY u.m LIMIT 1;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION 'models contains % more than once', dup
            USING ERRCODE = '22023', HINT = 'Each model may appear only once; ask for more samples instead.';
    END IF;
    IF preview_run.sample_percentage IS NULL
       OR preview_run.sample_percentage < 1 OR preview_run.sample_percentage > 100 THEN
        RAISE EXCEPTION 'sample_percentage must be between 1 and 100, got %', coalesce(preview_run.sample_percentage::text, 'NULL')
            USING ERRCODE = '22023', HINT = '100 selects every scenario.';
    END IF;
    IF preview_run.samples_per_scenario IS NOT NULL
       AND (preview_run.samples_per_scenario < 1 OR preview_run.samples_per_scenario > 100) THEN
        RAISE EXCEPTION 'samples_per_scenario must be between 1 and 100, got %', preview_run.samples_per_scenario
            USING ERRCODE = '22023', HINT = 'Pass NULL to use the setting multisample.default_samples_per_scenario.';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM @extschema@.definitions AS d WHERE d.id = preview_run.definition_id) THEN
        RAISE EXCEPTION 'definition % does not exist', preview_run.definition_id
            USING ERRCODE = 'P0002';
    END IF;
    SELECT array_agg(s.id ORDER BY s.created_at, s.id) INTO live_ids
      FROM @extschema@.scenarios AS s
     WHERE s.definition_id = preview_run.definition_id AND s.deleted_at IS NULL;
    IF live_ids IS NULL THEN
        RAISE EXCEPTION 'definition % has no live scenarios', preview_run.definition_id
            USING ERRCODE = '22023', HINT = 'Add scenarios to the definition, or undelete some (deleted_at IS NULL).';
    END IF;

    -- The selection never depends on the number of samples (SPEC 4.1). It
    -- is computed by the C module, which also defines the setting read next.
    selected := @extschema@.select_scenarios(live_ids, preview_run.sample_percentage,
                                             preview_run.definition_id, preview_run.sample_seed);
    n_samples := coalesce(preview_run.samples_per_scenario,
                          current_setting('multisample.default_samples_per_scenario')::integer);
    est := @extschema@.estimate_run_cost(preview_run.definition_id, preview_run.models,
                                         cardinality(selected)::bigint * n_samples);

    scenario_count := cardinality(selected);
    samples := n_samples;
    job_count := scenario_count::bigint * cardinality(preview_run.models) * n_samples;
    estimated_cost := (est ->> 'total')::numeric;
    unpriced_models := ARRAY(SELECT jsonb_array_elements_text(est -> 'unpricedModels'));
    scenario_ids := selected;
    estimate := est;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION @extschema@.preview_run(text, text[], integer, integer, bigint) IS
'What start_run would create, without writing anything: the selected scenarios, the job count (scenarios x models x samples) and the cost estimate per model and in total.';

CREATE FUNCTION @extschema@.start_run(
    definition_id text,
    models text[],
    samples_per_scenario integer DEFAULT NULL,
    sample_percentage integer DEFAULT 100,
    sample_seed bigint DEFAULT NULL,
    priority text DEFAULT 'NORMAL',
    max_attempts integer DEFAULT 3,
    score_scale jsonb DEFAULT NULL,
    created_by text DEFAULT NULL,
    id text DEFAULT NULL)
RETURNS TABLE (
    run_id text,
    scenario_count integer,
    samples integer,
    job_count bigint,
    estimated_cost numeric,
    unpriced_models text[],
    estimate jsonb)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prio_name text := upper(btrim(start_run.priority));
    prio smallint;
    scale jsonb := coalesce(start_run.score_scale, '{"min": 1, "max": 5}'::jsonb);
    new_id text := coalesce(start_run.id, gen_random_uuid()::text);
    plan record;
    pairs bigint;
    inserted bigint;
BEGIN
    prio := CASE prio_name WHEN 'LOW' THEN 0 WHEN 'NORMAL' THEN 1 WHEN 'HIGH' THEN 2 END;
    IF prio IS NULL THEN
        RAISE EXCEPTION 'priority must be LOW, NORMAL or HIGH, got %', coalesce(quote_literal(start_run.priority), 'NULL')
            USING ERRCODE = '22023', HINT = 'Use LOW, NORMAL or HIGH.';
    END IF;
    IF start_run.max_attempts IS NULL OR start_run.max_attempts < 1 OR start_run.max_attempts > 100 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 100, got %', coalesce(start_run.max_attempts::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(scale) <> 'object' OR jsonb_typeof(scale -> 'min') IS DISTINCT FROM 'number'
       OR jsonb_typeof(scale -> 'max') IS DISTINCT FROM 'number'
       OR (scale ->> 'min')::numeric >= (scale ->> 'max')::numeric THEN
        RAISE EXCEPTION 'score_scale must be an object {"min": number, "max": number} with min < max, got %', scale
            USING ERRCODE = '22023', HINT = 'NULL means {"min": 1, "max": 5}.';
    END IF;
    IF new_id = '' THEN
        RAISE EXCEPTION 'id must not be empty' USING ERRCODE = '22023', HINT = 'Pass NULL to get a generated id.';
    END IF;

    SELECT * INTO plan
      FROM @extschema@.preview_run(start_run.definition_id, start_run.models, start_run.samples_per_scenario,
                                   start_run.sample_percentage, start_run.sample_seed);

    IF EXISTS (SELECT 1 FROM @extschema@.runs AS r WHERE r.id = new_id) THEN
        RAISE EXCEPTION 'run % already exists', new_id
            USING ERRCODE = '23505', HINT = 'Pass another id, or NULL to get a generated one.';
    END IF;

    INSERT INTO @extschema@.runs (id, definition_id, status, config, created_by)
    VALUES (new_id, start_run.definition_id, 'PENDING',
            jsonb_build_object(
                'models', to_jsonb(start_run.models),
                'samplePercentage', start_run.sample_percentage,
                'samplesPerScenario', plan.samples,
                'priority', prio_name,
                'maxAttempts', start_run.max_attempts,
                'scoreScale', scale,
                'estimatedCosts', plan.estimate)
            || CASE WHEN start_run.sample_seed IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('sampleSeed', start_run.sample_seed) END,
            coalesce(start_run.created_by, current_user::text));

    INSERT INTO @extschema@.run_scenario_selections (run_id, scenario_id)
    SELECT new_id, u.scenario_id FROM unnest(plan.scenario_ids) AS u(scenario_id);

    -- The selection is already made: expand it at 100 % (no second shuffle).
    -- queue_order is sample-major; expand_run_jobs streams model-major rows,
    -- so row number r (1-based) is pair (r - 1) / samples, sample r mod samples.
    pairs := plan.scenario_count::bigint * cardinality(start_run.models);
    INSERT INTO @extschema@.probe_jobs (run_id, scenario_id, model_id, sample_index, priority, queue_order, max_attempts)
    SELECT new_id, e.scenario_id, e.model_id, e.sample_index, prio,
           e.sample_index * pairs + (e.ord - 1) / plan.samples, start_run.max_attempts
      FROM @extschema@.expand_run_jobs(plan.scenario_ids, start_run.models, plan.samples, 100, NULL,
                                       start_run.definition_id)
           WITH ORDINALITY AS e(scenario_id, model_id, sample_index, ord);
    GET DIAGNOSTICS inserted = ROW_COUNT;

    run_id := new_id;
    scenario_count := plan.scenario_count;
    samples := plan.samples;
    job_count := inserted;
    estimated_cost := plan.estimated_cost;
    unpriced_models := plan.unpriced_models;
    estimate := plan.estimate;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION @extschema@.start_run(text, text[], integer, integer, bigint, text, integer, jsonb, text, text) IS
'Creates a run in one statement: the run with its config (upstream keys), its scenario selections and one queued job per scenario x model x sample; returns the run id, job count and cost estimate. Nothing is left behind on error.';

-------------------------------------------------------------------------------
-- The queue: leases, claim, complete, fail
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.release_expired_leases(
    worker text DEFAULT 'release_expired_leases',
    max_jobs integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    requeued integer;
    k_run text[];
    k_scenario text[];
    k_model text[];
    k_sample integer[];
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

    -- Attempts left: back to the queue at once (the run-status trigger turns them
    -- PAUSED or CANCELLED when their run is). Lease holder and role stay, so
    -- the expired worker's late report is recognised as lost, not as its own.
    WITH expired AS (
        SELECT j.ctid AS tid
          FROM @extschema@.probe_jobs AS j
         WHERE j.state = 'RUNNING' AND j.lease_expires_at <= now() AND j.attempts < j.max_attempts
         ORDER BY j.lease_expires_at
         LIMIT release_expired_leases.max_jobs
           FOR UPDATE SKIP LOCKED
    )
    UPDATE @extschema@.probe_jobs AS j
       SET state = 'QUEUED', next_attempt_at = now(),
           last_error_code = 'LEASE_EXPIRED',
           last_error_message = format('the lease of worker %s ran out before it reported (attempt %s of %s)',
                                       j.lease_holder, j.attempts, j.max_attempts)
      FROM expired AS e
     WHERE j.ctid = e.tid;
    GET DIAGNOSTICS requeued = ROW_COUNT;

    -- Attempts used up: the job fails for good. Take the lease over first,
    -- so this role may write the FAILED result (row-level security).
    WITH expired AS (
        SELECT j.ctid AS tid
          FROM @extschema@.probe_jobs AS j
         WHERE j.state = 'RUNNING' AND j.lease_expires_at <= now() AND j.attempts >= j.max_attempts
         ORDER BY j.lease_expires_at
         LIMIT release_expired_leases.max_jobs
           FOR UPDATE SKIP LOCKED
    ), taken AS (
        UPDATE @extschema@.probe_jobs AS j
           SET lease_holder = release_expired_leases.worker, lease_role = current_user,
               lease_expires_at = now() + interval '1 minute'
          FROM expired AS e
         WHERE j.ctid = e.tid
        RETURNING j.run_id, j.scenario_id, j.model_id, j.sample_index
    )
    SELECT array_agg(t.run_id), array_agg(t.scenario_id), array_agg(t.model_id), array_agg(t.sample_index)
      INTO k_run, k_scenario, k_model, k_sample
      FROM taken AS t;
    IF k_run IS NULL THEN
        RETURN requeued;
    END IF;

    INSERT INTO @extschema@.probe_results
           (run_id, scenario_id, model_id, sample_index, status, error_code, error_message, retry_count)
    SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index, 'FAILED', 'LEASE_EXPIRED',
           format('the lease ran out on the last of %s attempts', j.max_attempts), j.attempts - 1
      FROM unnest(k_run, k_scenario, k_model, k_sample) AS k(run_id, scenario_id, model_id, sample_index)
      JOIN @extschema@.probe_jobs AS j
        ON j.run_id = k.run_id AND j.scenario_id = k.scenario_id
       AND j.model_id = k.model_id AND j.sample_index = k.sample_index;
    UPDATE @extschema@.probe_jobs AS j
       SET state = 'FAILED', finished_at = now(),
           last_error_code = 'LEASE_EXPIRED',
           last_error_message = format('the lease ran out on the last of %s attempts', j.max_attempts)
      FROM unnest(k_run, k_scenario, k_model, k_sample) AS k(run_id, scenario_id, model_id, sample_index)
     WHERE j.run_id = k.run_id AND j.scenario_id = k.scenario_id
       AND j.model_id = k.model_id AND j.sample_index = k.sample_index;
    RETURN requeued + cardinality(k_run);
END
$$;

COMMENT ON FUNCTION @extschema@.release_expired_leases(text, integer) IS
'Hands jobs whose lease ran out back to the queue (LEASE_EXPIRED), or fails them when their attempts are used up; returns how many it handled. claim_probe_jobs calls it; a maintenance job may too.';

CREATE FUNCTION @extschema@.claim_probe_jobs(
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
AS $$
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

    IF EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                WHERE j.state = 'RUNNING' AND j.lease_expires_at <= now()) THEN
        PERFORM @extschema@.release_expired_leases(claim_probe_jobs.worker, 100);
    END IF;

    RETURN QUERY
    WITH picked AS (
        SELECT j.ctid AS tid
          FROM @extschema@.probe_jobs AS j
         WHERE j.state = 'QUEUED' AND j.next_attempt_at <= now()
         ORDER BY j.priority DESC, j.created_at, j.queue_order
         LIMIT claim_probe_jobs.max_jobs
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE @extschema@.probe_jobs AS j
           SET state = 'RUNNING', attempts = j.attempts + 1,
               lease_holder = claim_probe_jobs.worker, lease_role = current_user,
               lease_expires_at = now() + claim_probe_jobs.lease, claimed_at = now()
          FROM picked AS p
         WHERE j.ctid = p.tid
        RETURNING j.run_id, j.scenario_id, j.model_id, j.sample_index, j.attempts, j.max_attempts,
                  j.lease_expires_at, j.priority, j.created_at, j.queue_order
    )
    SELECT c.run_id, c.scenario_id, c.model_id, c.sample_index, c.attempts, c.max_attempts,
           c.lease_expires_at, s.definition_id, s.name, s.content
      FROM claimed AS c
      JOIN @extschema@.scenarios AS s ON s.id = c.scenario_id
     ORDER BY c.priority DESC, c.created_at, c.queue_order;
END
$$;

COMMENT ON FUNCTION @extschema@.claim_probe_jobs(text, integer, interval) IS
'Leases up to max_jobs queued jobs to a worker (highest priority, then oldest; FOR UPDATE SKIP LOCKED), first handing back jobs whose lease ran out; returns what the worker needs, scenario content included.';

CREATE FUNCTION @extschema@.complete_probe_job(
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
    IF complete_probe_job.score IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
        RAISE EXCEPTION 'score must be a finite number, got %', complete_probe_job.score
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
    IF complete_probe_job.cost < 0 OR complete_probe_job.cost = 'NaN'::numeric THEN
        RAISE EXCEPTION 'cost must be a non-negative number, got %', complete_probe_job.cost
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

    -- The caller's claim: the job is still RUNNING under this worker name
    -- and role (and attempt, when given). A lease that ran out still counts
    -- as long as nobody has taken the job since.
    -- (Looked up by the primary key alone, then checked: a condition on
    -- state here would let the planner pick a partial index of the run.)
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
       SET state = 'COMPLETED', finished_at = now()
     WHERE j.run_id = complete_probe_job.run_id AND j.scenario_id = complete_probe_job.scenario_id
       AND j.model_id = complete_probe_job.model_id AND j.sample_index = complete_probe_job.sample_index;

    RETURN QUERY SELECT 'completed'::text, new_transcript, 'COMPLETED'::text;
END
$$;

COMMENT ON FUNCTION @extschema@.complete_probe_job(text, text, text, integer, text, jsonb, double precision, text, text, integer, integer, numeric, text, integer, integer) IS
'Records a successful probe (transcript with its sample_index, SUCCESS probe result) and closes the job. Idempotent: returns completed, already_completed (nothing changed) or lease_lost (the caller no longer holds the job; nothing changed).';

CREATE FUNCTION @extschema@.fail_probe_job(
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
    job record;
    msg text := fail_probe_job.error_message;
    cur record;
    delay interval;
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
        UPDATE @extschema@.probe_jobs AS j
           SET state = 'QUEUED', next_attempt_at = now() + delay,
               last_error_code = fail_probe_job.error_code, last_error_message = msg
         WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
           AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index;
        -- The state after the triggers: PAUSED or CANCELLED if the run is.
        RETURN QUERY
        SELECT 'retry_scheduled'::text, j.state, j.next_attempt_at
          FROM @extschema@.probe_jobs AS j
         WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
           AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index;
        RETURN;
    END IF;

    INSERT INTO @extschema@.probe_results
           (run_id, scenario_id, model_id, sample_index, status, duration_ms, error_code, error_message, retry_count)
    VALUES (fail_probe_job.run_id, fail_probe_job.scenario_id, fail_probe_job.model_id, fail_probe_job.sample_index,
            'FAILED', fail_probe_job.duration_ms, fail_probe_job.error_code, msg, job.attempts - 1);
    UPDATE @extschema@.probe_jobs AS j
       SET state = 'FAILED', finished_at = now(),
           last_error_code = fail_probe_job.error_code, last_error_message = msg
     WHERE j.run_id = fail_probe_job.run_id AND j.scenario_id = fail_probe_job.scenario_id
       AND j.model_id = fail_probe_job.model_id AND j.sample_index = fail_probe_job.sample_index;
    RETURN QUERY SELECT 'failed'::text, 'FAILED'::text, NULL::timestamptz;
END
$$;

COMMENT ON FUNCTION @extschema@.fail_probe_job(text, text, text, integer, text, text, text, boolean, integer, interval, integer) IS
'Records a failed attempt: retryable ones go back to the queue with exponential backoff until max_attempts, then (or at once when not retryable) the job is FAILED with a FAILED probe result. Returns retry_scheduled, failed, already_failed, already_completed or lease_lost.';

-------------------------------------------------------------------------------
-- Run control
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.pause_run(run_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st text;
    n integer;
BEGIN
    SELECT r.status INTO st FROM @extschema@.runs AS r WHERE r.id = pause_run.run_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', pause_run.run_id USING ERRCODE = 'P0002';
    END IF;
    IF st = 'PAUSED' THEN
        RETURN 0;
    END IF;
    IF st NOT IN ('PENDING', 'RUNNING') THEN
        RAISE EXCEPTION 'run % is %; only a PENDING or RUNNING run can be paused', pause_run.run_id, st
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
'Pauses a run: its queued jobs become PAUSED and are not handed out; running jobs finish normally. Returns the number of jobs paused (0 if already paused).';

CREATE FUNCTION @extschema@.resume_run(run_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st text;
    started timestamptz;
    n integer;
BEGIN
    SELECT r.status, r.started_at INTO st, started
      FROM @extschema@.runs AS r WHERE r.id = resume_run.run_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', resume_run.run_id USING ERRCODE = 'P0002';
    END IF;
    IF st IN ('PENDING', 'RUNNING') THEN
        RETURN 0;
    END IF;
    IF st <> 'PAUSED' THEN
        RAISE EXCEPTION 'run % is %; only a PAUSED run can be resumed', resume_run.run_id, st
            USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.runs AS r
       SET status = CASE WHEN started IS NULL
                          AND NOT EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                                           WHERE j.run_id = resume_run.run_id AND j.attempts > 0)
                         THEN 'PENDING' ELSE 'RUNNING' END,
           started_at = CASE WHEN started IS NULL
                              AND EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                                           WHERE j.run_id = resume_run.run_id AND j.attempts > 0)
                             THEN now() ELSE started END
     WHERE r.id = resume_run.run_id;
    UPDATE @extschema@.probe_jobs AS j SET state = 'QUEUED'
     WHERE j.run_id = resume_run.run_id AND j.state = 'PAUSED';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION @extschema@.resume_run(text) IS
'Resumes a paused run: its PAUSED jobs are queued again (keeping their backoff). Returns the number of jobs queued (0 if the run was not paused).';

CREATE FUNCTION @extschema@.cancel_run(run_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st text;
    n integer;
BEGIN
    SELECT r.status INTO st FROM @extschema@.runs AS r WHERE r.id = cancel_run.run_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', cancel_run.run_id USING ERRCODE = 'P0002';
    END IF;
    IF st = 'CANCELLED' THEN
        RETURN 0;
    END IF;
    IF st NOT IN ('PENDING', 'RUNNING', 'PAUSED') THEN
        RAISE EXCEPTION 'run % is %; only a PENDING, RUNNING or PAUSED run can be cancelled', cancel_run.run_id, st
            USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.runs AS r SET status = 'CANCELLED', completed_at = now() WHERE r.id = cancel_run.run_id;
    UPDATE @extschema@.probe_jobs AS j SET state = 'CANCELLED', finished_at = now()
     WHERE j.run_id = cancel_run.run_id AND j.state IN ('QUEUED', 'PAUSED');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION @extschema@.cancel_run(text) IS
'Cancels a run: its queued and paused jobs become CANCELLED; running jobs may still report (a success is kept, a retry is cancelled). Returns the number of jobs cancelled (0 if already cancelled).';

-------------------------------------------------------------------------------
-- Progress, derived from the jobs
-------------------------------------------------------------------------------

-- A text bar of width 30 for psql's \watch: # completed, x failed,
-- > running, . still to do. Cumulative rounding, so the parts add up.
CREATE FUNCTION @extschema@.progress_bar(total bigint, completed bigint, failed bigint, running bigint)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    -- Segment ends are clamped to 0..30 and kept in order, in numeric, so
    -- any counts (negative, above total, near the bigint limit) give a bar
    -- exactly 30 wide.
    SELECT '[' || repeat('#', c) || repeat('x', f - c) || repeat('>', r - f) || repeat('.', 30 - r) || ']'
      FROM (SELECT c, greatest(c, f) AS f, greatest(c, f, r) AS r
              FROM (SELECT least(30, greatest(0, floor(30 * $2::numeric / t)))::integer AS c,
                           least(30, greatest(0, floor(30 * ($2::numeric + $3) / t)))::integer AS f,
                           least(30, greatest(0, floor(30 * ($2::numeric + $3 + $4) / t)))::integer AS r
                      FROM (SELECT nullif(greatest($1, 0), 0)::numeric AS t) AS z
                     WHERE t IS NOT NULL) AS raw) AS parts
$$;

COMMENT ON FUNCTION @extschema@.progress_bar(bigint, bigint, bigint, bigint) IS
'A 30-character progress bar: # completed, x failed, > running, . to do (NULL when total is 0).';

CREATE VIEW @extschema@.run_progress AS
SELECT r.id AS run_id,
       r.definition_id,
       r.status,
       t.total,
       c.completed,
       c.failed,
       c.running,
       c.queued,
       c.paused,
       c.cancelled,
       round(100.0 * (c.completed + c.failed) / nullif(t.total, 0), 1) AS percent,
       @extschema@.progress_bar(t.total, c.completed, c.failed, c.running) AS bar,
       r.created_at,
       r.started_at,
       r.completed_at
  FROM @extschema@.runs AS r
  CROSS JOIN LATERAL (
        SELECT count(*) AS jobs,
               count(*) FILTER (WHERE j.state = 'COMPLETED') AS completed,
               count(*) FILTER (WHERE j.state = 'FAILED') AS failed,
               count(*) FILTER (WHERE j.state = 'RUNNING') AS running,
               count(*) FILTER (WHERE j.state = 'QUEUED') AS queued,
               count(*) FILTER (WHERE j.state = 'PAUSED') AS paused,
               count(*) FILTER (WHERE j.state = 'CANCELLED') AS cancelled
          FROM @extschema@.probe_jobs AS j
         WHERE j.run_id = r.id) AS c
  CROSS JOIN LATERAL (
        SELECT (SELECT count(*) FROM @extschema@.run_scenario_selections AS s WHERE s.run_id = r.id)
               * CASE WHEN jsonb_typeof(r.config -> 'models') = 'array'
                      THEN jsonb_array_length(r.config -> 'models') ELSE 0 END
               * CASE WHEN jsonb_typeof(r.config -> 'samplesPerScenario') = 'number'
                      THEN (r.config ->> 'samplesPerScenario')::numeric::bigint ELSE 1 END AS total) AS t
 WHERE c.jobs > 0;

COMMENT ON VIEW @extschema@.run_progress IS
'Progress of every run that has jobs, counted from the jobs (never a stored counter): total = selected scenarios x models x samples per scenario, jobs per state, percent finished (completed + failed) and a text bar for \watch.';

CREATE VIEW @extschema@.run_model_progress AS
SELECT j.run_id,
       j.model_id,
       r.status,
       sel.scenarios * CASE WHEN jsonb_typeof(r.config -> 'samplesPerScenario') = 'number'
                            THEN (r.config ->> 'samplesPerScenario')::numeric::bigint ELSE 1 END AS total,
       count(*) FILTER (WHERE j.state = 'COMPLETED') AS completed,
       count(*) FILTER (WHERE j.state = 'FAILED') AS failed,
       count(*) FILTER (WHERE j.state = 'RUNNING') AS running,
       count(*) FILTER (WHERE j.state = 'QUEUED') AS queued,
       count(*) FILTER (WHERE j.state = 'PAUSED') AS paused,
       count(*) FILTER (WHERE j.state = 'CANCELLED') AS cancelled,
       round(100.0 * count(*) FILTER (WHERE j.state IN ('COMPLETED', 'FAILED'))
             / nullif(sel.scenarios * CASE WHEN jsonb_typeof(r.config -> 'samplesPerScenario') = 'number'
                                          THEN (r.config ->> 'samplesPerScenario')::numeric::bigint ELSE 1 END, 0), 1) AS percent,
       format('%s of %s samples', count(*) FILTER (WHERE j.state = 'COMPLETED'),
              sel.scenarios * CASE WHEN jsonb_typeof(r.config -> 'samplesPerScenario') = 'number'
                                   THEN (r.config ->> 'samplesPerScenario')::numeric::bigint ELSE 1 END) AS samples,
       @extschema@.progress_bar(
           sel.scenarios * CASE WHEN jsonb_typeof(r.config -> 'samplesPerScenario') = 'number'
                                THEN (r.config ->> 'samplesPerScenario')::numeric::bigint ELSE 1 END,
           count(*) FILTER (WHERE j.state = 'COMPLETED'),
           count(*) FILTER (WHERE j.state = 'FAILED'),
           count(*) FILTER (WHERE j.state = 'RUNNING')) AS bar
  FROM @extschema@.probe_jobs AS j
  JOIN @extschema@.runs AS r ON r.id = j.run_id
  CROSS JOIN LATERAL (SELECT count(*) AS scenarios
                        FROM @extschema@.run_scenario_selections AS s
                       WHERE s.run_id = r.id) AS sel
 GROUP BY j.run_id, j.model_id, r.status, r.config, sel.scenarios;

COMMENT ON VIEW @extschema@.run_model_progress IS
'Progress per run and model, counted from the jobs: total = selected scenarios x samples per scenario, jobs per state, percent, "25 of 50 samples" and a text bar.';

-------------------------------------------------------------------------------
-- Row-level security: a worker role writes only jobs its role holds
-------------------------------------------------------------------------------
-- Table owners and superusers bypass these policies, and so do the views
-- (they run with their owner's rights). A role with UPDATE on runs is a run
-- manager and is not restricted. Any other role (a worker) may, within its
-- table privileges: read every row; claim queued jobs or jobs whose lease
-- ran out; change jobs its role holds (RUNNING with lease_role =
-- current_user); hand a job back to the queue; and insert transcripts and
-- probe results only for jobs its role holds. See README "Security".

ALTER TABLE @extschema@.probe_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.transcripts ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.probe_results ENABLE ROW LEVEL SECURITY;

CREATE POLICY probe_jobs_read ON @extschema@.probe_jobs
    FOR SELECT USING (true);
CREATE POLICY probe_jobs_manage ON @extschema@.probe_jobs
    FOR ALL
    USING ((SELECT pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE')))
    WITH CHECK ((SELECT pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE')));
CREATE POLICY probe_jobs_work ON @extschema@.probe_jobs
    FOR UPDATE
    USING (state OPERATOR(pg_catalog.=) 'QUEUED'
           OR (state OPERATOR(pg_catalog.=) 'RUNNING'
               AND (lease_role OPERATOR(pg_catalog.=) (CURRENT_USER)::text
                    OR lease_expires_at OPERATOR(pg_catalog.<=) pg_catalog.now())))
    WITH CHECK ((lease_role OPERATOR(pg_catalog.=) (CURRENT_USER)::text
                 AND state OPERATOR(pg_catalog.=) ANY (ARRAY['RUNNING', 'COMPLETED', 'FAILED']))
                OR state OPERATOR(pg_catalog.=) 'QUEUED');

CREATE POLICY transcripts_read ON @extschema@.transcripts
    FOR SELECT USING (true);
CREATE POLICY transcripts_manage ON @extschema@.transcripts
    FOR ALL
    USING ((SELECT pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE')))
    WITH CHECK ((SELECT pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE')));
CREATE POLICY transcripts_record ON @extschema@.transcripts
    FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                         WHERE j.run_id OPERATOR(pg_catalog.=) transcripts.run_id
                           AND j.scenario_id OPERATOR(pg_catalog.=) transcripts.scenario_id
                           AND j.model_id OPERATOR(pg_catalog.=) transcripts.model_id
                           AND j.sample_index OPERATOR(pg_catalog.=) transcripts.sample_index
                           AND j.state OPERATOR(pg_catalog.=) 'RUNNING'
                           AND j.lease_role OPERATOR(pg_catalog.=) (CURRENT_USER)::text));

CREATE POLICY probe_results_read ON @extschema@.probe_results
    FOR SELECT USING (true);
CREATE POLICY probe_results_manage ON @extschema@.probe_results
    FOR ALL
    USING ((SELECT pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE')))
    WITH CHECK ((SELECT pg_catalog.has_table_privilege('@extschema@.runs'::pg_catalog.regclass, 'UPDATE')));
CREATE POLICY probe_results_record ON @extschema@.probe_results
    FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.probe_jobs AS j
                         WHERE j.run_id OPERATOR(pg_catalog.=) probe_results.run_id
                           AND j.scenario_id OPERATOR(pg_catalog.=) probe_results.scenario_id
                           AND j.model_id OPERATOR(pg_catalog.=) probe_results.model_id
                           AND j.sample_index OPERATOR(pg_catalog.=) probe_results.sample_index
                           AND j.state OPERATOR(pg_catalog.=) 'RUNNING'
                           AND j.lease_role OPERATOR(pg_catalog.=) (CURRENT_USER)::text));

COMMENT ON POLICY probe_jobs_read ON @extschema@.probe_jobs IS 'Every role with SELECT sees every job.';
COMMENT ON POLICY probe_jobs_manage ON @extschema@.probe_jobs IS 'Run managers (UPDATE on runs) are not restricted.';
COMMENT ON POLICY probe_jobs_work ON @extschema@.probe_jobs IS 'Workers: claim queued or expired jobs, change only jobs their role holds, hand jobs back.';
COMMENT ON POLICY transcripts_read ON @extschema@.transcripts IS 'Every role with SELECT sees every transcript.';
COMMENT ON POLICY transcripts_manage ON @extschema@.transcripts IS 'Run managers (UPDATE on runs) are not restricted.';
COMMENT ON POLICY transcripts_record ON @extschema@.transcripts IS 'Workers insert transcripts only for jobs their role holds.';
COMMENT ON POLICY probe_results_read ON @extschema@.probe_results IS 'Every role with SELECT sees every probe result.';
COMMENT ON POLICY probe_results_manage ON @extschema@.probe_results IS 'Run managers (UPDATE on runs) are not restricted.';
COMMENT ON POLICY probe_results_record ON @extschema@.probe_results IS 'Workers insert probe results only for jobs their role holds.';
