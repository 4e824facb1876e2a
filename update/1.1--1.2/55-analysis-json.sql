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
-- than the scan. The body uses plain operators: SET search_path pins them to
-- pg_catalog.
DROP FUNCTION @extschema@.analysis_json(text);

CREATE FUNCTION @extschema@.analysis_json(run_id text, format text DEFAULT 'multisample')
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
    IF analysis_json.format IS NULL OR analysis_json.format NOT IN ('multisample', 'reference') THEN
        RAISE EXCEPTION 'format must be ''multisample'' or ''reference'', got %',
                        coalesce(quote_literal(analysis_json.format), 'NULL')
            USING ERRCODE = '22023',
                  HINT = '''reference'' gives the reference platform''s varianceAnalysis object.';
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

    -- ==== shared ===========================================================
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
    ), flags AS (
        -- Multi-sample: more than one sample was requested, or some pair has
        -- more than one (e.g. retried duplicates of a 1.0 run).
        SELECT coalesce(settings.samples_per_scenario > 1, false)
               OR coalesce((SELECT max(p.n) FROM pairs AS p) > 1, false) AS multi,
               -- The reference format needs a number: the requested samples,
               -- else the most any pair has, else 1.
               coalesce(settings.samples_per_scenario, (SELECT max(p.n) FROM pairs AS p)::integer, 1)
                   AS reference_samples

    -- ==== format 'multisample' =============================================
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
    ), multisample_document AS (
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
            'computedAt', now()) AS doc
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
               WHEN 'reference' THEN (SELECT d.doc FROM reference_document AS d)
               ELSE (SELECT d.doc FROM multisample_document AS d)
           END::jsonb
      INTO result;
    RETURN result;
END
$function$;
COMMENT ON FUNCTION @extschema@.analysis_json(text, text) IS
    'The analysis of a run as one jsonb document. format ''multisample'' (default, camelCase keys): per-model figures with a scenario-unit confidence interval, within-scenario variance and consistency, scenario variance, most/least variable scenarios, warnings, methods. format ''reference'': the reference platform''s varianceAnalysis object.';
