-- analysis_json's comparison blocks (SPEC 12.4): modelComparison, passAtK,
-- successThreshold and the methods named in methodsUsed.
--
-- The run aj-cmp holds the samples of the run r-cmp worked by hand in
-- sql/comparison.sql (every figure there derived with exact fractions and
-- mpmath, test/comparison_reference.py). Scenario means (K samples, within
-- variance):
--          s1              s2              s3            s4
--   A  4 (3, 1)        7/3 (3, 1/3)    9/2 (2, 1/2)   4/3 (3, 1/3)
--   B  10/3 (3, 1/3)   4/3 (3, 1/3)    13/3 (3, 1/3)  4/3 (3, 1/3)
--   C  5 (1, -)        3 (1, -)        5 (1, -)
-- A - B: differences 2/3, 1, 1/6, 0, mean 11/24; wins 3, ties 1, losses 0;
-- p = 0.13969773963372342; sigma_A^2 = 13/24, K_A = 11/4, sigma_B^2 = 1/3,
-- K_B = 3; the noise 0.3125 exceeds var(differences) = 0.2106481481, so
-- between_variance is 0; minimum detectable difference 0.77751032325740631,
-- 12 scenarios needed. A - C, B - C: C has no within variance, so
-- between_variance is NULL; p = 0.039012347759055313 and 0.057190958417936634;
-- Holm over the three: 0.117037..., 0.117037..., 0.139697... .
-- Successes (score >= 3): A: s1 3/3, s2 1/3, s3 2/2, s4 0/3; B: s1 3/3,
-- s2 0/3, s3 3/3, s4 0/3; C: 1/1 in s1..s3.
-- A: k = 1: (1 + 1/3 + 1 + 0)/4 = 7/12 for pass@k and pass^k;
--    k = 2: pass@2 = (1 + (1 - C(2,2)/C(3,2)) + 1 + 0)/4 = 2/3,
--           pass^2 = (1 + 0 + 1 + 0)/4 = 1/2;
--    k = 3: s3 has 2 samples and does not count: pass@3 = (1 + 1 + 0)/3 = 2/3,
--           pass^3 = (1 + 0 + 0)/3 = 1/3 (3 scenarios).
-- B: all or nothing in every scenario: 1/2 for every k (4 scenarios);
-- C: k = 1 only (one sample each), 1 and 1 over 3 scenarios.

-- a and b agree to a relative tolerance (both NULL agree too).
CREATE FUNCTION pg_temp.close(a float8, b float8, tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
                WHEN a = b THEN true
                ELSE abs(a - b) <= tol * greatest(abs(a), abs(b)) END
$$;
-- snake_case column name -> camelCase key
CREATE FUNCTION pg_temp.camel(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(CASE WHEN o = 1 THEN w ELSE initcap(w) END, '' ORDER BY o)
      FROM unnest(string_to_array(name, '_')) WITH ORDINALITY AS x (w, o)
$$;

INSERT INTO multisample.definitions (id, name) VALUES ('aj-def', 'analysis comparison');
INSERT INTO multisample.scenarios (id, definition_id, name)
SELECT 'aj-s' || i, 'aj-def', 'scenario ' || i FROM generate_series(1, 5) i;
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('aj-cmp', 'aj-def', '{"models": ["A", "B", "C"], "samplesPerScenario": 3, "successThreshold": 3}'),
    -- no successThreshold: no passAtK
    ('aj-plain', 'aj-def', '{"models": ["A", "B"], "samplesPerScenario": 2}'),
    -- one model: nothing to compare
    ('aj-alone', 'aj-def', '{"models": ["A"], "samplesPerScenario": 2, "successThreshold": 4}'),
    -- one sample per scenario, one shared scenario
    ('aj-one', 'aj-def', '{"samplesPerScenario": 1}'),
    -- two samples per scenario, one shared scenario
    ('aj-one-spread', 'aj-def', '{"samplesPerScenario": 2}');
-- Scores of each pair, in sample order (NULL: not scored yet, not counted).
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT d.run_id, 'aj-s' || d.s, d.m, x.i - 1, x.score
  FROM (VALUES ('aj-cmp', 1, 'A', '{4,5,3}'::float8[]), ('aj-cmp', 2, 'A', '{2,2,3}'), ('aj-cmp', 3, 'A', '{5,4}'),
               ('aj-cmp', 4, 'A', '{1,2,1}'), ('aj-cmp', 1, 'B', '{3,3,4}'), ('aj-cmp', 2, 'B', '{2,1,1}'),
               ('aj-cmp', 3, 'B', '{4,4,5}'), ('aj-cmp', 4, 'B', '{2,1,1}'), ('aj-cmp', 1, 'C', '{5}'),
               ('aj-cmp', 2, 'C', '{3}'), ('aj-cmp', 3, 'C', '{5}'), ('aj-cmp', 5, 'A', '{NULL}'), ('aj-cmp', 5, 'B', '{NULL}'),
               ('aj-plain', 1, 'A', '{1,2}'), ('aj-plain', 2, 'A', '{4,4}'), ('aj-plain', 3, 'A', '{3,5}'),
               ('aj-plain', 1, 'B', '{2,2}'), ('aj-plain', 2, 'B', '{3,5}'), ('aj-plain', 3, 'B', '{1,2}'),
               ('aj-alone', 1, 'A', '{4,5}'), ('aj-alone', 2, 'A', '{3,4}'),
               ('aj-one', 1, 'A', '{3}'), ('aj-one', 1, 'B', '{4}'), ('aj-one', 2, 'A', '{2}'),
               ('aj-one-spread', 1, 'A', '{3,5}'), ('aj-one-spread', 1, 'B', '{2,4}'),
               ('aj-one-spread', 2, 'A', '{1,2}')) AS d (run_id, s, m, scores),
       unnest(d.scores) WITH ORDINALITY AS x (score, i);
-- not counted: a deleted sample
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, deleted_at)
VALUES ('aj-cmp', 'aj-s2', 'C', 1, 1, now());

CREATE TEMP TABLE docs AS
SELECT r.id AS run_id, multisample.analysis_json(r.id) AS j
  FROM multisample.runs AS r WHERE r.id LIKE 'aj-%';

-------------------------------------------------------------------------------
-- modelComparison of aj-cmp against the hand-worked figures.
-------------------------------------------------------------------------------
-- One entry per pair of models, model_a < model_b, in that order.
SELECT x.ord, x.e ->> 'modelA' AS model_a, x.e ->> 'modelB' AS model_b, x.e -> 'scenarios' AS scenarios,
       x.e -> 'wins' AS wins, x.e -> 'ties' AS ties, x.e -> 'losses' AS losses, x.e -> 'ciLevel' AS ci_level,
       x.e -> 'scenariosNeeded' AS scenarios_needed
  FROM docs, jsonb_array_elements(docs.j -> 'modelComparison') WITH ORDINALITY AS x (e, ord)
 WHERE docs.run_id = 'aj-cmp' ORDER BY x.ord;
-- Every figure: the values sql/comparison.sql derived for the same run
-- (exact fractions and mpmath), written here as the document's entries.
-- Counts and nulls must be equal, every other number within 1e-12
-- relative.
CREATE TEMP TABLE expected AS SELECT '[
  {"modelA": "A", "modelB": "B", "scenarios": 4, "wins": 3, "ties": 1, "losses": 0, "scenariosNeeded": 12,
   "meanA": 3.0416666666666667, "meanB": 2.5833333333333333, "meanDifference": 0.45833333333333333,
   "stdError": 0.22948210613692092, "ciLower": -0.27198114747083447, "ciUpper": 1.1886478141375011, "ciLevel": 0.95,
   "tStatistic": 1.997250857807048, "pValue": 0.13969773963372342, "pValueHolm": 0.13969773963372342,
   "effectSize": 0.99862542890352399, "winRate": 1, "winRateLower": 0.43850296824495457, "winRateUpper": 1,
   "correlation": 0.95240183769915055, "betweenVariance": 0, "withinVarianceA": 0.54166666666666667,
   "withinVarianceB": 0.33333333333333333, "samplesA": 2.75, "samplesB": 3,
   "minimumDetectableDifference": 0.77751032325740631},
  {"modelA": "A", "modelB": "C", "scenarios": 3, "wins": 0, "ties": 0, "losses": 3, "scenariosNeeded": 1,
   "meanA": 3.6111111111111111, "meanB": 4.3333333333333333, "meanDifference": -0.72222222222222222,
   "stdError": 0.14698618394803281, "ciLower": -1.3546527278216821, "ciUpper": -0.089791716622762327, "ciLevel": 0.95,
   "tStatistic": -4.913538149119954, "pValue": 0.039012347759055313, "pValueHolm": 0.11703704327716594,
   "effectSize": -2.836832573067901, "winRate": 0, "winRateLower": 0, "winRateUpper": 0.56149703175504543,
   "correlation": 0.97541726913196657, "betweenVariance": null, "withinVarianceA": 0.61111111111111111,
   "withinVarianceB": null, "samplesA": 2.6666666666666667, "samplesB": 1,
   "minimumDetectableDifference": 0.41179432021564242},
  {"modelA": "B", "modelB": "C", "scenarios": 3, "wins": 0, "ties": 0, "losses": 3, "scenariosNeeded": 2,
   "meanA": 3, "meanB": 4.3333333333333333, "meanDifference": -1.3333333333333333,
   "stdError": 0.33333333333333333, "ciLower": -2.7675509099164873, "ciUpper": 0.1008842432498206, "ciLevel": 0.95,
   "tStatistic": -4, "pValue": 0.057190958417936634, "pValueHolm": 0.11703704327716594,
   "effectSize": -2.3094010767585031, "winRate": 0, "winRateLower": 0, "winRateUpper": 0.56149703175504543,
   "correlation": 0.94491118252306807, "betweenVariance": null, "withinVarianceA": 0.33333333333333333,
   "withinVarianceB": null, "samplesA": 3, "samplesB": 1,
   "minimumDetectableDifference": 0.93386173937098953}]'::jsonb AS e;
-- Per pair: how many keys the document has, how many of them are expected,
-- and how many agree.
SELECT x.ord, x.want ->> 'modelA' AS model_a, x.want ->> 'modelB' AS model_b,
       (SELECT count(*) FROM jsonb_object_keys(x.got)) AS keys,
       count(*) AS expected_keys,
       count(*) FILTER (WHERE CASE WHEN jsonb_typeof(w.val) = 'number'
                                   THEN pg_temp.close((x.got ->> w.key)::float8, (w.val #>> '{}')::float8, 1e-12)
                                   ELSE x.got -> w.key = w.val END) AS agree,
       string_agg(w.key, ', ' ORDER BY w.key) FILTER (
           WHERE NOT coalesce(CASE WHEN jsonb_typeof(w.val) = 'number'
                                   THEN pg_temp.close((x.got ->> w.key)::float8, (w.val #>> '{}')::float8, 1e-12)
                                   ELSE x.got -> w.key = w.val END, false)) AS disagree
  FROM expected,
       LATERAL (SELECT want, ord, (SELECT docs.j -> 'modelComparison' -> (ord::int - 1) FROM docs WHERE docs.run_id = 'aj-cmp') AS got
                  FROM jsonb_array_elements(expected.e) WITH ORDINALITY AS a (want, ord)) AS x,
       jsonb_each(x.want) AS w (key, val)
 GROUP BY x.ord, x.want, x.got ORDER BY x.ord;
-- pValueHolm is holm_adjust of the document's pValues.
SELECT bool_and(pg_temp.close((x.c ->> 'pValueHolm')::float8, h.adjusted[x.ord::int], 1e-15)) AS holm_of_the_p_values
  FROM docs,
       jsonb_array_elements(docs.j -> 'modelComparison') WITH ORDINALITY AS x (c, ord),
       (SELECT multisample.holm_adjust(array_agg((c ->> 'pValue')::float8 ORDER BY ord)) AS adjusted
          FROM docs, jsonb_array_elements(docs.j -> 'modelComparison') WITH ORDINALITY AS y (c, ord)
         WHERE docs.run_id = 'aj-cmp') AS h
 WHERE docs.run_id = 'aj-cmp';

-------------------------------------------------------------------------------
-- modelComparison equals the view model_comparison, row by row: the keys
-- are the view's columns (but run_id) in camelCase, every figure agrees to
-- 1e-12 relative (the document and the view sum the same samples in
-- another order), counts exactly, and no row is missing on either side.
-------------------------------------------------------------------------------
SELECT d.run_id,
       count(*) AS entries,
       bool_and((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(x.c) AS k)
                = (SELECT array_agg(pg_temp.camel(a.attname) ORDER BY pg_temp.camel(a.attname))
                     FROM pg_attribute AS a
                    WHERE a.attrelid = 'multisample.model_comparison'::regclass AND a.attnum > 0
                      AND a.attname <> 'run_id')) AS keys_are_the_columns,
       bool_and(v.model_a IS NOT NULL) AS every_entry_is_a_row
  FROM docs AS d
  CROSS JOIN LATERAL jsonb_array_elements(d.j -> 'modelComparison') AS x (c)
  LEFT JOIN multisample.model_comparison AS v
    ON v.run_id = d.run_id AND v.model_a = x.c ->> 'modelA' AND v.model_b = x.c ->> 'modelB'
 GROUP BY d.run_id ORDER BY d.run_id;
SELECT v.run_id, count(*) AS view_rows,
       count(*) FILTER (WHERE x.c IS NOT NULL) AS in_document,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT FROM jsonb_each(to_jsonb(v) - 'run_id' - 'model_a' - 'model_b') AS f (col, val)
            WHERE NOT coalesce(CASE WHEN jsonb_typeof(f.val) = 'number'
                            THEN pg_temp.close((x.c ->> pg_temp.camel(f.col))::float8, (f.val #>> '{}')::float8, 1e-12)
                                 AND (f.col NOT IN ('scenarios', 'wins', 'ties', 'losses', 'scenarios_needed')
                                      OR x.c -> pg_temp.camel(f.col) = f.val)
                            ELSE x.c -> pg_temp.camel(f.col) = f.val END, false))) AS rows_equal
  FROM multisample.model_comparison AS v
  LEFT JOIN (SELECT d.run_id, c FROM docs AS d, jsonb_array_elements(d.j -> 'modelComparison') AS c) AS x
    ON x.run_id = v.run_id AND x.c ->> 'modelA' = v.model_a AND x.c ->> 'modelB' = v.model_b
 WHERE v.run_id LIKE 'aj-%'
 GROUP BY v.run_id ORDER BY v.run_id;
-- One model: an empty array.
SELECT run_id, j -> 'modelComparison' AS model_comparison
  FROM docs WHERE run_id IN ('aj-alone') ORDER BY run_id;
-- One shared scenario with one sample each: means, difference and wins;
-- everything the spread would define is null (as in the view).
SELECT jsonb_pretty(j -> 'modelComparison' -> 0) FROM docs WHERE run_id = 'aj-one';
-- One shared scenario with two samples each: the within variances exist
-- (var {3,5} = var {2,4} = 2; mean difference 4 - 3 = 1), but one scenario
-- gives no variance of the differences, so betweenVariance, the detectable
-- difference and the scenarios needed are null: max(0, NULL - noise) must
-- not turn the missing figure into 0. The document and the view alike.
SELECT x.e -> 'scenarios' AS scenarios, x.e -> 'meanDifference' AS mean_difference,
       x.e -> 'withinVarianceA' AS within_a, x.e -> 'withinVarianceB' AS within_b,
       x.e -> 'betweenVariance' AS between_variance,
       x.e -> 'minimumDetectableDifference' AS detectable, x.e -> 'scenariosNeeded' AS needed
  FROM (SELECT j -> 'modelComparison' -> 0 AS e FROM docs WHERE run_id = 'aj-one-spread') AS x;
SELECT scenarios, mean_difference, within_variance_a, within_variance_b, between_variance,
       minimum_detectable_difference, scenarios_needed
  FROM multisample.model_comparison WHERE run_id = 'aj-one-spread';

-------------------------------------------------------------------------------
-- passAtK: the hand-worked fractions, and the view model_pass_at_k.
-------------------------------------------------------------------------------
SELECT j -> 'successThreshold' AS success_threshold,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(j -> 'passAtK') AS k) AS models
  FROM docs WHERE run_id = 'aj-cmp';
SELECT m.model_id, (e ->> 'k')::int AS k, e -> 'scenarios' AS scenarios,
       round((e ->> 'passAtK')::numeric, 14) AS pass_at_k, round((e ->> 'passHatK')::numeric, 14) AS pass_hat_k
  FROM docs, jsonb_each(docs.j -> 'passAtK') AS m (model_id, curve), jsonb_array_elements(m.curve) AS e
 WHERE docs.run_id = 'aj-cmp' ORDER BY 1, 2;
-- The entries come in k order.
SELECT bool_and((e ->> 'k')::int = ord) AS in_k_order
  FROM docs, jsonb_each(docs.j -> 'passAtK') AS m (model_id, curve),
       jsonb_array_elements(m.curve) WITH ORDINALITY AS x (e, ord)
 WHERE docs.run_id LIKE 'aj-%';
-- Equal to the view, entry for row (aj-alone: successThreshold 4, A
-- succeeds in 2 of 2 samples of s1 and 1 of 2 of s2: pass@1 = pass^1 =
-- (1 + 1/2)/2 = 3/4; pass@2 = (1 + 1)/2 = 1, pass^2 = (1 + 0)/2 = 1/2).
SELECT p.run_id, count(*) AS view_rows, count(x.e) AS in_document,
       count(*) FILTER (WHERE (x.e -> 'scenarios')::bigint = p.scenarios
                          AND pg_temp.close((x.e ->> 'passAtK')::float8, p.pass_at_k, 1e-14)
                          AND pg_temp.close((x.e ->> 'passHatK')::float8, p.pass_hat_k, 1e-14)) AS equal,
       (SELECT count(*) FROM docs AS d, jsonb_each(d.j -> 'passAtK') AS m (model_id, curve), jsonb_array_elements(m.curve)
         WHERE d.run_id = p.run_id) AS document_entries
  FROM multisample.model_pass_at_k AS p
  LEFT JOIN (SELECT d.run_id, m.model_id, e FROM docs AS d, jsonb_each(d.j -> 'passAtK') AS m (model_id, curve),
                    jsonb_array_elements(m.curve) AS e) AS x
    ON x.run_id = p.run_id AND x.model_id = p.model_id AND (x.e ->> 'k')::int = p.k
 WHERE p.run_id LIKE 'aj-%'
 GROUP BY p.run_id ORDER BY p.run_id;
SELECT m.model_id, jsonb_pretty(m.curve) FROM docs, jsonb_each(docs.j -> 'passAtK') AS m (model_id, curve)
 WHERE docs.run_id = 'aj-alone';
-- Without a usable successThreshold (absent, a string, beyond 1e300) there
-- is no passAtK and no successThreshold, and the view has no rows either.
UPDATE multisample.runs SET config = config || '{"successThreshold": "3"}' WHERE id = 'aj-one';
INSERT INTO multisample.runs (id, definition_id, config)
SELECT 'aj-huge', 'aj-def', config || '{"successThreshold": 1e400}' FROM multisample.runs WHERE id = 'aj-plain';
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'aj-huge', scenario_id, model_id, sample_index, score FROM multisample.transcripts WHERE run_id = 'aj-plain';
SELECT r.run_id, j ? 'passAtK' AS has_pass_at_k, j ? 'successThreshold' AS has_threshold,
       jsonb_array_length(j -> 'modelComparison') AS comparisons,
       (SELECT count(*) FROM multisample.model_pass_at_k AS p WHERE p.run_id = r.run_id) AS view_rows
  FROM (VALUES ('aj-plain'), ('aj-one'), ('aj-huge')) AS r (run_id),
       LATERAL multisample.analysis_json(r.run_id) AS j
 ORDER BY 1;

-------------------------------------------------------------------------------
-- methodsUsed names each method with its reference; the reference format
-- is unchanged (none of the new blocks).
-------------------------------------------------------------------------------
SELECT key, value ~ ref AS names_its_reference
  FROM docs, jsonb_each_text(docs.j -> 'methodsUsed') AS m (key, value)
  JOIN (VALUES ('modelComparison', 'Miller 2024'), ('multipleComparisons', 'Holm 1979'),
               ('winRate', 'Wilson 1927'), ('effectSize', 'Cohen 1988'), ('power', 'Miller 2024, section 5'),
               ('passAtK', 'Chen et al\. 2021'), ('passHatK', 'Yao et al\. 2024')) AS r (method, ref)
    ON r.method = m.key
 WHERE docs.run_id = 'aj-cmp' ORDER BY key;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(multisample.analysis_json('aj-cmp', 'reference')) AS k) AS reference_keys;
