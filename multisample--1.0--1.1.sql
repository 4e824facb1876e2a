-- multisample 1.0 -> 1.1: multi-sample runs.
--
-- Released script: never edit it. Changes go into a new upgrade script.
--
-- CREATE EXTENSION installs 1.0 and then runs this script, so a fresh
-- install and an upgraded one are the same by construction. Every name is
-- schema-qualified: nothing here depends on the caller's search_path.

\echo Use "ALTER EXTENSION multisample UPDATE TO '1.1'" to load this file. \quit

-------------------------------------------------------------------------------
-- Schema migration: sample_index, keys that include run_id, finite scores.
-------------------------------------------------------------------------------

-- Scores must be finite from 1.1 on. A non-finite legacy score carries no
-- usable judgement: it becomes NULL ("not judged"), and the count is reported.
-- Reports are WARNINGs: PostgreSQL hides NOTICEs raised by extension scripts.
DO $migrate_scores$
DECLARE
    cleared bigint;
BEGIN
    UPDATE @extschema@.transcripts
       SET score = NULL
     WHERE score OPERATOR(pg_catalog.=) 'NaN'::pg_catalog.float8
        OR score OPERATOR(pg_catalog.=) 'Infinity'::pg_catalog.float8
        OR score OPERATOR(pg_catalog.=) '-Infinity'::pg_catalog.float8;
    GET DIAGNOSTICS cleared = ROW_COUNT;
    IF cleared OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'multisample 1.1: % transcript(s) had a non-finite score; it was set to NULL (not judged)', cleared
            USING HINT = 'From 1.1 on, scores must be finite; a CHECK constraint enforces it.';
    END IF;
END
$migrate_scores$;

ALTER TABLE @extschema@.transcripts
    ADD COLUMN sample_index integer NOT NULL DEFAULT 0
        CONSTRAINT transcripts_sample_index_check CHECK (sample_index OPERATOR(pg_catalog.>=) 0),
    ADD CONSTRAINT transcripts_score_finite CHECK (
        score IS NULL OR (
            score OPERATOR(pg_catalog.<>) 'NaN'::pg_catalog.float8
            AND score OPERATOR(pg_catalog.<>) 'Infinity'::pg_catalog.float8
            AND score OPERATOR(pg_catalog.<>) '-Infinity'::pg_catalog.float8));

ALTER TABLE @extschema@.probe_results
    ADD COLUMN sample_index integer NOT NULL DEFAULT 0
        CONSTRAINT probe_results_sample_index_check CHECK (sample_index OPERATOR(pg_catalog.>=) 0);

-- Retried jobs of 1.0 often left several live transcripts for one
-- scenario-model pair of a run. They become samples 0, 1, 2 ... in the order
-- they were written, instead of being deleted or failing the upgrade.
DO $renumber$
DECLARE
    renumbered_pairs bigint;
BEGIN
    WITH numbered AS (
        SELECT t.run_id, t.id,
               (pg_catalog.row_number() OVER (PARTITION BY t.run_id, t.scenario_id, t.model_id
                                              ORDER BY t.created_at, t.id))::integer
                   OPERATOR(pg_catalog.-) 1 AS new_index
          FROM @extschema@.transcripts AS t
         WHERE t.deleted_at IS NULL
    ), moved AS (
        UPDATE @extschema@.transcripts AS t
           SET sample_index = n.new_index
          FROM numbered AS n
         WHERE t.id OPERATOR(pg_catalog.=) n.id
           AND n.new_index OPERATOR(pg_catalog.>) 0
        RETURNING t.run_id, t.scenario_id, t.model_id
    )
    SELECT pg_catalog.count(*) INTO renumbered_pairs
      FROM (SELECT DISTINCT run_id, scenario_id, model_id FROM moved) AS pairs;
    IF renumbered_pairs OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'multisample 1.1: % scenario-model pair(s) had several live transcripts; they were kept and numbered as samples 0, 1, 2 ... by created_at, id', renumbered_pairs;
    END IF;
END
$renumber$;

-- A 1.0 probe result takes the sample index of the live transcript it names.
UPDATE @extschema@.probe_results AS r
   SET sample_index = t.sample_index
  FROM @extschema@.transcripts AS t
 WHERE t.id OPERATOR(pg_catalog.=) r.transcript_id
   AND t.deleted_at IS NULL
   AND t.sample_index OPERATOR(pg_catalog.<>) 0;

-- Every key of a run-scoped table includes run_id (Citus distribution column).
ALTER TABLE @extschema@.probe_results DROP CONSTRAINT probe_results_transcript_id_fkey;
ALTER TABLE @extschema@.transcripts DROP CONSTRAINT transcripts_pkey;
ALTER TABLE @extschema@.transcripts ADD CONSTRAINT transcripts_pkey PRIMARY KEY (run_id, id);
ALTER TABLE @extschema@.probe_results
    ADD CONSTRAINT probe_results_transcript_fkey
        FOREIGN KEY (run_id, transcript_id) REFERENCES @extschema@.transcripts (run_id, id);

ALTER TABLE @extschema@.probe_results DROP CONSTRAINT probe_results_pkey;
ALTER TABLE @extschema@.probe_results
    ADD CONSTRAINT probe_results_pkey PRIMARY KEY (run_id, scenario_id, model_id, sample_index);

-- At most one live transcript per sample.
CREATE UNIQUE INDEX transcripts_live_sample_key
    ON @extschema@.transcripts (run_id, scenario_id, model_id, sample_index)
    WHERE deleted_at IS NULL;
-- The live-sample index serves every (run, scenario, model) lookup.
DROP INDEX @extschema@.transcripts_run_pair_idx;

COMMENT ON COLUMN @extschema@.transcripts.sample_index IS 'Which of the N samples of its scenario-model pair this answer is (0-based).';
COMMENT ON COLUMN @extschema@.transcripts.score IS 'Judged score on the run''s score scale; NULL until judged; always finite.';
COMMENT ON COLUMN @extschema@.probe_results.sample_index IS 'Which of the N samples of its scenario-model pair this outcome is for (0-based).';
COMMENT ON INDEX @extschema@.transcripts_live_sample_key IS 'At most one live (not deleted) transcript per sample of a run.';

-------------------------------------------------------------------------------
-- Statistics: variance_stats, confidence_interval, t_quantile, normal_quantile.
-------------------------------------------------------------------------------

CREATE TYPE @extschema@.variance_stats AS (
    sample_count bigint,
    mean         pg_catalog.float8,
    std_dev      pg_catalog.float8,
    variance     pg_catalog.float8,
    std_error    pg_catalog.float8,
    min          pg_catalog.float8,
    max          pg_catalog.float8,
    range        pg_catalog.float8
);
COMMENT ON TYPE @extschema@.variance_stats IS
    'Result of variance_stats(x): count of non-NULL values, mean, sample standard deviation and variance (n - 1), standard error of the mean (std_dev / sqrt(n)), min, max and range; std_dev, variance and std_error are NULL for one value';

CREATE TYPE @extschema@.confidence_interval AS (
    lower        pg_catalog.float8,
    upper        pg_catalog.float8,
    level        pg_catalog.float8,
    mean         pg_catalog.float8,
    margin       pg_catalog.float8,
    sample_count bigint
);
COMMENT ON TYPE @extschema@.confidence_interval IS
    'Result of confidence_interval(x [, level]): the Student-t interval mean +- margin for the mean, margin = t_{(1+level)/2, n-1} * s / sqrt(n); lower, upper and margin are NULL for one value';

-- Support functions. The state is float8[7] = {count, mean, M2, min, max,
-- mean_low, level}, all zeros when empty; mean_low is the low-order part of
-- the mean (a double-double mean keeps offset data exact); level stays 0
-- unless confidence_interval(x, level) sets it.
CREATE FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8) IS
    'Transition function of variance_stats and confidence_interval: adds a value to the state {count, mean, M2, min, max, mean_low, level}';

CREATE FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_accum_level'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8) IS
    'Transition function of confidence_interval(x, level): checks the level (in (0, 1), constant within a group) and adds the value';

CREATE FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_remove'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8) IS
    'Inverse transition function for window frames: removes a value, or returns NULL (recompute the frame) when the value is the current min or max or anything is not finite';

CREATE FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_remove'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8) IS
    'Inverse transition function of confidence_interval(x, level) for window frames; NULL asks for a recomputation';

CREATE FUNCTION @extschema@.moments_combine(pg_catalog.float8[], pg_catalog.float8[])
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_combine(pg_catalog.float8[], pg_catalog.float8[]) IS
    'Combine function: merges two partial states with the Chan-Golub-LeVeque formula (parallel and partitionwise aggregation, Citus)';

CREATE FUNCTION @extschema@.variance_stats_final(pg_catalog.float8[])
RETURNS @extschema@.variance_stats
AS 'MODULE_PATHNAME', 'ms_variance_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.variance_stats_final(pg_catalog.float8[]) IS
    'Final function of variance_stats: the statistics of a state (NULL when it holds no value)';

CREATE FUNCTION @extschema@.confidence_interval_final(pg_catalog.float8[])
RETURNS @extschema@.confidence_interval
AS 'MODULE_PATHNAME', 'ms_confidence_interval_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.confidence_interval_final(pg_catalog.float8[]) IS
    'Final function of confidence_interval: the Student-t interval of a state at its level (0.95 when none was given; NULL when it holds no value)';

-- variance_stats(x) and confidence_interval(x) use the same transition
-- function, state and INITCOND, and read-only final functions, so one query
-- computing both keeps a single state per group.
CREATE AGGREGATE @extschema@.variance_stats(pg_catalog.float8) (
    SFUNC = @extschema@.moments_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.variance_stats_final,
    COMBINEFUNC = @extschema@.moments_combine,
    MSFUNC = @extschema@.moments_accum,
    MINVFUNC = @extschema@.moments_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.variance_stats_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.variance_stats(pg_catalog.float8) IS
    'Sample statistics of the non-NULL values: count, mean, std_dev and variance (n - 1), std_error, min, max, range; NULL for no values';

CREATE AGGREGATE @extschema@.confidence_interval(pg_catalog.float8) (
    SFUNC = @extschema@.moments_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.confidence_interval_final,
    COMBINEFUNC = @extschema@.moments_combine,
    MSFUNC = @extschema@.moments_accum,
    MINVFUNC = @extschema@.moments_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.confidence_interval_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.confidence_interval(pg_catalog.float8) IS
    '95 % Student-t confidence interval for the mean of the non-NULL values (df = n - 1); NULL for no values';

CREATE AGGREGATE @extschema@.confidence_interval(pg_catalog.float8, level pg_catalog.float8) (
    SFUNC = @extschema@.moments_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.confidence_interval_final,
    COMBINEFUNC = @extschema@.moments_combine,
    MSFUNC = @extschema@.moments_accum,
    MINVFUNC = @extschema@.moments_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.confidence_interval_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.confidence_interval(pg_catalog.float8, pg_catalog.float8) IS
    'Student-t confidence interval for the mean of the non-NULL values at the given level (in (0, 1), constant within a group); NULL for no values';

CREATE FUNCTION @extschema@.t_quantile(p pg_catalog.float8, df pg_catalog.float8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_t_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.t_quantile(pg_catalog.float8, pg_catalog.float8) IS
    'Student-t quantile: t with P(T <= t) = p for df > 0 degrees of freedom (any real df; Infinity gives the normal quantile), 0 < p < 1; relative error below 1e-13';

CREATE FUNCTION @extschema@.normal_quantile(p pg_catalog.float8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_normal_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normal_quantile(pg_catalog.float8) IS
    'Standard normal quantile: z with P(Z <= z) = p, 0 < p < 1 (Wichura AS 241)';

-------------------------------------------------------------------------------
-- Runs and jobs: deterministic scenario selection and job expansion (C).
-------------------------------------------------------------------------------

-- Not STRICT: NULL id lists and a NULL percentage are errors, not an empty
-- answer; a NULL seed means "seed from definition_id" (SPEC 4.1).
CREATE FUNCTION @extschema@.select_scenarios(
    scenario_ids pg_catalog.text[],
    sample_percentage pg_catalog.int4,
    definition_id pg_catalog.text,
    sample_seed pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.text[]
AS 'MODULE_PATHNAME', 'select_scenarios'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;

COMMENT ON FUNCTION @extschema@.select_scenarios(pg_catalog.text[], pg_catalog.int4, pg_catalog.text, pg_catalog.int8) IS
'The scenario ids a run selects, exactly as the reference platform selects them: all of them in the given order at 100 %, else the first max(1, floor(n * percentage / 100)) of a Park-Miller Fisher-Yates shuffle seeded by sample_seed (0 .. 2^53-1) or, when it is NULL, by the hash of definition_id.';

-- Planner support: the exact row estimate when the arguments are known.
CREATE FUNCTION @extschema@.expand_run_jobs_support(pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'expand_run_jobs_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER;

COMMENT ON FUNCTION @extschema@.expand_run_jobs_support(pg_catalog.internal) IS
'Planner support for expand_run_jobs: estimates its rows as selected scenarios x models x samples when those are known at plan time.';

-- STABLE, not IMMUTABLE: a NULL samples_per_scenario reads the setting
-- multisample.default_samples_per_scenario.
CREATE FUNCTION @extschema@.expand_run_jobs(
    scenario_ids pg_catalog.text[],
    model_ids pg_catalog.text[],
    samples_per_scenario pg_catalog.int4 DEFAULT NULL,
    sample_percentage pg_catalog.int4 DEFAULT 100,
    sample_seed pg_catalog.int8 DEFAULT NULL,
    definition_id pg_catalog.text DEFAULT '')
RETURNS TABLE (scenario_id pg_catalog.text, model_id pg_catalog.text, sample_index pg_catalog.int4)
AS 'MODULE_PATHNAME', 'expand_run_jobs'
LANGUAGE C STABLE PARALLEL SAFE SECURITY INVOKER
ROWS 1000 SUPPORT @extschema@.expand_run_jobs_support;

COMMENT ON FUNCTION @extschema@.expand_run_jobs(pg_catalog.text[], pg_catalog.text[], pg_catalog.int4, pg_catalog.int4, pg_catalog.int8, pg_catalog.text) IS
'The probe jobs of a run, streamed in constant memory: for each model as given, each selected scenario in selection order (see select_scenarios), sample_index 0 .. N-1. NULL samples_per_scenario means the setting multisample.default_samples_per_scenario.';

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

-------------------------------------------------------------------------------
-- Analysis: what researchers look at (views, analysis_json, CSV export).
--
-- Every view reads live transcripts (deleted_at IS NULL). The statistics views
-- read only scored ones (score IS NOT NULL). Every view keeps run_id as a
-- plain output column and groups or partitions by it, so a WHERE run_id = ...
-- on a view is pushed down to an index scan of that run's rows.
-------------------------------------------------------------------------------

-- Scored live samples of a run, in (model, scenario) order, with the score in
-- the index: the statistics views and analysis_json aggregate them with an
-- index-only scan and no sort.
CREATE INDEX transcripts_scored_idx
    ON @extschema@.transcripts (run_id, model_id, scenario_id) INCLUDE (score)
    WHERE deleted_at IS NULL AND score IS NOT NULL;
COMMENT ON INDEX @extschema@.transcripts_scored_idx IS
    'Scored live samples of a run by model and scenario, score included: serves the statistics views and analysis_json with an index-only scan.';

-------------------------------------------------------------------------------
-- run_analysis_settings: what the analysis reads from runs.config.
-------------------------------------------------------------------------------
-- samplesPerScenario: absent or null means 1; an integer from 1 up is used;
-- anything else is unusable (NULL here, and a warning in analysis_json).
-- scoreScale: absent or null means {"min": 1, "max": 5}; each of min and max
-- absent means its default; a scale whose bounds are not numbers (or beyond
-- 1e150) or whose max is not above its min is unusable (NULL bounds).
CREATE VIEW @extschema@.run_analysis_settings AS
SELECT r.id AS run_id,
       CASE
           WHEN r.config -> 'samplesPerScenario' IS NULL
             OR pg_catalog.jsonb_typeof(r.config -> 'samplesPerScenario') = 'null' THEN 1
           WHEN pg_catalog.jsonb_typeof(r.config -> 'samplesPerScenario') = 'number' THEN
               CASE WHEN (r.config -> 'samplesPerScenario')::numeric >= 1
                     AND (r.config -> 'samplesPerScenario')::numeric <= 2147483647
                     AND (r.config -> 'samplesPerScenario')::numeric
                         = pg_catalog.trunc((r.config -> 'samplesPerScenario')::numeric)
                    THEN (r.config -> 'samplesPerScenario')::numeric::integer
               END
       END AS samples_per_scenario,
       CASE WHEN sc.smin IS NOT NULL AND sc.smax IS NOT NULL AND sc.smax > sc.smin THEN sc.smin END
           AS score_scale_min,
       CASE WHEN sc.smin IS NOT NULL AND sc.smax IS NOT NULL AND sc.smax > sc.smin THEN sc.smax END
           AS score_scale_max
  FROM @extschema@.runs AS r
 CROSS JOIN LATERAL (
       SELECT CASE
                  WHEN s.scale IS NULL OR pg_catalog.jsonb_typeof(s.scale) = 'null' THEN 1::float8
                  WHEN pg_catalog.jsonb_typeof(s.scale) <> 'object' THEN NULL
                  WHEN s.scale -> 'min' IS NULL THEN 1::float8
                  WHEN pg_catalog.jsonb_typeof(s.scale -> 'min') = 'number' THEN
                      CASE WHEN pg_catalog.abs((s.scale -> 'min')::numeric) < 1e150 THEN (s.scale -> 'min')::float8 END
              END AS smin,
              CASE
                  WHEN s.scale IS NULL OR pg_catalog.jsonb_typeof(s.scale) = 'null' THEN 5::float8
                  WHEN pg_catalog.jsonb_typeof(s.scale) <> 'object' THEN NULL
                  WHEN s.scale -> 'max' IS NULL THEN 5::float8
                  WHEN pg_catalog.jsonb_typeof(s.scale -> 'max') = 'number' THEN
                      CASE WHEN pg_catalog.abs((s.scale -> 'max')::numeric) < 1e150 THEN (s.scale -> 'max')::float8 END
              END AS smax
         FROM (SELECT r.config -> 'scoreScale' AS scale) AS s
       ) AS sc;
COMMENT ON VIEW @extschema@.run_analysis_settings IS
    'Per run, the settings the analysis reads from runs.config: samples_per_scenario (absent = 1) and the score scale (absent = 1..5); NULL where the config value is unusable.';

-------------------------------------------------------------------------------
-- Samples and dialogues.
-------------------------------------------------------------------------------
-- transcripts.content is expected to hold the dialogue as
--   {"turns": [{"role": "user", "content": "..."}, {"role": "assistant", ...}, ...]}
-- (turns may carry other keys, e.g. the reference platform's
-- {"probePrompt": ..., "targetResponse": ...}). Other shapes are read
-- gracefully: a top-level array is the list of turns; {} or JSON null is no
-- turns; any other document is one turn (the whole document).

CREATE VIEW @extschema@.transcript_samples AS
SELECT t.run_id, t.scenario_id, s.name AS scenario_name, t.model_id, t.model_version,
       t.sample_index, t.id AS transcript_id, t.score, t.decision_code, t.decision_text,
       t.input_tokens, t.output_tokens, t.cost, t.created_at, t.content
  FROM @extschema@.transcripts AS t
  LEFT JOIN @extschema@.scenarios AS s ON s.id = t.scenario_id
 WHERE t.deleted_at IS NULL
 ORDER BY t.run_id, t.scenario_id, t.model_id, t.sample_index;
COMMENT ON VIEW @extschema@.transcript_samples IS
    'Every live sample of each scenario-model pair, ordered by sample_index; filter by run_id, scenario_id, model_id and sample_index.';

CREATE VIEW @extschema@.transcript_turns AS
SELECT t.run_id, t.scenario_id, t.model_id, t.sample_index, t.id AS transcript_id,
       (turn.ord - 1)::integer AS turn_index,
       turn.value ->> 'role' AS role,
       turn.value ->> 'content' AS content,
       turn.value AS turn
  FROM @extschema@.transcripts AS t
 CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(
       CASE
           WHEN pg_catalog.jsonb_typeof(t.content -> 'turns') = 'array' THEN t.content -> 'turns'
           WHEN pg_catalog.jsonb_typeof(t.content) = 'array' THEN t.content
           WHEN t.content = '{}'::jsonb OR pg_catalog.jsonb_typeof(t.content) = 'null' THEN '[]'::jsonb
           ELSE pg_catalog.jsonb_build_array(t.content)
       END) WITH ORDINALITY AS turn (value, ord)
 WHERE t.deleted_at IS NULL;
COMMENT ON VIEW @extschema@.transcript_turns IS
    'The dialogue of every live sample, one row per turn (turn_index from 0): join two samples on turn_index to compare them turn by turn.';

CREATE FUNCTION @extschema@.first_divergence(
    run_id text, scenario_id text, model_id text, sample_a integer, sample_b integer)
RETURNS TABLE (turn_index integer, turn_a jsonb, turn_b jsonb, turn_count_a integer, turn_count_b integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    turns_a jsonb[];
    turns_b jsonb[];
    i integer;
BEGIN
    IF sample_a IS NULL OR sample_a OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'sample_a must be a sample index of 0 or more, got %', coalesce(sample_a::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF sample_b IS NULL OR sample_b OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'sample_b must be a sample index of 0 or more, got %', coalesce(sample_b::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    -- A sample with no live transcript is an error: "no turns" would be a lie.
    IF NOT EXISTS (SELECT FROM @extschema@.transcripts AS t
                    WHERE t.run_id OPERATOR(pg_catalog.=) first_divergence.run_id
                      AND t.scenario_id OPERATOR(pg_catalog.=) first_divergence.scenario_id
                      AND t.model_id OPERATOR(pg_catalog.=) first_divergence.model_id
                      AND t.sample_index OPERATOR(pg_catalog.=) sample_a
                      AND t.deleted_at IS NULL) THEN
        RAISE EXCEPTION 'sample % of run %, scenario %, model % has no live transcript',
            sample_a, first_divergence.run_id, first_divergence.scenario_id, first_divergence.model_id
            USING ERRCODE = 'P0002', HINT = 'See the view multisample.transcript_samples for the samples that exist.';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.transcripts AS t
                    WHERE t.run_id OPERATOR(pg_catalog.=) first_divergence.run_id
                      AND t.scenario_id OPERATOR(pg_catalog.=) first_divergence.scenario_id
                      AND t.model_id OPERATOR(pg_catalog.=) first_divergence.model_id
                      AND t.sample_index OPERATOR(pg_catalog.=) sample_b
                      AND t.deleted_at IS NULL) THEN
        RAISE EXCEPTION 'sample % of run %, scenario %, model % has no live transcript',
            sample_b, first_divergence.run_id, first_divergence.scenario_id, first_divergence.model_id
            USING ERRCODE = 'P0002', HINT = 'See the view multisample.transcript_samples for the samples that exist.';
    END IF;

    SELECT coalesce(pg_catalog.array_agg(tt.turn ORDER BY tt.turn_index), '{}')
      INTO turns_a
      FROM @extschema@.transcript_turns AS tt
     WHERE tt.run_id OPERATOR(pg_catalog.=) first_divergence.run_id
       AND tt.scenario_id OPERATOR(pg_catalog.=) first_divergence.scenario_id
       AND tt.model_id OPERATOR(pg_catalog.=) first_divergence.model_id
       AND tt.sample_index OPERATOR(pg_catalog.=) sample_a;
    SELECT coalesce(pg_catalog.array_agg(tt.turn ORDER BY tt.turn_index), '{}')
      INTO turns_b
      FROM @extschema@.transcript_turns AS tt
     WHERE tt.run_id OPERATOR(pg_catalog.=) first_divergence.run_id
       AND tt.scenario_id OPERATOR(pg_catalog.=) first_divergence.scenario_id
       AND tt.model_id OPERATOR(pg_catalog.=) first_divergence.model_id
       AND tt.sample_index OPERATOR(pg_catalog.=) sample_b;

    turn_count_a := pg_catalog.cardinality(turns_a);
    turn_count_b := pg_catalog.cardinality(turns_b);
    -- The first turn that differs; past the end of the shorter dialogue the
    -- missing turn is NULL. Identical dialogues give turn_index NULL.
    FOR i IN 1 .. GREATEST(turn_count_a, turn_count_b) LOOP
        IF turns_a[i] IS DISTINCT FROM turns_b[i] THEN
            turn_index := i OPERATOR(pg_catalog.-) 1;
            turn_a := turns_a[i];
            turn_b := turns_b[i];
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
    RETURN NEXT;
END
$function$;
COMMENT ON FUNCTION @extschema@.first_divergence(text, text, text, integer, integer) IS
    'Where the dialogues of two samples of a scenario-model pair first differ: the 0-based turn index and both turns (NULL past the end of the shorter one); one row, turn_index NULL when they are identical.';

-------------------------------------------------------------------------------
-- Export.
-------------------------------------------------------------------------------

CREATE VIEW @extschema@.transcript_export AS
SELECT t.run_id, t.id AS transcript_id, t.model_id,
       -- The reference platform's short model name: provider prefix and
       -- date suffix removed ("anthropic:claude-3-5-haiku-20241022" -> "claude-3-5-haiku").
       pg_catalog.regexp_replace(
           CASE WHEN pg_catalog.strpos(t.model_id, ':') > 0 THEN pg_catalog.split_part(t.model_id, ':', 2)
                ELSE t.model_id END,
           '-[0-9]{8}$', '') AS model_name,
       t.model_version, t.scenario_id, s.name AS scenario_name, t.sample_index,
       s.content -> 'dimensions' AS dimensions,
       t.decision_code, t.decision_text, t.score,
       resp.target_response,
       t.input_tokens, t.output_tokens, t.cost, t.created_at
  FROM @extschema@.transcripts AS t
  LEFT JOIN @extschema@.scenarios AS s ON s.id = t.scenario_id
 CROSS JOIN LATERAL (
       -- The target's answers in turn order, separated as the reference
       -- platform does: each turn's targetResponse, or for {role, content}
       -- turns the content of the assistant's turns. Same turn reading as
       -- the view transcript_turns.
       SELECT pg_catalog.string_agg(x.answer, E'\n\n---\n\n' ORDER BY x.ord) AS target_response
         FROM (SELECT coalesce(turn.value ->> 'targetResponse',
                               CASE WHEN turn.value ->> 'role' IN ('assistant', 'target')
                                    THEN turn.value ->> 'content' END) AS answer,
                      turn.ord
                 FROM pg_catalog.jsonb_array_elements(
                      CASE
                          WHEN pg_catalog.jsonb_typeof(t.content -> 'turns') = 'array' THEN t.content -> 'turns'
                          WHEN pg_catalog.jsonb_typeof(t.content) = 'array' THEN t.content
                          WHEN t.content = '{}'::jsonb OR pg_catalog.jsonb_typeof(t.content) = 'null' THEN '[]'::jsonb
                          ELSE pg_catalog.jsonb_build_array(t.content)
                      END) WITH ORDINALITY AS turn (value, ord)
                WHERE pg_catalog.jsonb_typeof(turn.value) = 'object') AS x
        WHERE x.answer <> ''
       ) AS resp
 WHERE t.deleted_at IS NULL;
COMMENT ON VIEW @extschema@.transcript_export IS
    'One row per live transcript with its sample_index, scenario dimensions and target response, for \copy (SELECT ... WHERE run_id = ...) TO ... CSV HEADER.';

CREATE FUNCTION @extschema@.export_run_csv(run_id text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    dims text[];
    header text;
    fields text;
    -- RFC 4180: a field holding a comma, a double quote, CR or LF is quoted,
    -- with its double quotes doubled; NULL is the empty field.
    quote_expr constant text :=
        'CASE WHEN %1$s IS NULL THEN '''' '
        'WHEN %1$s OPERATOR(pg_catalog.~) ''[,"\r\n]'' '
        'THEN ''"'' OPERATOR(pg_catalog.||) pg_catalog.replace(%1$s, ''"'', ''""'') OPERATOR(pg_catalog.||) ''"'' '
        'ELSE %1$s END';
BEGIN
    IF export_run_csv.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.runs AS r WHERE r.id OPERATOR(pg_catalog.=) export_run_csv.run_id) THEN
        RAISE EXCEPTION 'run % does not exist', pg_catalog.quote_literal(export_run_csv.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;

    -- One column per numeric scenario dimension of the run, sorted by name
    -- (C collation: byte order).
    SELECT coalesce(pg_catalog.array_agg(d.name ORDER BY d.name COLLATE "C"), '{}')
      INTO dims
      FROM (SELECT DISTINCT dim.key AS name
              FROM @extschema@.scenarios AS s
             CROSS JOIN LATERAL pg_catalog.jsonb_each(
                   CASE WHEN pg_catalog.jsonb_typeof(s.content -> 'dimensions') = 'object'
                        THEN s.content -> 'dimensions' ELSE '{}'::jsonb END) AS dim
             WHERE pg_catalog.jsonb_typeof(dim.value) = 'number'
               AND s.id IN (SELECT t.scenario_id FROM @extschema@.transcripts AS t
                             WHERE t.run_id OPERATOR(pg_catalog.=) export_run_csv.run_id
                               AND t.deleted_at IS NULL)) AS d;

    SELECT pg_catalog.string_agg(pg_catalog.format(quote_expr, pg_catalog.quote_literal(h.name)), ' OPERATOR(pg_catalog.||) '','' OPERATOR(pg_catalog.||) ' ORDER BY h.ord)
      INTO header
      FROM pg_catalog.unnest(ARRAY['AI Model Name', 'Sample Index'] OPERATOR(pg_catalog.||) dims
                             OPERATOR(pg_catalog.||) ARRAY['Decision Code', 'Decision Text', 'Transcript ID', 'Target Response'])
           WITH ORDINALITY AS h (name, ord);
    RETURN QUERY EXECUTE 'SELECT ' OPERATOR(pg_catalog.||) header;

    -- Data rows. Missing decisions read as the reference platform writes
    -- them; a dimension the scenario lacks (or that is not a number) is empty.
    SELECT pg_catalog.string_agg(pg_catalog.format(quote_expr, f.expr), ' OPERATOR(pg_catalog.||) '','' OPERATOR(pg_catalog.||) ' ORDER BY f.ord)
      INTO fields
      FROM pg_catalog.unnest(
               ARRAY['e.model_name', 'e.sample_index::text']
               OPERATOR(pg_catalog.||) ARRAY(
                   SELECT pg_catalog.format(
                              '(CASE WHEN pg_catalog.jsonb_typeof(e.dimensions OPERATOR(pg_catalog.->) %1$s) = ''number'' '
                              'THEN e.dimensions OPERATOR(pg_catalog.->>) %1$s END)', pg_catalog.quote_literal(dn))
                     FROM pg_catalog.unnest(dims) WITH ORDINALITY AS x (dn, o) ORDER BY x.o)
               OPERATOR(pg_catalog.||) ARRAY['coalesce(e.decision_code, ''pending'')',
                                             'coalesce(e.decision_text, ''Summary not yet generated'')',
                                             'e.transcript_id',
                                             'coalesce(e.target_response, '''')'])
           WITH ORDINALITY AS f (expr, ord);
    RETURN QUERY EXECUTE
        'SELECT ' OPERATOR(pg_catalog.||) fields OPERATOR(pg_catalog.||)
        ' FROM @extschema@.transcript_export AS e'
        ' WHERE e.run_id OPERATOR(pg_catalog.=) $1'
        ' ORDER BY e.model_id COLLATE "C", e.scenario_id COLLATE "C", e.sample_index'
        USING export_run_csv.run_id;
END
$function$;
COMMENT ON FUNCTION @extschema@.export_run_csv(text) IS
    'The run''s live transcripts as CSV in the reference platform''s layout, one record per row (header first, no line terminator; psql -XAt joins them with LF); RFC 4180 quoting.';

-------------------------------------------------------------------------------
-- Variance views. All variances are sample variances (n - 1), computed by
-- the aggregate variance_stats; "within-scenario" means among the samples of
-- one scenario-model pair.
-------------------------------------------------------------------------------

-- Ranks: most variable first; variances equal to 1e-12 relative share a rank
-- (the lowest position of the tie), so answers that vary by the same amount
-- rank together even when floating point rounding made their variances
-- differ in the last bits. A NULL variance has no rank.
CREATE VIEW @extschema@.scenario_variance AS
SELECT g.run_id, g.scenario_id, g.model_id, g.sample_count, g.mean, g.std_dev, g.variance,
       g.min, g.max, g.range,
       CASE WHEN g.variance IS NOT NULL
            THEN pg_catalog.min(g.position) OVER (PARTITION BY g.run_id, g.tie_group)
       END AS variance_rank
  FROM (SELECT b.*, pg_catalog.sum(b.starts_tie) OVER (PARTITION BY b.run_id ORDER BY b.position) AS tie_group
          FROM (SELECT p.run_id, p.scenario_id, p.model_id,
                       (p.st).sample_count, (p.st).mean, (p.st).std_dev, (p.st).variance,
                       (p.st).min, (p.st).max, (p.st).range,
                       pg_catalog.row_number() OVER w AS position,
                       CASE WHEN pg_catalog.lag((p.st).variance) OVER w - (p.st).variance
                                 <= 1e-12 * pg_catalog.lag((p.st).variance) OVER w
                            THEN 0 ELSE 1 END AS starts_tie
                  FROM (SELECT t.run_id, t.model_id, t.scenario_id, @extschema@.variance_stats(t.score) AS st
                          FROM @extschema@.transcripts AS t
                         WHERE t.deleted_at IS NULL AND t.score IS NOT NULL
                         GROUP BY t.run_id, t.model_id, t.scenario_id) AS p
                WINDOW w AS (PARTITION BY p.run_id ORDER BY (p.st).variance DESC NULLS LAST)) AS b) AS g;
COMMENT ON VIEW @extschema@.scenario_variance IS
    'Per run, scenario and model: statistics of the scored samples (sample variance, n - 1) and the rank by variance within the run, most variable first.';

CREATE VIEW @extschema@.scenario_variance_overall AS
SELECT g.run_id, g.scenario_id, g.scenario_name, g.model_count, g.sample_count, g.mean_variance,
       g.max_variance,
       CASE WHEN g.mean_variance IS NOT NULL
            THEN pg_catalog.min(g.position) OVER (PARTITION BY g.run_id, g.tie_group)
       END AS variance_rank,
       g.per_model
  FROM (SELECT b.*, pg_catalog.sum(b.starts_tie) OVER (PARTITION BY b.run_id ORDER BY b.position) AS tie_group
          FROM (SELECT a.*,
                       pg_catalog.row_number() OVER w AS position,
                       CASE WHEN pg_catalog.lag(a.mean_variance) OVER w - a.mean_variance
                                 <= 1e-12 * pg_catalog.lag(a.mean_variance) OVER w
                            THEN 0 ELSE 1 END AS starts_tie
                  FROM (SELECT v.run_id, v.scenario_id, s.name AS scenario_name,
                               pg_catalog.count(*) AS model_count,
                               pg_catalog.sum(v.sample_count)::bigint AS sample_count,
                               -- Mean over the models that have a variance (2+ scored samples).
                               pg_catalog.avg(v.variance) AS mean_variance,
                               pg_catalog.max(v.variance) AS max_variance,
                               pg_catalog.jsonb_object_agg(v.model_id, pg_catalog.jsonb_build_object(
                                   'sampleCount', v.sample_count, 'mean', v.mean, 'stdDev', v.std_dev,
                                   'variance', v.variance, 'min', v.min, 'max', v.max)) AS per_model
                          FROM @extschema@.scenario_variance AS v
                          LEFT JOIN @extschema@.scenarios AS s ON s.id = v.scenario_id
                         GROUP BY v.run_id, v.scenario_id, s.name) AS a
                WINDOW w AS (PARTITION BY a.run_id ORDER BY a.mean_variance DESC NULLS LAST)) AS b) AS g;
COMMENT ON VIEW @extschema@.scenario_variance_overall IS
    'Per run and scenario: the mean of the per-model sample variances, its rank within the run (most variable first; equal to 1e-12 relative share a rank), and the per-model figures as jsonb.';

-- Per model: overall figures across all scored samples, within-scenario
-- variance, a confidence interval with scenarios as the units, consistency.
-- The overall variance is merged from the per-pair figures with the
-- Chan-Golub-LeVeque formula, M2 = sum(M2_i) + sum(n_i (mean_i - mean)^2),
-- so the run's samples are read once. analysis_json uses the same formulas.
CREATE VIEW @extschema@.model_variance AS
SELECT m.run_id, m.model_id, m.sample_count AS scored_samples, m.scenario_count, rs.samples_per_scenario,
       m.mean, pg_catalog.sqrt(m.variance) AS std_dev, m.variance, m.min, m.max,
       m.pairs_with_variance,
       m.mean_within_variance AS avg_within_scenario_variance,
       m.max_within_variance AS max_within_scenario_variance,
       pg_catalog.sqrt(m.mean_within_variance) AS within_scenario_std_dev,
       (m.ci).mean AS scenario_mean, (m.ci).lower AS ci_lower, (m.ci).upper AS ci_upper,
       (m.ci).level AS ci_level, (m.ci).margin AS ci_margin,
       1 - m.mean_within_population_variance
           / ((rs.score_scale_max - rs.score_scale_min) * (rs.score_scale_max - rs.score_scale_min) / 4)
           AS consistency_score
  FROM (SELECT p.run_id, p.model_id,
               pg_catalog.sum(p.sample_count)::bigint AS sample_count,
               pg_catalog.count(*) AS scenario_count,
               pg_catalog.min(p.model_mean) AS mean,
               CASE WHEN pg_catalog.sum(p.sample_count) > 1 THEN
                   (pg_catalog.sum(coalesce(p.variance * (p.sample_count - 1), 0))
                    + pg_catalog.sum(p.sample_count * (p.mean - p.model_mean) * (p.mean - p.model_mean)))
                   / (pg_catalog.sum(p.sample_count) - 1)::float8
               END AS variance,
               pg_catalog.min(p.min) AS min, pg_catalog.max(p.max) AS max,
               pg_catalog.count(p.variance) AS pairs_with_variance,
               pg_catalog.avg(p.variance) AS mean_within_variance,
               pg_catalog.max(p.variance) AS max_within_variance,
               pg_catalog.avg(p.variance * (p.sample_count - 1) / p.sample_count) AS mean_within_population_variance,
               -- Scenarios are the units: the t-interval over the per-scenario means.
               @extschema@.confidence_interval(p.mean) AS ci
          FROM (SELECT v.run_id, v.model_id, v.sample_count, v.mean, v.variance, v.min, v.max,
                       pg_catalog.sum(v.sample_count * v.mean) OVER w
                           / (pg_catalog.sum(v.sample_count) OVER w)::float8 AS model_mean
                  FROM @extschema@.scenario_variance AS v
                WINDOW w AS (PARTITION BY v.run_id, v.model_id)) AS p
         GROUP BY p.run_id, p.model_id) AS m
  JOIN @extschema@.run_analysis_settings AS rs ON rs.run_id = m.run_id;
COMMENT ON VIEW @extschema@.model_variance IS
    'Per run and model: figures across all scored samples, within-scenario variance (NULL without pairs of 2+ samples), a 95 % t-interval for the mean with scenarios as the units, and consistency_score.';

-------------------------------------------------------------------------------
-- analysis_json: the whole analysis of a run in one document.
-------------------------------------------------------------------------------
-- One pass over the run's scored samples (the grouping of scenario_variance);
-- everything else is computed from the per-pair rows. The document is built
-- as json (plain text concatenation) and converted to jsonb once: building
-- nested jsonb re-encodes every level and cost more than the scan.
-- The body uses plain operators: SET search_path pins them to pg_catalog.
CREATE FUNCTION @extschema@.analysis_json(run_id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- JIT compilation of this many expressions costs seconds and saves nothing
-- on a query that reads each sample once.
SET jit = off
AS $function$
DECLARE
    settings record;
    result jsonb;
BEGIN
    IF analysis_json.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT s.samples_per_scenario, s.score_scale_min, s.score_scale_max,
           r.config -> 'samplesPerScenario' AS raw_samples, r.config -> 'scoreScale' AS raw_scale,
           CASE WHEN jsonb_typeof(r.config -> 'models') = 'array'
                THEN r.config -> 'models' ELSE '[]'::jsonb END AS models
      INTO settings
      FROM @extschema@.run_analysis_settings AS s
      JOIN @extschema@.runs AS r ON r.id = s.run_id
     WHERE s.run_id = analysis_json.run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(analysis_json.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;

    WITH pairs AS MATERIALIZED (
        -- The per-pair figures of scenario_variance, read straight from the
        -- scored-sample index (this document does not need the pair ranks).
        SELECT p.scenario_id, p.model_id, (p.st).sample_count AS n, (p.st).mean, (p.st).std_dev,
               (p.st).variance, (p.st).min, (p.st).max,
               sum((p.st).sample_count * (p.st).mean) OVER w
                   / (sum((p.st).sample_count) OVER w)::float8 AS model_mean
          FROM (SELECT t.model_id, t.scenario_id, @extschema@.variance_stats(t.score) AS st
                  FROM @extschema@.transcripts AS t
                 WHERE t.run_id = analysis_json.run_id AND t.deleted_at IS NULL AND t.score IS NOT NULL
                 GROUP BY t.model_id, t.scenario_id) AS p
        WINDOW w AS (PARTITION BY p.model_id)
    ), models AS (
        -- The formulas of the view model_variance.
        SELECT p.model_id,
               sum(p.n)::bigint AS n,
               count(*) AS scenarios,
               min(p.model_mean) AS mean,
               CASE WHEN sum(p.n) > 1 THEN
                   (sum(coalesce(p.variance * (p.n - 1), 0))
                    + sum(p.n * (p.mean - p.model_mean) * (p.mean - p.model_mean)))
                   / (sum(p.n) - 1)::float8
               END AS variance,
               min(p.min) AS min, max(p.max) AS max,
               count(p.variance) AS pairs_with_variance,
               avg(p.variance) AS within_variance,
               max(p.variance) AS within_max,
               avg(p.variance * (p.n - 1) / p.n) AS within_population,
               @extschema@.confidence_interval(p.mean) AS ci
          FROM pairs AS p
         GROUP BY p.model_id
    ), scenarios AS (
        SELECT p.scenario_id, sc.name AS scenario_name,
               avg(p.variance) AS mean_variance,
               json_object_agg(p.model_id, json_build_object(
                   'sampleCount', p.n, 'mean', p.mean, 'stdDev', p.std_dev, 'variance', p.variance,
                   'min', p.min, 'max', p.max)) AS per_model
          FROM pairs AS p
          LEFT JOIN @extschema@.scenarios AS sc ON sc.id = p.scenario_id
         GROUP BY p.scenario_id, sc.name
    ), ranked AS (
        -- Same ranks as scenario_variance_overall; within a tie (1e-12
        -- relative), and among scenarios without a variance, by scenario id.
        SELECT t.*,
               CASE WHEN t.mean_variance IS NOT NULL
                    THEN min(t.position) OVER (PARTITION BY t.tie_group) END AS variance_rank,
               row_number() OVER (ORDER BY t.mean_variance IS NULL,
                                           CASE WHEN t.mean_variance IS NOT NULL THEN t.tie_group END,
                                           t.scenario_id COLLATE "C") AS pos,
               count(t.mean_variance) OVER () AS with_variance
          FROM (SELECT b.*, sum(b.starts_tie) OVER (ORDER BY b.position) AS tie_group
                  FROM (SELECT s.*,
                               row_number() OVER w AS position,
                               CASE WHEN lag(s.mean_variance) OVER w - s.mean_variance
                                         <= 1e-12 * lag(s.mean_variance) OVER w
                                    THEN 0 ELSE 1 END AS starts_tie
                          FROM scenarios AS s
                        WINDOW w AS (ORDER BY s.mean_variance DESC NULLS LAST)) AS b) AS t
    ), expected_pairs AS (
        -- The pairs the run asked for: its selected scenarios (else the ones
        -- scored) times its configured models (else the ones scored).
        SELECT e.scenario_id, e.model_id, coalesce(p.n, 0) AS n
          FROM ((SELECT sel.scenario_id FROM @extschema@.run_scenario_selections AS sel
                  WHERE sel.run_id = analysis_json.run_id
                 UNION SELECT p2.scenario_id FROM pairs AS p2) AS es
                CROSS JOIN
                (SELECT m.value #>> '{}' AS model_id
                   FROM jsonb_array_elements(settings.models) AS m
                  WHERE jsonb_typeof(m.value) = 'string'
                 UNION SELECT p3.model_id FROM pairs AS p3) AS em) AS e (scenario_id, model_id)
          LEFT JOIN pairs AS p USING (scenario_id, model_id)
    ), warnings AS (
        SELECT w.ord, w.warning FROM (
            SELECT 1 AS ord, json_build_object(
                       'code', 'INVALID_SAMPLES_PER_SCENARIO',
                       'message', format('runs.config.samplesPerScenario is %s, not a whole number from 1 up; the requested sample count is unknown',
                                         settings.raw_samples)) AS warning
             WHERE settings.samples_per_scenario IS NULL
            UNION ALL
            SELECT 2, json_build_object(
                       'code', 'INVALID_SCORE_SCALE',
                       'message', format('runs.config.scoreScale is %s, not {"min": number, "max": number} with max > min; consistencyScore is null',
                                         settings.raw_scale))
             WHERE settings.score_scale_min IS NULL
            UNION ALL
            SELECT 3, json_build_object('code', 'NO_SCORED_SAMPLES',
                                         'message', 'the run has no scored samples yet')
             WHERE NOT EXISTS (SELECT FROM pairs)
            UNION ALL
            SELECT 4, json_build_object(
                       'code', 'SHORT_PAIRS',
                       'message', format('%s scenario-model pair(s) have fewer scored samples than the %s requested; statistics use the samples that exist',
                                         count(*), settings.samples_per_scenario),
                       'requested', settings.samples_per_scenario,
                       'pairs', json_agg(json_build_object('scenarioId', e.scenario_id, 'modelId', e.model_id, 'scoredSamples', e.n)
                                          ORDER BY e.model_id COLLATE "C", e.scenario_id COLLATE "C"))
              FROM expected_pairs AS e
             WHERE e.n < settings.samples_per_scenario
            HAVING count(*) > 0
            UNION ALL
            SELECT 5, json_build_object(
                       'code', 'EXTRA_SAMPLES',
                       'message', format('%s scenario-model pair(s) have more scored samples than the %s requested; all of them are used',
                                         count(*), settings.samples_per_scenario),
                       'requested', settings.samples_per_scenario,
                       'pairs', json_agg(json_build_object('scenarioId', p.scenario_id, 'modelId', p.model_id, 'scoredSamples', p.n)
                                          ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"))
              FROM pairs AS p
             WHERE p.n > settings.samples_per_scenario
            HAVING count(*) > 0
            UNION ALL
            SELECT 6, json_build_object(
                       'code', 'SCORES_OUTSIDE_SCALE',
                       'message', format('%s scenario-model pair(s) have scores outside the score scale [%s, %s]; their consistencyScore may leave [0, 1]',
                                         count(*), settings.score_scale_min, settings.score_scale_max),
                       'pairs', json_agg(json_build_object('scenarioId', p.scenario_id, 'modelId', p.model_id, 'min', p.min, 'max', p.max)
                                          ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"))
              FROM pairs AS p
             WHERE p.min < settings.score_scale_min
                OR p.max > settings.score_scale_max
            HAVING count(*) > 0
        ) AS w
    ), flags AS (
        -- Multi-sample: more than one sample was requested, or some pair has
        -- more than one (e.g. retried duplicates of a 1.0 run).
        SELECT coalesce(settings.samples_per_scenario > 1, false)
               OR coalesce((SELECT max(p.n) FROM pairs AS p) > 1, false) AS multi
    )
    SELECT json_build_object(
        'runId', analysis_json.run_id,
        'isMultiSample', f.multi,
        'samplesPerScenario', settings.samples_per_scenario,
        'scoreScale', CASE WHEN settings.score_scale_min IS NOT NULL THEN
                          json_build_object('min', settings.score_scale_min, 'max', settings.score_scale_max) END,
        'sampleCount', coalesce((SELECT sum(p.n) FROM pairs AS p), 0),
        'perModel', coalesce((
            SELECT json_object_agg(m.model_id,
                       CASE WHEN NOT f.multi THEN json_build_object(
                           'sampleCount', m.n, 'scenarioCount', m.scenarios,
                           'mean', m.mean, 'stdDev', sqrt(m.variance), 'variance', m.variance,
                           'min', m.min, 'max', m.max, 'confidenceInterval', m.ci_json)
                       ELSE json_build_object(
                           'sampleCount', m.n, 'scenarioCount', m.scenarios,
                           'mean', m.mean, 'stdDev', sqrt(m.variance), 'variance', m.variance,
                           'min', m.min, 'max', m.max, 'confidenceInterval', m.ci_json,
                           'withinScenario', json_build_object(
                               'meanVariance', m.within_variance, 'maxVariance', m.within_max,
                               'stdDev', sqrt(m.within_variance), 'meanPopulationVariance', m.within_population,
                               'pairsWithVariance', m.pairs_with_variance),
                           'consistencyScore',
                           1 - m.within_population
                               / ((settings.score_scale_max - settings.score_scale_min)
                                  * (settings.score_scale_max - settings.score_scale_min) / 4))
                       END)
              FROM (SELECT mm.*,
                           CASE WHEN (mm.ci).lower IS NOT NULL THEN
                               json_build_object('lower', (mm.ci).lower, 'upper', (mm.ci).upper, 'level', (mm.ci).level,
                                                 'mean', (mm.ci).mean, 'margin', (mm.ci).margin,
                                                 'units', 'scenarios') END AS ci_json
                      FROM models AS mm) AS m
              ), '{}'::json),
        'scenarioVariance', coalesce((
            SELECT json_agg(json_build_object(
                       'scenarioId', r.scenario_id, 'scenarioName', r.scenario_name,
                       'meanVariance', r.mean_variance, 'rank', r.variance_rank, 'perModel', r.per_model)
                   ORDER BY r.pos)
              FROM ranked AS r), '[]'::json),
        -- Most variable: the first min(5, ceil(k/2)) of the k scenarios with
        -- a variance; least variable: the last min(5, floor(k/2)), least
        -- first. The two lists never share a scenario.
        'mostVariableScenarios', coalesce((
            SELECT json_agg(json_build_object('scenarioId', r.scenario_id, 'scenarioName', r.scenario_name,
                                              'meanVariance', r.mean_variance, 'rank', r.variance_rank)
                   ORDER BY r.pos)
              FROM ranked AS r
             WHERE r.mean_variance IS NOT NULL
               AND r.pos <= least(5, (r.with_variance + 1) / 2)),
            '[]'::json),
        'leastVariableScenarios', coalesce((
            SELECT json_agg(json_build_object('scenarioId', r.scenario_id, 'scenarioName', r.scenario_name,
                                              'meanVariance', r.mean_variance, 'rank', r.variance_rank)
                   ORDER BY r.pos DESC)
              FROM ranked AS r
             WHERE r.mean_variance IS NOT NULL
               AND r.pos > r.with_variance - least(5, r.with_variance / 2)),
            '[]'::json),
        'warnings', coalesce((SELECT json_agg(w.warning ORDER BY w.ord) FROM warnings AS w), '[]'::json),
        'methodsUsed', json_build_object(
            'variance', 'sample variance (n - 1), Welford update with Chan-Golub-LeVeque merge (variance_stats)',
            'perModelFigures', 'mean, stdDev, variance, min, max across all scored samples of the model',
            'confidenceInterval', 'Student t interval for the mean of the per-scenario means, df = scenarios - 1, level 0.95: scenarios are the independent units',
            'withinScenario', 'mean and maximum of the per-pair sample variances over pairs with 2 or more scored samples; stdDev = sqrt(meanVariance)',
            'consistencyScore', '1 - mean within-scenario population variance / ((scoreScale.max - scoreScale.min)^2 / 4); 1 = identical samples',
            'ranking', 'scenarios by the mean of their per-model sample variances, most variable first; ties (equal to 1e-12 relative) by scenario id',
            'samples', 'live transcripts with a score; unscored and deleted ones are left out'),
        'computedAt', now())::jsonb
      INTO result
      FROM flags AS f;
    RETURN result;
END
$function$;
COMMENT ON FUNCTION @extschema@.analysis_json(text) IS
    'The analysis of a run as one jsonb document (camelCase keys): per-model figures with a scenario-unit confidence interval, within-scenario variance and consistency, scenario variance, most/least variable scenarios, warnings, methods.';

-------------------------------------------------------------------------------
-- Trusted install: the role that runs CREATE EXTENSION (or ALTER EXTENSION
-- UPDATE) gets every right on the extension's tables, with GRANT OPTION.
-------------------------------------------------------------------------------
-- The control file says trusted = true: a database owner without superuser
-- may install the extension, and its scripts then run as the bootstrap
-- superuser, who owns every object they create. Without this grant the
-- installing role could not read or write the extension's own tables, nor
-- hand rights on to a dashboard or worker role (README, "Least privilege").
-- For a superuser install @extowner@ is that superuser and this changes
-- nothing. pg_dump keeps these as the objects' initial privileges.
GRANT ALL ON ALL TABLES IN SCHEMA @extschema@ TO @extowner@ WITH GRANT OPTION;
GRANT ALL ON ALL SEQUENCES IN SCHEMA @extschema@ TO @extowner@ WITH GRANT OPTION;
