-------------------------------------------------------------------------------
-- analysis_json: the whole analysis of a run in one document, in one of two
-- formats.
--   'multisample' (default): the document of SPEC 6, as in 1.1.
--   'reference': the reference platform's varianceAnalysis object, for its
--   consumers (field by field in README.md, "analysis_json").
-------------------------------------------------------------------------------
-- One pass over the run's scored samples (the grouping of scenario_variance,
-- read from the scored-sample index); everything else is computed from the
-- per-pair rows. The query is laid out in blocks:
--   shared       pairs (per scenario-model pair), models (per model), flags;
--   multisample  scenarios, ranked, expected_pairs, warnings, the document;
--   reference    reference_per_scenario, reference_pairs, the document.
-- Only the document asked for is built: each is a scalar subquery of one
-- branch of the final CASE, and PostgreSQL runs such a subquery (an InitPlan)
-- only when its branch is taken, so the other format's blocks are never
-- read. Documents are built as json (plain text concatenation) and converted
-- to jsonb once: building nested jsonb re-encodes every level and cost more
-- than the scan. scenarioVariance, most of the multisample document, is
-- added in C by the aggregate scenario_variance_document
-- (src/scenario_variance_json.c): the same jsonb as json_build_object's
-- text cast to jsonb and joined with ||, without printing and parsing
-- 1.8 MB of text for a run of 1000 scenarios x 10 models, nor unpacking and
-- packing it again. The body uses plain operators: SET
-- search_path pins them to pg_catalog.
CREATE FUNCTION @extschema@.scenario_variance_accum(
    internal, jsonb, text, text, float8, bigint, text, bigint, float8, float8, float8, float8, float8)
RETURNS internal
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'ms_scenario_variance_accum';
COMMENT ON FUNCTION @extschema@.scenario_variance_accum(internal, jsonb, text, text, float8, bigint, text, bigint, float8, float8, float8, float8, float8) IS
    'Transition function of scenario_variance_document (runs only inside the aggregate).';

CREATE FUNCTION @extschema@.scenario_variance_final(internal)
RETURNS jsonb
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'ms_scenario_variance_final';
COMMENT ON FUNCTION @extschema@.scenario_variance_final(internal) IS
    'Final function of scenario_variance_document (runs only inside the aggregate).';

CREATE AGGREGATE @extschema@.scenario_variance_document(
    document jsonb, scenario_id text, scenario_name text, mean_variance float8, rank bigint,
    model_id text, sample_count bigint, mean float8, std_dev float8, variance float8, min float8, max float8) (
    SFUNC = @extschema@.scenario_variance_accum,
    STYPE = internal,
    FINALFUNC = @extschema@.scenario_variance_final
);
COMMENT ON AGGREGATE @extschema@.scenario_variance_document(jsonb, text, text, float8, bigint, text, bigint, float8, float8, float8, float8, float8) IS
    'analysis_json''s document: the object given as document (from the first row) with scenarioVariance set to the array of the rows, one per scenario-model pair, the rows of a scenario consecutive and the scenarios in the order wanted: [{scenarioId, scenarioName, meanVariance, rank, perModel: {model: {sampleCount, mean, stdDev, variance, min, max}}}]. NULL without rows; 22004 for a NULL document, scenario or model id; 22023 for a document that is not an object.';

DROP FUNCTION @extschema@.analysis_json(text);

CREATE FUNCTION @extschema@.analysis_json(run_id text, format text DEFAULT 'multisample')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- JIT compilation of this many expressions costs seconds and saves nothing
-- on a query that reads each sample once.
SET jit = off
SET enable_seqscan = off
AS $function$
DECLARE
    settings record;
    per_pair_plan boolean;
    max_plan integer;
    result jsonb;
BEGIN
    IF analysis_json.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF analysis_json.format IS NULL OR analysis_json.format NOT IN ('multisample', 'reference') THEN
        RAISE EXCEPTION 'format must be ''multisample'' or ''reference'', got %',
                        coalesce(quote_literal(analysis_json.format), 'NULL')
            USING ERRCODE = '22023',
                  HINT = '''reference'' gives the reference platform''s varianceAnalysis object.';
    END IF;
    SELECT s.samples_per_scenario, s.score_scale_min, s.score_scale_max,
           r.config -> 'samplesPerScenario' AS raw_samples, r.config -> 'scoreScale' AS raw_scale,
           CASE WHEN jsonb_typeof(r.config -> 'models') = 'array'
                THEN r.config -> 'models' ELSE '[]'::jsonb END AS models,
           -- the rule of the view model_pass_at_k: a number within 1e300
           CASE WHEN jsonb_typeof(r.config -> 'successThreshold') = 'number'
                 AND abs((r.config -> 'successThreshold')::numeric) <= 1e300
                THEN (r.config -> 'successThreshold')::float8 END AS success_threshold
      INTO settings
      FROM @extschema@.run_analysis_settings AS s
      JOIN @extschema@.runs AS r ON r.id = s.run_id
     WHERE s.run_id = analysis_json.run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(analysis_json.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    -- The run's plan per pair (adaptive sampling): pairs whose planned
    -- samples differ from samplesPerScenario have a row in run_pair_plans.
    SELECT count(*) > 0, max(pp.planned_samples) INTO per_pair_plan, max_plan
      FROM @extschema@.run_pair_plans AS pp WHERE pp.run_id = analysis_json.run_id;

    -- ==== shared ===========================================================
    WITH pairs AS MATERIALIZED (
        -- The per-pair figures of scenario_variance, read straight from the
        -- scored-sample index (this document does not need the pair ranks),
        -- and the pair's successes (score >= successThreshold). model_rank
        -- numbers the models in the order of their ids.
        SELECT p.scenario_id, p.model_id, (p.st).sample_count AS n, (p.st).mean, (p.st).std_dev,
               (p.st).variance, (p.st).min, (p.st).max, p.successes,
               sum((p.st).sample_count * (p.st).mean) OVER w
                   / (sum((p.st).sample_count) OVER w)::float8 AS model_mean,
               dense_rank() OVER (ORDER BY p.model_id) AS model_rank
          FROM (SELECT t.model_id, t.scenario_id, @extschema@.variance_stats(t.score) AS st,
                       count(*) FILTER (WHERE t.score >= settings.success_threshold) AS successes
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
    ), flags AS (
        -- Multi-sample: more than one sample was requested (for the run, or
        -- for a pair by its plan), or some pair has more than one (e.g.
        -- retried duplicates of a 1.0 run).
        SELECT coalesce(settings.samples_per_scenario > 1, false)
               OR coalesce(max_plan > 1, false)
               OR coalesce((SELECT max(p.n) FROM pairs AS p) > 1, false) AS multi,
               -- The reference format needs a number: the requested samples,
               -- else the most any pair has, else 1.
               coalesce(settings.samples_per_scenario, (SELECT max(p.n) FROM pairs AS p)::integer, 1)
                   AS reference_samples

    -- ==== format 'multisample' =============================================
    ), scenarios AS (
        -- Narrow rows: the per-model objects are built once, in rank order,
        -- when scenarioVariance is written (sorting rows that carry them
        -- copied the whole document at every sort).
        SELECT p.scenario_id, sc.name AS scenario_name, avg(p.variance) AS mean_variance
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
    ), expected_scenarios AS (
        -- The pairs the run asked for: its selected scenarios (else the ones
        -- scored) times its configured models (else the ones scored), each
        -- with the samples planned for it (its run_pair_plans row, else
        -- samplesPerScenario).
        SELECT sel.scenario_id FROM @extschema@.run_scenario_selections AS sel
         WHERE sel.run_id = analysis_json.run_id
        UNION SELECT p.scenario_id FROM pairs AS p
    ), expected_models AS (
        SELECT m.value #>> '{}' AS model_id
          FROM jsonb_array_elements(settings.models) AS m
         WHERE jsonb_typeof(m.value) = 'string'
        UNION SELECT p.model_id FROM pairs AS p
    ), expected_pairs AS (
        -- Built only when some pair may be short or extra: with no plan per
        -- pair and every expected pair scored exactly samplesPerScenario
        -- times (every scored pair is an expected one), there is none.
        -- With a plan per pair, a pair listed in a warning says its plan.
        SELECT x.*,
               CASE WHEN per_pair_plan
                    THEN json_build_object('scenarioId', x.scenario_id, 'modelId', x.model_id,
                                           'scoredSamples', x.n, 'plannedSamples', x.requested)
                    ELSE json_build_object('scenarioId', x.scenario_id, 'modelId', x.model_id,
                                           'scoredSamples', x.n) END AS entry
          FROM (SELECT e.scenario_id, e.model_id, coalesce(p.n, 0) AS n,
                       coalesce(pp.planned_samples, settings.samples_per_scenario) AS requested
                  FROM (expected_scenarios CROSS JOIN expected_models) AS e
                  LEFT JOIN pairs AS p USING (scenario_id, model_id)
                  LEFT JOIN @extschema@.run_pair_plans AS pp
                    ON pp.run_id = analysis_json.run_id AND pp.scenario_id = e.scenario_id
                   AND pp.model_id = e.model_id
                 WHERE per_pair_plan
                    OR (SELECT count(*) FROM expected_scenarios) * (SELECT count(*) FROM expected_models)
                       > (SELECT count(*) FROM pairs AS f WHERE f.n = settings.samples_per_scenario)) AS x
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
            -- Short and extra pairs, against each pair's plan.
            SELECT 4, json_build_object(
                       'code', 'SHORT_PAIRS',
                       'message', CASE WHEN per_pair_plan
                           THEN format('%s scenario-model pair(s) have fewer scored samples than planned; statistics use the samples that exist',
                                       count(*))
                           ELSE format('%s scenario-model pair(s) have fewer scored samples than the %s requested; statistics use the samples that exist',
                                       count(*), settings.samples_per_scenario) END,
                       'requested', settings.samples_per_scenario,
                       'pairs', json_agg(e.entry ORDER BY e.model_id COLLATE "C", e.scenario_id COLLATE "C"))
              FROM expected_pairs AS e
             WHERE e.n < e.requested
            HAVING count(*) > 0
            UNION ALL
            SELECT 5, json_build_object(
                       'code', 'EXTRA_SAMPLES',
                       'message', CASE WHEN per_pair_plan
                           THEN format('%s scenario-model pair(s) have more scored samples than planned; all of them are used',
                                       count(*))
                           ELSE format('%s scenario-model pair(s) have more scored samples than the %s requested; all of them are used',
                                       count(*), settings.samples_per_scenario) END,
                       'requested', settings.samples_per_scenario,
                       'pairs', json_agg(e.entry ORDER BY e.model_id COLLATE "C", e.scenario_id COLLATE "C"))
              FROM expected_pairs AS e
             WHERE e.n > e.requested
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
    ), compared AS (
        -- The view model_comparison (45-comparison-views.sql), from the same
        -- per-pair rows: per pair of models (model_a < model_b) over their
        -- shared scenarios, scenario means as the units.
        -- (min() of the group's one id, compared bytewise: cheaper than
        -- the collation, and the same value)
        SELECT min(a.model_id COLLATE "C") COLLATE "default" AS model_a,
               min(b.model_id COLLATE "C") COLLATE "default" AS model_b,
               @extschema@.paired_comparison(a.mean, b.mean) AS pc,
               count(*) FILTER (WHERE a.mean - b.mean > 1e-12 * greatest(abs(a.mean), abs(b.mean))) AS wins,
               count(*) FILTER (WHERE abs(a.mean - b.mean) <= 1e-12 * greatest(abs(a.mean), abs(b.mean))) AS ties,
               count(*) FILTER (WHERE b.mean - a.mean > 1e-12 * greatest(abs(a.mean), abs(b.mean))) AS losses,
               avg(a.variance) AS within_variance_a, avg(b.variance) AS within_variance_b,
               avg(a.n)::float8 AS samples_a, avg(b.n)::float8 AS samples_b,
               avg(a.variance / a.n + b.variance / b.n) AS noise
          FROM pairs AS a
          JOIN pairs AS b ON b.scenario_id = a.scenario_id COLLATE "C" AND b.model_rank > a.model_rank
         GROUP BY a.model_rank, b.model_rank
    ), comparison AS (
        -- between_variance (omega^2, method of moments, clamped at 0), the
        -- sizing variances (var(differences) itself without a noise
        -- estimate) and Holm's rank j among the m p-values of the run.
        SELECT d.*,
               count(d.p_value) OVER () AS holm_m,
               row_number() OVER (ORDER BY d.p_value NULLS LAST, d.model_a, d.model_b) AS holm_j,
               coalesce(d.between_variance, d.difference_variance) AS sizing_between,
               CASE WHEN d.between_variance IS NOT NULL THEN d.within_variance_a ELSE 0 END AS sizing_within_a,
               CASE WHEN d.between_variance IS NOT NULL THEN d.within_variance_b ELSE 0 END AS sizing_within_b,
               CASE WHEN d.between_variance IS NOT NULL THEN d.samples_a ELSE 1 END AS sizing_samples_a,
               CASE WHEN d.between_variance IS NOT NULL THEN d.samples_b ELSE 1 END AS sizing_samples_b
          FROM (SELECT e.*,
                       CASE WHEN e.noise IS NOT NULL AND e.difference_variance IS NOT NULL
                            THEN greatest(0::float8, e.difference_variance - e.noise) END
                           AS between_variance
                  FROM (SELECT c.model_a, c.model_b, (c.pc).pairs AS scenarios, (c.pc).mean_a, (c.pc).mean_b,
                               (c.pc).mean_difference, (c.pc).std_error, (c.pc).lower AS ci_lower,
                               (c.pc).upper AS ci_upper, (c.pc).level AS ci_level, (c.pc).t_statistic,
                               (c.pc).p_value, (c.pc).effect_size, (c.pc).correlation,
                               c.wins, c.ties, c.losses, nullif(c.wins + c.losses, 0) AS decided,
                               c.wins::float8 / nullif(c.wins + c.losses, 0) AS win_rate,
                               c.within_variance_a, c.within_variance_b, c.samples_a, c.samples_b,
                               (c.pc).std_error * (c.pc).std_error * (c.pc).pairs AS difference_variance,
                               c.noise
                          FROM compared AS c) AS e) AS d
    ), pass_counts AS (
        -- pass@k and pass^k (view model_pass_at_k): a scenario counts for
        -- k = 1 .. min(n, samplesPerScenario). Pairs with the same n and c
        -- have the same figures: each is computed once, then weighted by
        -- the model's number of such pairs. Grouping on integers keeps the
        -- (model, k) rows out of text sorts.
        SELECT p.model_rank, p.n, p.successes AS c, count(*) AS scenarios
          FROM pairs AS p
         WHERE settings.success_threshold IS NOT NULL
         GROUP BY p.model_rank, p.n, p.successes
    ), pass_values AS MATERIALIZED (
        SELECT v.n, v.c, k.k,
               @extschema@.pass_at_k(v.n, v.c, k.k) AS pass_at_k,
               @extschema@.pass_hat_k(v.n, v.c, k.k) AS pass_hat_k
          FROM (SELECT DISTINCT pc.n, pc.c FROM pass_counts AS pc) AS v
         CROSS JOIN LATERAL generate_series(1, least(v.n, coalesce(settings.samples_per_scenario, v.n))::integer)
               AS k (k)
    ), pass_sums AS MATERIALIZED (
        SELECT pc.model_rank, v.k, sum(pc.scenarios) AS scenarios,
               sum(pc.scenarios * v.pass_at_k) / sum(pc.scenarios) AS pass_at_k,
               sum(pc.scenarios * v.pass_hat_k) / sum(pc.scenarios) AS pass_hat_k
          FROM pass_counts AS pc
          JOIN pass_values AS v ON v.n = pc.n AND v.c = pc.c
         GROUP BY pc.model_rank, v.k
    ), pass_curves AS (
        SELECT min(m.model_id) AS model_id,
               json_agg(json_build_object('k', s.k, 'passAtK', s.pass_at_k, 'passHatK', s.pass_hat_k,
                                          'scenarios', s.scenarios) ORDER BY s.k) AS curve
          FROM pass_sums AS s
          JOIN (SELECT DISTINCT p.model_rank, p.model_id FROM pairs AS p) AS m USING (model_rank)
         GROUP BY s.model_rank
    ), multisample_document AS MATERIALIZED (
        -- (materialised: inlined, the document would be built again for
        -- every row given to scenario_variance_document below)
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
            'modelComparison', coalesce((
                SELECT json_agg(json_build_object(
                           'modelA', c.model_a, 'modelB', c.model_b, 'scenarios', c.scenarios,
                           'meanA', c.mean_a, 'meanB', c.mean_b, 'meanDifference', c.mean_difference,
                           'stdError', c.std_error, 'ciLower', c.ci_lower, 'ciUpper', c.ci_upper,
                           'ciLevel', c.ci_level, 'tStatistic', c.t_statistic, 'pValue', c.p_value,
                           'pValueHolm', c.p_value_holm, 'effectSize', c.effect_size,
                           'wins', c.wins, 'ties', c.ties, 'losses', c.losses, 'winRate', c.win_rate,
                           'winRateLower', (c.wilson).lower, 'winRateUpper', (c.wilson).upper,
                           'correlation', c.correlation, 'betweenVariance', c.between_variance,
                           'withinVarianceA', c.within_variance_a, 'withinVarianceB', c.within_variance_b,
                           'samplesA', c.samples_a, 'samplesB', c.samples_b,
                           'minimumDetectableDifference', c.minimum_detectable_difference,
                           'scenariosNeeded', c.scenarios_needed)
                       ORDER BY c.model_a, c.model_b)
                  FROM (SELECT cc.*,
                               CASE WHEN cc.p_value IS NOT NULL THEN
                                   max(least(1::float8, (cc.holm_m - cc.holm_j + 1) * cc.p_value))
                                       OVER (ORDER BY cc.p_value NULLS LAST, cc.model_a, cc.model_b
                                             ROWS UNBOUNDED PRECEDING)
                               END AS p_value_holm,
                               @extschema@.wilson_interval(cc.wins::float8, cc.decided::float8) AS wilson,
                               @extschema@.minimum_detectable_difference(
                                   cc.scenarios, cc.sizing_between, cc.sizing_within_a, cc.sizing_within_b,
                                   cc.sizing_samples_a, cc.sizing_samples_b) AS minimum_detectable_difference,
                               CASE WHEN cc.mean_difference <> 0 THEN
                                   @extschema@.scenarios_needed(
                                       abs(cc.mean_difference), cc.sizing_between, cc.sizing_within_a,
                                       cc.sizing_within_b, cc.sizing_samples_a, cc.sizing_samples_b)
                               END AS scenarios_needed
                          FROM comparison AS cc) AS c), '[]'::json),
            -- removed again below for runs without a usable successThreshold
            'successThreshold', settings.success_threshold,
            'passAtK', coalesce((SELECT json_object_agg(pc.model_id, pc.curve) FROM pass_curves AS pc), '{}'::json),
            'methodsUsed', json_build_object(
                'variance', 'sample variance (n - 1), Welford update with Chan-Golub-LeVeque merge (variance_stats)',
                'perModelFigures', 'mean, stdDev, variance, min, max across all scored samples of the model',
                'confidenceInterval', 'Student t interval for the mean of the per-scenario means, df = scenarios - 1, level 0.95: scenarios are the independent units',
                'withinScenario', 'mean and maximum of the per-pair sample variances over pairs with 2 or more scored samples; stdDev = sqrt(meanVariance)',
                'consistencyScore', '1 - mean within-scenario population variance / ((scoreScale.max - scoreScale.min)^2 / 4); 1 = identical samples',
                'ranking', 'scenarios by the mean of their per-model sample variances, most variable first; ties (equal to 1e-12 relative) by scenario id',
                'samples', 'live transcripts with a score; unscored and deleted ones are left out',
                'modelComparison', 'paired differences of scenario means with scenarios as the units (Miller 2024, "Adding Error Bars to Evals: A Statistical Approach to Language Model Evaluations", arXiv:2411.00640): per pair of models over their shared scenarios, mean difference A - B, Student t interval (df = scenarios - 1, level 0.95) and two-sided paired t-test; wins, ties (within 1e-12 relative) and losses by scenario mean; Pearson correlation of the scenario means',
                'multipleComparisons', 'Holm-Bonferroni step-down adjustment over all model pairs of the run (Holm 1979, "A Simple Sequentially Rejective Multiple Test Procedure"): pValueHolm; a difference is significant at alpha when pValueHolm < alpha',
                'winRate', 'wins / (wins + losses) with the Wilson score interval at 95 % (Wilson 1927, "Probable Inference, the Law of Succession, and Statistical Inference")',
                'effectSize', 'Cohen''s d_z = mean difference / standard deviation of the per-scenario differences (Cohen 1988, "Statistical Power Analysis for the Behavioral Sciences")',
                'power', 'Miller 2024, section 5: variance of a scenario difference omega^2 + sigmaA^2/KA + sigmaB^2/KB, with omega^2 (betweenVariance) = var(differences) - mean(sigmaA,s^2/KA,s + sigmaB,s^2/KB,s) clamped at 0 (method of moments; var(differences) itself without within-scenario variances); minimumDetectableDifference = (z(1 - alpha/2) + z(power)) sqrt(variance / scenarios), scenariosNeeded = ceil((z(1 - alpha/2) + z(power))^2 variance / difference^2), alpha 0.05, power 0.8',
                'passAtK', 'unbiased pass@k of Chen et al. 2021 ("Evaluating Large Language Models Trained on Code", arXiv:2107.03374), 1 - C(n - c, k) / C(n, k) for a scenario with n scored samples of which c have score >= successThreshold, averaged over the scenarios with at least k scored samples',
                'passHatK', 'pass^k = C(c, k) / C(n, k), the probability that k samples drawn without replacement all succeed (Yao et al. 2024, "tau-bench", arXiv:2406.12045), averaged like passAtK'),
            'computedAt', now())::jsonb AS doc
          FROM flags AS f

    -- ==== format 'reference' ===============================================
    ), reference_per_scenario AS (
        -- perScenario of each model, keyed by scenario id. A pair with one
        -- scored sample shows no spread: stdDev and variance 0, as on the
        -- reference platform (whose readers require numbers).
        SELECT p.model_id,
               json_object_agg(p.scenario_id, json_build_object(
                   'sampleCount', p.n, 'mean', p.mean, 'stdDev', coalesce(p.std_dev, 0),
                   'variance', coalesce(p.variance, 0), 'min', p.min, 'max', p.max,
                   'range', p.max - p.min)) AS per_scenario
          FROM pairs AS p
         GROUP BY p.model_id
    ), reference_pairs AS (
        -- The pairs with a variance (2+ scored samples), most variable first;
        -- variances equal to 1e-12 relative are a tie, ordered by scenario id
        -- and model id, so the lists cannot depend on summation order.
        SELECT json_build_object(
                   'scenarioId', t.scenario_id, 'scenarioName', coalesce(sc.name, t.scenario_id),
                   'modelId', t.model_id, 'variance', t.variance, 'stdDev', t.std_dev,
                   'range', t.max - t.min, 'sampleCount', t.n, 'mean', t.mean) AS entry,
               row_number() OVER (ORDER BY t.tie_group, t.scenario_id COLLATE "C", t.model_id COLLATE "C") AS pos,
               count(*) OVER () AS k
          FROM (SELECT b.*, sum(b.starts_tie) OVER (ORDER BY b.position) AS tie_group
                  FROM (SELECT p.*,
                               row_number() OVER w AS position,
                               CASE WHEN lag(p.variance) OVER w - p.variance <= 1e-12 * lag(p.variance) OVER w
                                    THEN 0 ELSE 1 END AS starts_tie
                          FROM pairs AS p
                         WHERE p.variance IS NOT NULL
                        WINDOW w AS (ORDER BY p.variance DESC)) AS b) AS t
          LEFT JOIN @extschema@.scenarios AS sc ON sc.id = t.scenario_id
    ), reference_document AS (
        SELECT json_build_object(
            'isMultiSample', f.multi,
            'samplesPerScenario', f.reference_samples,
            'perModel', coalesce((
                SELECT json_object_agg(m.model_id, json_build_object(
                           'totalSamples', m.n,
                           'uniqueScenarios', m.scenarios,
                           'samplesPerScenario', f.reference_samples,
                           -- 0, 0 and 1 when no pair has two scored samples,
                           -- as on the reference platform.
                           'avgWithinScenarioVariance', coalesce(m.within_variance, 0),
                           'maxWithinScenarioVariance', coalesce(m.within_max, 0),
                           'consistencyScore', CASE WHEN m.within_population IS NULL THEN 1 ELSE
                               1 - m.within_population
                                   / ((settings.score_scale_max - settings.score_scale_min)
                                      * (settings.score_scale_max - settings.score_scale_min) / 4) END,
                           'perScenario', ps.per_scenario))
                  FROM models AS m
                  JOIN reference_per_scenario AS ps USING (model_id)), '{}'::json),
            -- The first min(5, ceil(k/2)) and the last min(5, floor(k/2)) of
            -- the k pairs with a variance: the lists never share a pair.
            'mostVariableScenarios', coalesce((
                SELECT json_agg(r.entry ORDER BY r.pos)
                  FROM reference_pairs AS r
                 WHERE r.pos <= least(5, (r.k + 1) / 2)), '[]'::json),
            'leastVariableScenarios', coalesce((
                SELECT json_agg(r.entry ORDER BY r.pos DESC)
                  FROM reference_pairs AS r
                 WHERE r.pos > r.k - least(5, r.k / 2)), '[]'::json)) AS doc
          FROM flags AS f
    )
    SELECT CASE analysis_json.format
               WHEN 'reference' THEN (SELECT d.doc::jsonb FROM reference_document AS d)
               -- scenarioVariance: the pairs in rank order from a sorted
               -- subquery (an ORDER BY in the aggregate would sort a copy
               -- of the document with every row), added in C
               ELSE (SELECT coalesce(
                                (SELECT @extschema@.scenario_variance_document(
                                            d.doc, rp.scenario_id, rp.scenario_name, rp.mean_variance,
                                            rp.variance_rank, rp.model_id, rp.n, rp.mean, rp.std_dev,
                                            rp.variance, rp.min, rp.max)
                                   FROM (SELECT r.scenario_id, r.scenario_name, r.mean_variance, r.variance_rank,
                                                p.model_id, p.n, p.mean, p.std_dev, p.variance, p.min, p.max
                                           FROM ranked AS r
                                           JOIN pairs AS p ON p.scenario_id = r.scenario_id COLLATE "C"
                                          ORDER BY r.pos) AS rp),
                                d.doc || '{"scenarioVariance": []}')
                       FROM multisample_document AS d)
           END
      INTO result;
    IF analysis_json.format = 'multisample' AND settings.success_threshold IS NULL THEN
        result := result - 'successThreshold' - 'passAtK';
    END IF;
    RETURN result;
END
$function$;
COMMENT ON FUNCTION @extschema@.analysis_json(text, text) IS
    'The analysis of a run as one jsonb document. format ''multisample'' (default, camelCase keys): per-model figures with a scenario-unit confidence interval, within-scenario variance and consistency, scenario variance, most/least variable scenarios, warnings, methods. format ''reference'': the reference platform''s varianceAnalysis object.';
