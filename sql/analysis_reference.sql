-- analysis_json(run_id, format => 'reference'): the reference platform's
-- varianceAnalysis object. Every figure below was worked out by hand from the
-- scores (exact fractions in the comments); the queries print them rounded
-- to 12 digits.
--
-- Run ar-multi (samplesPerScenario 3, score scale 1..5), scored samples:
--   m-a/ar-s1  1 2 3   mean 2     variance 1     stdDev 1        range 2
--   m-a/ar-s2  4 4 4   mean 4     variance 0     stdDev 0        range 0
--   m-a/ar-s3  5       mean 5     one sample: variance 0, stdDev 0 (reference convention)
--   m-b/ar-s1  1 5 3   mean 3     variance 4     stdDev 2        range 4
--   m-b/ar-s2  2 4     mean 3     variance 2     stdDev sqrt 2   range 2
--   m-b/ar-s3  3 3 4   mean 10/3  variance 1/3   stdDev sqrt(1/3) range 1
-- (plus an unscored and a deleted transcript, which are not read).
-- m-a: 7 samples, 3 scenarios; pairs with a variance: s1, s2 ->
--   avgWithinScenarioVariance (1 + 0) / 2 = 1/2, max 1;
--   population variances 1 * 2/3 = 2/3 and 0, mean 1/3;
--   consistencyScore 1 - (1/3) / ((5 - 1)^2 / 4) = 1 - 1/12 = 11/12 = 0.916666666667.
-- m-b: 8 samples, 3 scenarios; avg (4 + 2 + 1/3) / 3 = 19/9 = 2.111111111111, max 4;
--   population variances 4 * 2/3 = 8/3, 2 * 1/2 = 1, 1/3 * 2/3 = 2/9, mean 35/27;
--   consistencyScore 1 - (35/27) / 4 = 73/108 = 0.675925925926.
-- The k = 5 pairs with a variance, most variable first: b/s1 4, b/s2 2,
-- a/s1 1, b/s3 1/3, a/s2 0. mostVariableScenarios: the first
-- min(5, ceil(5/2)) = 3; leastVariableScenarios: the last min(5, floor(5/2))
-- = 2, least first: a/s2, b/s3.

CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- Numbers of a json value rounded to 12 digits (text of the rounded numeric).
CREATE FUNCTION pg_temp.r12(v jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN trim_scale(round(v::text::numeric, 12))::text ELSE v::text END
$$;

INSERT INTO multisample.definitions (id, name) VALUES ('ar-def', 'reference analysis');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    ('ar-s1', 'ar-def', 'Scenario one'), ('ar-s2', 'ar-def', 'Scenario two'), ('ar-s3', 'ar-def', 'Scenario three');
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('ar-multi',  'ar-def', '{"models": ["m-a", "m-b"], "samplesPerScenario": 3, "scoreScale": {"min": 1, "max": 5}}'),
    ('ar-single', 'ar-def', '{"models": ["m-a"]}'),
    ('ar-none',   'ar-def', '{"samplesPerScenario": 2}'),
    ('ar-odd',    'ar-def', '{"samplesPerScenario": "three"}'),
    ('ar-tie',    'ar-def', '{"samplesPerScenario": 2}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, content, deleted_at)
SELECT 'ar-multi', v.s, v.m, v.i, v.score, '{}', v.deleted
  FROM (VALUES ('ar-s1', 'm-a', 0, 1, NULL::timestamptz), ('ar-s1', 'm-a', 1, 2, NULL), ('ar-s1', 'm-a', 2, 3, NULL),
               ('ar-s2', 'm-a', 0, 4, NULL), ('ar-s2', 'm-a', 1, 4, NULL), ('ar-s2', 'm-a', 2, 4, NULL),
               ('ar-s3', 'm-a', 0, 5, NULL), ('ar-s3', 'm-a', 1, NULL, NULL),
               ('ar-s1', 'm-b', 0, 1, NULL), ('ar-s1', 'm-b', 1, 5, NULL), ('ar-s1', 'm-b', 2, 3, NULL),
               ('ar-s2', 'm-b', 0, 2, NULL), ('ar-s2', 'm-b', 1, 4, NULL), ('ar-s2', 'm-b', 2, 1, now()),
               ('ar-s3', 'm-b', 0, 3, NULL), ('ar-s3', 'm-b', 1, 3, NULL), ('ar-s3', 'm-b', 2, 4, NULL))
       AS v (s, m, i, score, deleted);

-- The top level: exactly the reference keys.
SELECT k, pg_temp.r12(v) AS value
  FROM jsonb_each(multisample.analysis_json('ar-multi', format => 'reference')) AS e (k, v)
 WHERE jsonb_typeof(v) NOT IN ('object', 'array')
 ORDER BY k;
SELECT array_agg(k ORDER BY k) AS keys FROM jsonb_object_keys(multisample.analysis_json('ar-multi', 'reference')) AS k;

-- perModel, per model.
SELECT m AS model, k, pg_temp.r12(v) AS value
  FROM jsonb_each(multisample.analysis_json('ar-multi', 'reference') -> 'perModel') AS pm (m, doc),
       jsonb_each(pm.doc) AS e (k, v)
 WHERE k <> 'perScenario'
 ORDER BY m, k;

-- perScenario, keyed by scenario id, every field of each pair.
SELECT m AS model, s AS scenario, x.*
  FROM jsonb_each(multisample.analysis_json('ar-multi', 'reference') -> 'perModel') AS pm (m, doc),
       jsonb_each(pm.doc -> 'perScenario') AS ps (s, st),
       LATERAL (SELECT pg_temp.r12(st -> 'sampleCount') AS n, pg_temp.r12(st -> 'mean') AS mean,
                       pg_temp.r12(st -> 'stdDev') AS std_dev, pg_temp.r12(st -> 'variance') AS variance,
                       pg_temp.r12(st -> 'min') AS min, pg_temp.r12(st -> 'max') AS max,
                       pg_temp.r12(st -> 'range') AS range, (SELECT count(*) FROM jsonb_object_keys(st)) AS keys) AS x
 ORDER BY m, s;

-- The two lists: entries with the reference fields, never the same pair twice.
SELECT l AS list, ord, e ->> 'scenarioId' AS scenario, e ->> 'scenarioName' AS name, e ->> 'modelId' AS model,
       pg_temp.r12(e -> 'variance') AS variance, pg_temp.r12(e -> 'stdDev') AS std_dev,
       pg_temp.r12(e -> 'range') AS range, pg_temp.r12(e -> 'sampleCount') AS n, pg_temp.r12(e -> 'mean') AS mean,
       (SELECT count(*) FROM jsonb_object_keys(e)) AS keys
  FROM unnest(ARRAY['mostVariableScenarios', 'leastVariableScenarios']) AS l,
       jsonb_array_elements(multisample.analysis_json('ar-multi', 'reference') -> l) WITH ORDINALITY AS x (e, ord)
 ORDER BY l DESC, ord;

-- One sample per pair (ar-single, samplesPerScenario absent = 1): not
-- multi-sample; the within-scenario figures are 0, consistencyScore 1 and
-- the lists empty, as on the reference platform.
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, content) VALUES
    ('ar-single', 'ar-s1', 'm-a', 0, 2, '{}'), ('ar-single', 'ar-s2', 'm-a', 0, 5, '{}');
SELECT jsonb_pretty(multisample.analysis_json('ar-single', 'reference'));

-- No scored sample: no model, empty lists.
SELECT jsonb_pretty(multisample.analysis_json('ar-none', 'reference'));

-- An unusable samplesPerScenario ("three"): the reference format needs a
-- number, so it reports the most scored samples of any pair (2 here).
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, content) VALUES
    ('ar-odd', 'ar-s1', 'm-a', 0, 1, '{}'), ('ar-odd', 'ar-s1', 'm-a', 1, 3, '{}'), ('ar-odd', 'ar-s2', 'm-a', 0, 2, '{}');
SELECT j -> 'samplesPerScenario' AS samples, j -> 'isMultiSample' AS multi,
       j -> 'perModel' -> 'm-a' -> 'samplesPerScenario' AS model_samples
  FROM multisample.analysis_json('ar-odd', 'reference') AS j;

-- Ties: four pairs with variance 2 (scores 1 and 3) and one with 8 (1, 5):
-- ties are ordered by scenario id, then model id. k = 5: most = 8 then the
-- first two of the tie (s1/m-a, s1/m-b); least = the last two, least first
-- (s3/m-a, s2/m-a).
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, content)
SELECT 'ar-tie', v.s, v.m, i, CASE WHEN i = 0 THEN 1 ELSE v.hi END, '{}'
  FROM (VALUES ('ar-s1', 'm-a', 3), ('ar-s1', 'm-b', 3), ('ar-s2', 'm-a', 3), ('ar-s3', 'm-a', 3), ('ar-s2', 'm-b', 5))
       AS v (s, m, hi),
       generate_series(0, 1) AS i;
SELECT l AS list, ord, e ->> 'scenarioId' AS scenario, e ->> 'modelId' AS model, e -> 'variance' AS variance
  FROM unnest(ARRAY['mostVariableScenarios', 'leastVariableScenarios']) AS l,
       jsonb_array_elements(multisample.analysis_json('ar-tie', 'reference') -> l) WITH ORDINALITY AS x (e, ord)
 ORDER BY l DESC, ord;

-- The default format is the multisample document, and naming it explicitly
-- gives the same document.
SELECT (multisample.analysis_json('ar-multi') - 'computedAt')
       = (multisample.analysis_json('ar-multi', 'multisample') - 'computedAt') AS same_default,
       multisample.analysis_json('ar-multi') ? 'warnings' AS default_has_warnings,
       multisample.analysis_json('ar-multi', 'reference') ? 'warnings' AS reference_has_warnings;

-- Bad arguments.
SELECT pg_temp.sqlstate_of($$SELECT multisample.analysis_json('ar-multi', 'Reference')$$);
SELECT pg_temp.sqlstate_of($$SELECT multisample.analysis_json('ar-multi', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT multisample.analysis_json('no-such-run', 'reference')$$);
