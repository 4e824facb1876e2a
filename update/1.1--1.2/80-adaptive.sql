-------------------------------------------------------------------------------
-- Adaptive sampling (SPEC 12.7): give a run the samples it planned but did
-- not get (top_up_run), propose where more samples reduce the uncertainty of
-- the models' means most (plan_samples) and queue that proposal
-- (add_samples). The plan these compare against is run_pair_plan
-- (30-run-plans.sql).
--
-- Writing functions lock the run's row first (lock_run, as pause_run,
-- resume_run and cancel_run do) and then insert jobs: the lock
-- order of run control, so no deadlock with workers or run control; two
-- calls for one run take turns, and the second sees what the first queued.
-- They insert NEW jobs with the pair's next sample indexes: a finished job
-- stays finished (probe_jobs_guard). New jobs take the run's priority,
-- max_attempts and created_at (so claims keep the run's place in the queue),
-- come after the run's other jobs in hand-out order, and are PAUSED in a
-- paused run. A run's status follows its jobs: a COMPLETED run that gets
-- jobs is RUNNING again. At most 100 jobs per pair, ever.
-------------------------------------------------------------------------------

-- Created on every node, its foreign key where Citus allows it (see
-- add_missing_foreign_keys in 01-citus-guard.sql).
CREATE TABLE @extschema@.run_sample_requests (
    run_id               text        NOT NULL,
    request_id           text        NOT NULL
                         CONSTRAINT run_sample_requests_request_id_check
                         CHECK (request_id OPERATOR(pg_catalog.<>) ''
                                AND pg_catalog.length(request_id) OPERATOR(pg_catalog.<=) 200),
    extra_samples        bigint      NOT NULL
                         CONSTRAINT run_sample_requests_extra_samples_check
                         CHECK (extra_samples OPERATOR(pg_catalog.>=) 0),
    max_samples_per_pair integer     NOT NULL
                         CONSTRAINT run_sample_requests_max_check
                         CHECK (max_samples_per_pair OPERATOR(pg_catalog.>=) 1
                                AND max_samples_per_pair OPERATOR(pg_catalog.<=) 100),
    queued               bigint      NOT NULL,
    allocation           jsonb       NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT run_sample_requests_pkey PRIMARY KEY (run_id, request_id)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_sample_requests', '');
COMMENT ON TABLE @extschema@.run_sample_requests IS
    'add_samples calls made with a request_id: what was asked and what was queued, so that a retry of the same request returns the same allocation and queues nothing.';
COMMENT ON COLUMN @extschema@.run_sample_requests.allocation IS
    'The rows add_samples returned: an array of {scenarioId, modelId, extra, plannedSamples, firstSampleIndex, jobState}.';
SELECT @extschema@.add_missing_foreign_keys() WHERE NOT @extschema@.tables_distributed();

-------------------------------------------------------------------------------
-- queue_new_samples: the new jobs of top_up_run and add_samples.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.queue_new_samples(
    run_id text,
    scenario_ids text[],
    model_ids text[],
    counts integer[])
RETURNS TABLE (scenario_id text, model_id text, first_sample_index integer, queued integer, job_state text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- JIT compilation of these queries costs more than running them.
SET jit = off
AS $$
DECLARE
    stored text;
    run record;
    new_priority smallint;
    new_max_attempts integer;
    configured numeric;
    new_state text;
    base_order bigint;
    bad text;
BEGIN
    IF queue_new_samples.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF queue_new_samples.scenario_ids IS NULL OR queue_new_samples.model_ids IS NULL
       OR queue_new_samples.counts IS NULL
       OR array_ndims(queue_new_samples.scenario_ids) IS DISTINCT FROM array_ndims(queue_new_samples.model_ids)
       OR array_ndims(queue_new_samples.scenario_ids) IS DISTINCT FROM array_ndims(queue_new_samples.counts)
       OR coalesce(array_ndims(queue_new_samples.scenario_ids), 1) <> 1
       OR cardinality(queue_new_samples.scenario_ids) <> cardinality(queue_new_samples.model_ids)
       OR cardinality(queue_new_samples.scenario_ids) <> cardinality(queue_new_samples.counts) THEN
        RAISE EXCEPTION 'scenario_ids, model_ids and counts must be one-dimensional arrays of the same length'
            USING ERRCODE = '22023', HINT = 'Element i of each array describes one scenario-model pair.';
    END IF;
    IF array_position(queue_new_samples.scenario_ids, NULL) IS NOT NULL
       OR array_position(queue_new_samples.model_ids, NULL) IS NOT NULL
       OR array_position(queue_new_samples.counts, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'scenario_ids, model_ids and counts must not contain NULL' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM unnest(queue_new_samples.counts) AS c(n) WHERE c.n < 0 OR c.n > 100) THEN
        RAISE EXCEPTION 'every count must be between 0 and 100' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM unnest(queue_new_samples.model_ids) AS m(id) WHERE m.id = '') THEN
        RAISE EXCEPTION 'model ids must not be empty' USING ERRCODE = '22023';
    END IF;
    SELECT format('(%s, %s)', quote_literal(u.s), quote_literal(u.m)) INTO bad
      FROM unnest(queue_new_samples.scenario_ids, queue_new_samples.model_ids) AS u(s, m)
     GROUP BY u.s, u.m HAVING count(*) > 1 LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the pair % is named twice', bad USING ERRCODE = '22023';
    END IF;
    stored := (@extschema@.lock_run('queue_new_samples', queue_new_samples.run_id)).stored_status;
    IF stored IN ('CANCELLED', 'FAILED') THEN
        RAISE EXCEPTION 'run % is %; it gets no new jobs', queue_new_samples.run_id, stored
            USING ERRCODE = '55000', HINT = 'Start a new run instead.';
    END IF;
    SELECT r.config, r.created_at INTO run FROM @extschema@.runs AS r WHERE r.id = queue_new_samples.run_id;
    SELECT quote_literal(u.s) INTO bad
      FROM unnest(queue_new_samples.scenario_ids) AS u(s)
     WHERE NOT EXISTS (SELECT FROM @extschema@.run_scenario_selections AS sel
                        WHERE sel.run_id = queue_new_samples.run_id AND sel.scenario_id = u.s)
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'scenario % is not selected by run %', bad, queue_new_samples.run_id
            USING ERRCODE = '22023', HINT = 'A run''s scenarios are in multisample.run_scenario_selections.';
    END IF;

    -- The run's settings (config, else its last job, else the defaults).
    new_priority := CASE upper(run.config ->> 'priority') WHEN 'LOW' THEN 0 WHEN 'NORMAL' THEN 1 WHEN 'HIGH' THEN 2 END;
    IF jsonb_typeof(run.config -> 'maxAttempts') = 'number' THEN
        configured := (run.config ->> 'maxAttempts')::numeric;
        IF configured >= 1 AND configured <= 100 AND configured = trunc(configured) THEN
            new_max_attempts := configured::integer;
        END IF;
    END IF;
    SELECT coalesce(new_priority, j.priority), coalesce(new_max_attempts, j.max_attempts) INTO new_priority, new_max_attempts
      FROM @extschema@.probe_jobs AS j
     WHERE j.run_id = queue_new_samples.run_id
     ORDER BY j.queue_order DESC
     LIMIT 1;
    new_priority := coalesce(new_priority, 1);
    new_max_attempts := coalesce(new_max_attempts, 3);
    new_state := CASE WHEN stored = 'PAUSED' THEN 'PAUSED' ELSE 'QUEUED' END;
    SELECT coalesce(max(j.queue_order) + 1, 0) INTO base_order
      FROM @extschema@.probe_jobs AS j WHERE j.run_id = queue_new_samples.run_id;

    -- The next sample index of a pair comes after every index it has used:
    -- jobs, transcripts (live or deleted) and probe results.
    RETURN QUERY
    WITH wanted AS (
        SELECT u.s AS scenario_id, u.m AS model_id, u.n, u.ord
          FROM unnest(queue_new_samples.scenario_ids, queue_new_samples.model_ids, queue_new_samples.counts)
               WITH ORDINALITY AS u(s, m, n, ord)
         WHERE u.n > 0
    ), used AS (
        SELECT x.scenario_id, x.model_id, max(x.sample_index) AS last_index
          FROM (SELECT j.scenario_id, j.model_id, j.sample_index
                  FROM @extschema@.probe_jobs AS j WHERE j.run_id = queue_new_samples.run_id
                UNION ALL
                SELECT t.scenario_id, t.model_id, t.sample_index
                  FROM @extschema@.transcripts AS t WHERE t.run_id = queue_new_samples.run_id
                UNION ALL
                SELECT pr.scenario_id, pr.model_id, pr.sample_index
                  FROM @extschema@.probe_results AS pr WHERE pr.run_id = queue_new_samples.run_id) AS x
         GROUP BY x.scenario_id, x.model_id
    ), new_jobs AS (
        SELECT w.scenario_id, w.model_id, coalesce(u.last_index + 1, 0) + g.i - 1 AS sample_index,
               -- Sample-major among the new jobs, as start_run orders a run.
               base_order + row_number() OVER (ORDER BY g.i, w.ord) - 1 AS queue_order
          FROM wanted AS w
          LEFT JOIN used AS u ON u.scenario_id = w.scenario_id AND u.model_id = w.model_id
          CROSS JOIN LATERAL generate_series(1, w.n) AS g(i)
    ), inserted AS (
        INSERT INTO @extschema@.probe_jobs AS j
               (run_id, scenario_id, model_id, sample_index, state, priority, queue_order, max_attempts, created_at)
        SELECT queue_new_samples.run_id, n.scenario_id, n.model_id, n.sample_index, new_state, new_priority,
               n.queue_order, new_max_attempts, run.created_at
          FROM new_jobs AS n
        RETURNING j.scenario_id, j.model_id, j.sample_index
    )
    SELECT i.scenario_id, i.model_id, min(i.sample_index), count(*)::integer, new_state
      FROM inserted AS i
     GROUP BY i.scenario_id, i.model_id
     ORDER BY i.model_id COLLATE "C", i.scenario_id COLLATE "C";
END
$$;
COMMENT ON FUNCTION @extschema@.queue_new_samples(text, text[], text[], integer[]) IS
'Queues counts[i] new jobs for the pair (scenario_ids[i], model_ids[i]) of a run, with the pair''s next sample indexes, the run''s priority, max_attempts and created_at, after the run''s other jobs (PAUSED in a paused run); locks the run first. Used by top_up_run and add_samples. READ COMMITTED only.';

-------------------------------------------------------------------------------
-- top_up_run: queue again what the plan did not get.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.top_up_run(run_id text, max_new_jobs bigint DEFAULT NULL)
RETURNS TABLE (
    scenario_id text,
    model_id text,
    planned_samples integer,
    completed bigint,
    unfinished bigint,
    missing bigint,
    queued integer,
    first_sample_index integer,
    not_queued_cap bigint,
    not_queued_budget bigint)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- JIT compilation of these queries costs more than running them.
SET jit = off
AS $$
DECLARE
    scenario_ids text[];
    model_ids text[];
    planned integer[];
    done bigint[];
    open_jobs bigint[];
    missing_samples bigint[];
    possible bigint[];
    granted integer[];
    queued_scenarios text[];
    queued_models text[];
    first_indexes integer[];
    queued_counts integer[];
BEGIN
    IF top_up_run.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF top_up_run.max_new_jobs < 0 THEN
        RAISE EXCEPTION 'max_new_jobs must be 0 or more (NULL: no limit), got %', top_up_run.max_new_jobs
            USING ERRCODE = '22023';
    END IF;
    -- The run's row first; queue_new_samples refuses a cancelled run.
    PERFORM @extschema@.lock_run('top_up_run', top_up_run.run_id);

    -- Missing = planned - completed - unfinished; at most 100 jobs per pair.
    -- Within the budget, the first missing sample of every pair before the
    -- second of any (the hand-out order of a run). Read once, before the
    -- new jobs exist.
    WITH pairs AS MATERIALIZED (
        -- What a pair has: its completed jobs, or its live samples where
        -- more (a run written without jobs, e.g. one of 1.0).
        SELECT q.*, greatest(coalesce(q.planned_samples, 0) - q.completed - q.unfinished, 0) AS missing,
               least(greatest(coalesce(q.planned_samples, 0) - q.completed - q.unfinished, 0),
                     greatest(100 - q.jobs, 0)) AS possible
          FROM (SELECT pp.scenario_id, pp.model_id, pp.planned_samples,
                       greatest(pp.completed, pp.live_samples) AS completed, pp.unfinished, pp.jobs
                  FROM @extschema@.run_pair_plan AS pp
                 WHERE pp.run_id = top_up_run.run_id) AS q
    ), granted AS (
        SELECT c.scenario_id, c.model_id, count(*)::integer AS n
          FROM (SELECT p.scenario_id, p.model_id,
                       row_number() OVER (ORDER BY g.i, p.model_id COLLATE "C", p.scenario_id COLLATE "C") AS rank
                  FROM pairs AS p
                  CROSS JOIN LATERAL generate_series(1, p.possible) AS g(i)) AS c
         WHERE top_up_run.max_new_jobs IS NULL OR c.rank <= top_up_run.max_new_jobs
         GROUP BY c.scenario_id, c.model_id
    )
    SELECT array_agg(p.scenario_id ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.model_id ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.planned_samples ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.completed ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.unfinished ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.missing ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.possible ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(coalesce(g.n, 0) ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C")
      INTO scenario_ids, model_ids, planned, done, open_jobs, missing_samples, possible, granted
      FROM pairs AS p
      LEFT JOIN granted AS g ON g.scenario_id = p.scenario_id AND g.model_id = p.model_id;

    SELECT array_agg(q.scenario_id), array_agg(q.model_id), array_agg(q.first_sample_index), array_agg(q.queued)
      INTO queued_scenarios, queued_models, first_indexes, queued_counts
      FROM @extschema@.queue_new_samples(top_up_run.run_id, coalesce(scenario_ids, '{}'),
                                         coalesce(model_ids, '{}'), coalesce(granted, '{}')) AS q;

    RETURN QUERY
    SELECT p.s, p.m, p.planned, p.done, p.open_jobs, p.missing, coalesce(q.n, 0), q.first_index,
           p.missing - p.possible, p.possible - coalesce(q.n, 0)
      FROM unnest(scenario_ids, model_ids, planned, done, open_jobs, missing_samples, possible)
           WITH ORDINALITY AS p(s, m, planned, done, open_jobs, missing, possible, ord)
      LEFT JOIN unnest(queued_scenarios, queued_models, first_indexes, queued_counts) AS q(s, m, first_index, n)
        ON q.s = p.s AND q.m = p.m
     WHERE p.missing > 0
     ORDER BY p.ord;
END
$$;
COMMENT ON FUNCTION @extschema@.top_up_run(text, bigint) IS
'Queues, as new jobs with the next sample indexes, every sample a run planned but did not get (planned - completed - unfinished per pair, failed and cancelled ones included; completed counts live samples where a pair has more, as in a run written without jobs), at most max_new_jobs in all (NULL: no limit; the first missing sample of every pair first) and never more than 100 jobs per pair. Returns the pairs with missing samples: what was queued and what was not (cap, budget). Idempotent: a second call queues nothing. Refuses cancelled runs (55000). READ COMMITTED only.';

-------------------------------------------------------------------------------
-- check_sample_budget: the arguments plan_samples and add_samples share.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.check_sample_budget(run_id text, extra_samples bigint, max_samples_per_pair integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF check_sample_budget.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF check_sample_budget.extra_samples IS NULL OR check_sample_budget.extra_samples < 0 THEN
        RAISE EXCEPTION 'extra_samples must be 0 or more, got %', coalesce(check_sample_budget.extra_samples::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'The number of samples to add to the run in all.';
    END IF;
    IF check_sample_budget.max_samples_per_pair IS NULL OR check_sample_budget.max_samples_per_pair < 1
       OR check_sample_budget.max_samples_per_pair > 100 THEN
        RAISE EXCEPTION 'max_samples_per_pair must be between 1 and 100, got %',
            coalesce(check_sample_budget.max_samples_per_pair::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_sample_budget(text, bigint, integer) IS
'Raises 22023 unless run_id is given, extra_samples is 0 or more and max_samples_per_pair is 1 to 100: the checks of plan_samples and add_samples.';

-------------------------------------------------------------------------------
-- plan_samples: where extra samples reduce the variance of the models'
-- means most. Writes nothing.
--
-- Objective: for each model m, its mean over the run's S_m scenarios is the
-- mean of the scenario means (scenario means are the units), whose variance
-- is (1/S_m^2) sum_s sigma_s^2 / n_s. plan_samples distributes the budget to
-- minimise the sum of these over the models. The problem is separable and
-- each term sigma^2 / n is convex in n, so taking, one sample at a time, the
-- sample with the largest reduction w_m sigma^2 / (n (n + 1)) (w_m = 1/S_m^2)
-- is optimal (marginal allocation: Gross 1956; Ibaraki and Katoh, "Resource
-- Allocation Problems", 1988, ch. 4), also with the cap per pair. It is
-- computed at once: the budget's largest reductions among every pair's
-- possible extra samples, ties broken by the fewest samples, then ids.
--
-- The spread it plans with (sigma~^2, "planning_variance") is each pair's
-- sample variance s^2 (n - 1 degrees of freedom) shrunk towards its model's
-- pooled within-pair variance s_p^2 (empirical Bayes, method of moments, as
-- the moderated variances of Smyth 2004):
--   tau^2 = max(0, sum_i [(s_i^2 - s_p^2)^2 - 2 s_p^4 / nu_i] / sum_i (1 + 2 / nu_i))
--           (the spread of the true variances beyond what sampling explains)
--   k = 2 (s_p^4 + tau^2) / tau^2   (prior degrees of freedom; no tau^2: k infinite)
--   sigma~^2 = (nu s^2 + k s_p^2) / (nu + k)
-- so a model whose pairs vary alike gets an even allocation, and one whose
-- pairs differ gets Neyman allocation. The guard against starving a pair
-- whose first samples happened to agree: such a pair (s^2 = 0 from n >= 2
-- samples) is planned with s_p^2 / n, as if one more sample had the model's
-- pooled variance (Laplace's add-one), so it keeps getting samples, fewer
-- the longer its samples keep agreeing. A pair with fewer than 2 scored
-- samples is planned with s_p^2. A model without any spread yet (s_p^2 = 0
-- or no pair with 2 scored samples) uses the run's pooled variance instead.
-- README "Adaptive sampling" gives the reasons and the simulation's figures.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.plan_samples(
    run_id text,
    extra_samples bigint,
    max_samples_per_pair integer DEFAULT 100)
RETURNS TABLE (
    scenario_id text,
    model_id text,
    planned_samples integer,
    samples bigint,
    scored_samples bigint,
    variance double precision,
    planning_variance double precision,
    extra integer,
    new_planned_samples integer,
    at_cap boolean)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- JIT compilation of these queries costs more than running them.
SET jit = off
AS $$
DECLARE
    stored text;
    run_pooled double precision;
    spent bigint;
    plan record;
BEGIN
    PERFORM @extschema@.check_sample_budget(plan_samples.run_id, plan_samples.extra_samples,
                                           plan_samples.max_samples_per_pair);
    SELECT r.status INTO stored FROM @extschema@.runs AS r WHERE r.id = plan_samples.run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', plan_samples.run_id USING ERRCODE = 'P0002';
    END IF;
    IF stored IN ('CANCELLED', 'FAILED') THEN
        RAISE EXCEPTION 'run % is %; it gets no more samples', plan_samples.run_id, stored
            USING ERRCODE = '55000', HINT = 'Start a new run instead.';
    END IF;
    SELECT sum((st).variance * ((st).sample_count - 1)) / sum((st).sample_count - 1)
      INTO run_pooled
      FROM (SELECT @extschema@.variance_stats(t.score) AS st
              FROM @extschema@.transcripts AS t
             WHERE t.run_id = plan_samples.run_id AND t.deleted_at IS NULL AND t.score IS NOT NULL
             GROUP BY t.scenario_id, t.model_id) AS v
     WHERE (st).sample_count >= 2;
    IF run_pooled IS NULL THEN
        RAISE EXCEPTION 'run % has no scenario-model pair with 2 or more scored samples: there is no spread to plan with',
            plan_samples.run_id
            USING ERRCODE = '55000',
                  HINT = 'Start with a few samples per pair (e.g. samples_per_scenario => 3), score them, then plan; top_up_run gives pairs their planned samples.';
    END IF;

    spent := 0;
    FOR plan IN
    WITH pairs AS MATERIALIZED (
        -- What a pair has or will have: its completed jobs (or its live
        -- samples where more: a run written without jobs) and unfinished ones.
        SELECT p.scenario_id, p.model_id, p.planned_samples,
               greatest(p.completed, p.live_samples) + p.unfinished AS have,
               (st).sample_count AS n_scored, (st).variance AS s2,
               -- How many more samples the pair may get: up to the cap on
               -- its samples, and never more than 100 jobs.
               greatest(least(plan_samples.max_samples_per_pair - greatest(p.completed, p.live_samples) - p.unfinished,
                              100 - p.jobs), 0) AS room,
               count(*) OVER (PARTITION BY p.model_id) AS model_pairs
          FROM @extschema@.run_pair_plan AS p
          LEFT JOIN (SELECT t.scenario_id, t.model_id, @extschema@.variance_stats(t.score) AS st
                       FROM @extschema@.transcripts AS t
                      WHERE t.run_id = plan_samples.run_id AND t.deleted_at IS NULL AND t.score IS NOT NULL
                      GROUP BY t.scenario_id, t.model_id) AS v
            ON v.scenario_id = p.scenario_id AND v.model_id = p.model_id
         WHERE p.run_id = plan_samples.run_id
    ), pooled AS (
        SELECT q.model_id,
               sum(q.s2 * (q.n_scored - 1)) / nullif(sum(q.n_scored - 1), 0) AS sp2
          FROM pairs AS q
         WHERE q.n_scored >= 2
         GROUP BY q.model_id
    ), prior AS (
        SELECT q.model_id, pl.sp2,
               greatest(0, sum((q.s2 - pl.sp2) * (q.s2 - pl.sp2) - 2 * pl.sp2 * pl.sp2 / (q.n_scored - 1))
                           / sum(1 + 2.0::float8 / (q.n_scored - 1))) AS tau2
          FROM pairs AS q
          JOIN pooled AS pl ON pl.model_id = q.model_id
         WHERE q.n_scored >= 2
         GROUP BY q.model_id, pl.sp2
    ), spread AS (
        SELECT q.*,
               CASE WHEN q.n_scored IS NULL OR q.n_scored < 2 THEN target.v
                    WHEN q.s2 = 0 THEN target.v / q.n_scored
                    WHEN pr.tau2 > 0 THEN
                        -- k = 2 (sp2^2 + tau2) / tau2
                        ((q.n_scored - 1) * q.s2 + 2 * (pr.sp2 * pr.sp2 + pr.tau2) / pr.tau2 * pr.sp2)
                        / ((q.n_scored - 1) + 2 * (pr.sp2 * pr.sp2 + pr.tau2) / pr.tau2)
                    ELSE pr.sp2
               END AS sigma2
          FROM pairs AS q
          LEFT JOIN prior AS pr ON pr.model_id = q.model_id
          CROSS JOIN LATERAL (SELECT CASE WHEN pr.sp2 > 0 THEN pr.sp2 ELSE run_pooled END AS v) AS target
    ), candidates AS (
        SELECT s.scenario_id, s.model_id,
               row_number() OVER (ORDER BY
                   CASE WHEN s.have + g.i - 1 = 0 THEN 'Infinity'::float8
                        ELSE s.sigma2 / (s.model_pairs::float8 * s.model_pairs)
                             / ((s.have + g.i - 1)::float8 * (s.have + g.i)) END DESC,
                   s.have + g.i, s.model_id COLLATE "C", s.scenario_id COLLATE "C") AS rank
          FROM spread AS s
          CROSS JOIN LATERAL generate_series(1, least(s.room, plan_samples.extra_samples)::integer) AS g(i)
    ), granted AS (
        SELECT c.scenario_id, c.model_id, count(*)::integer AS n
          FROM candidates AS c
         WHERE c.rank <= plan_samples.extra_samples
         GROUP BY c.scenario_id, c.model_id
    )
    SELECT s.scenario_id, s.model_id, s.planned_samples, s.have, coalesce(s.n_scored, 0) AS n_scored,
           s.s2, s.sigma2, coalesce(g.n, 0) AS extra,
           CASE WHEN coalesce(g.n, 0) > 0
                THEN greatest(s.planned_samples, (s.have + g.n)::integer) ELSE s.planned_samples END AS new_planned,
           coalesce(g.n, 0) = s.room AS at_cap
      FROM spread AS s
      LEFT JOIN granted AS g ON g.scenario_id = s.scenario_id AND g.model_id = s.model_id
     ORDER BY s.model_id COLLATE "C", s.scenario_id COLLATE "C"
    LOOP
        scenario_id := plan.scenario_id;
        model_id := plan.model_id;
        planned_samples := plan.planned_samples;
        samples := plan.have;
        scored_samples := plan.n_scored;
        variance := plan.s2;
        planning_variance := plan.sigma2;
        extra := plan.extra;
        new_planned_samples := plan.new_planned;
        at_cap := plan.at_cap;
        spent := spent + plan.extra;
        RETURN NEXT;
    END LOOP;

    IF spent < plan_samples.extra_samples THEN
        RAISE NOTICE 'plan_samples: % of the % extra samples cannot be placed in run %: every pair is at its cap',
            plan_samples.extra_samples - spent, plan_samples.extra_samples, plan_samples.run_id
            USING HINT = format('A pair gets at most max_samples_per_pair (%s) samples and 100 jobs.', plan_samples.max_samples_per_pair);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.plan_samples(text, bigint, integer) IS
'Proposes, without writing, how many of extra_samples more samples each scenario-model pair of a run should get to minimise the sum over models of the variance of the model''s mean over the run''s scenarios (Neyman allocation by exact greedy, per-pair variances shrunk by empirical Bayes towards the model''s pooled variance; a pair whose samples all agreed is planned with pooled / n). At most max_samples_per_pair samples and 100 jobs per pair; what cannot be spent under the caps is left unspent (the sum of extra is then smaller).';

-------------------------------------------------------------------------------
-- add_samples: queue what plan_samples proposes.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.add_samples(
    run_id text,
    extra_samples bigint,
    request_id text DEFAULT NULL,
    max_samples_per_pair integer DEFAULT 100)
RETURNS TABLE (
    scenario_id text,
    model_id text,
    extra integer,
    planned_samples integer,
    first_sample_index integer,
    job_state text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- JIT compilation of these queries costs more than running them.
SET jit = off
AS $$
DECLARE
    earlier record;
    uniform integer;
    scenario_ids text[];
    model_ids text[];
    extras integer[];
    new_plans integer[];
    allocation jsonb;
    queued_total bigint;
BEGIN
    PERFORM @extschema@.check_sample_budget(add_samples.run_id, add_samples.extra_samples,
                                           add_samples.max_samples_per_pair);
    IF btrim(add_samples.request_id) = '' OR length(add_samples.request_id) > 200 THEN
        RAISE EXCEPTION 'request_id must be NULL or a non-blank text of at most 200 characters'
            USING ERRCODE = '22023', HINT = 'Pass the same request_id when retrying the same request.';
    END IF;
    PERFORM @extschema@.lock_run('add_samples', add_samples.run_id);

    -- A retry of a request made before: its allocation, nothing changed.
    IF add_samples.request_id IS NOT NULL THEN
        SELECT q.extra_samples, q.max_samples_per_pair, q.allocation INTO earlier
          FROM @extschema@.run_sample_requests AS q
         WHERE q.run_id = add_samples.run_id AND q.request_id = add_samples.request_id;
        IF FOUND THEN
            IF earlier.extra_samples <> add_samples.extra_samples
               OR earlier.max_samples_per_pair <> add_samples.max_samples_per_pair THEN
                RAISE EXCEPTION 'request % of run % was made with extra_samples % and max_samples_per_pair %',
                    quote_literal(add_samples.request_id), add_samples.run_id, earlier.extra_samples,
                    earlier.max_samples_per_pair
                    USING ERRCODE = '22023', HINT = 'A new request needs a new request_id.';
            END IF;
            RETURN QUERY
            SELECT a."scenarioId", a."modelId", a.extra, a."plannedSamples", a."firstSampleIndex", a."jobState"
              FROM jsonb_to_recordset(earlier.allocation)
                   AS a("scenarioId" text, "modelId" text, extra integer, "plannedSamples" integer,
                        "firstSampleIndex" integer, "jobState" text);
            RETURN;
        END IF;
    END IF;
    -- The plan, made under the run's lock (plan_samples refuses a cancelled
    -- run).
    SELECT array_agg(p.scenario_id ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.model_id ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.extra ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C"),
           array_agg(p.new_planned_samples ORDER BY p.model_id COLLATE "C", p.scenario_id COLLATE "C")
      INTO scenario_ids, model_ids, extras, new_plans
      FROM @extschema@.plan_samples(add_samples.run_id, add_samples.extra_samples,
                                    add_samples.max_samples_per_pair) AS p
     WHERE p.extra > 0;

    -- The plan rows (only where a pair's plan differs from the run's one number).
    SELECT s.samples_per_scenario INTO uniform
      FROM @extschema@.run_analysis_settings AS s WHERE s.run_id = add_samples.run_id;
    INSERT INTO @extschema@.run_pair_plans AS pp (run_id, scenario_id, model_id, planned_samples)
    SELECT add_samples.run_id, u.s, u.m, u.n
      FROM unnest(scenario_ids, model_ids, new_plans) AS u(s, m, n)
     WHERE u.n IS DISTINCT FROM uniform
    ON CONFLICT ON CONSTRAINT run_pair_plans_pkey DO UPDATE SET planned_samples = excluded.planned_samples;
    DELETE FROM @extschema@.run_pair_plans AS pp
     USING unnest(scenario_ids, model_ids, new_plans) AS u(s, m, n)
     WHERE pp.run_id = add_samples.run_id AND pp.scenario_id = u.s AND pp.model_id = u.m
       AND u.n = uniform;

    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'scenarioId', q.scenario_id, 'modelId', q.model_id, 'extra', q.queued,
               'plannedSamples', (SELECT u.n FROM unnest(scenario_ids, model_ids, new_plans) AS u(s, m, n)
                                   WHERE u.s = q.scenario_id AND u.m = q.model_id),
               'firstSampleIndex', q.first_sample_index, 'jobState', q.job_state)
               ORDER BY q.model_id COLLATE "C", q.scenario_id COLLATE "C"), '[]'::jsonb),
           coalesce(sum(q.queued), 0)
      INTO allocation, queued_total
      FROM @extschema@.queue_new_samples(add_samples.run_id, coalesce(scenario_ids, '{}'),
                                         coalesce(model_ids, '{}'), coalesce(extras, '{}')) AS q;

    IF add_samples.request_id IS NOT NULL THEN
        INSERT INTO @extschema@.run_sample_requests
               (run_id, request_id, extra_samples, max_samples_per_pair, queued, allocation)
        VALUES (add_samples.run_id, add_samples.request_id, add_samples.extra_samples,
                add_samples.max_samples_per_pair, queued_total, allocation);
    END IF;

    RETURN QUERY
    SELECT a."scenarioId", a."modelId", a.extra, a."plannedSamples", a."firstSampleIndex", a."jobState"
      FROM jsonb_to_recordset(allocation)
           AS a("scenarioId" text, "modelId" text, extra integer, "plannedSamples" integer,
                "firstSampleIndex" integer, "jobState" text);
END
$$;
COMMENT ON FUNCTION @extschema@.add_samples(text, bigint, text, integer) IS
'Queues exactly what plan_samples proposes for extra_samples more samples: raises the plan of every pair that gets samples (run_pair_plans) and queues that many new jobs with its next sample indexes. With request_id, a retry of the same request returns the earlier allocation and changes nothing. Returns the pairs that got samples. Refuses cancelled runs (55000) and runs without spread to plan with (55000). READ COMMITTED only.';
