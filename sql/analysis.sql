-- Analysis views and analysis_json on small runs whose every figure was
-- computed independently: exact fractions and mpmath in
-- test/analysis_reference.py (run it to see each number); the simple ones
-- are also worked by hand in the comments. Figures are shown rounded to 10
-- decimals.

CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.r(x float8) RETURNS numeric LANGUAGE sql AS $$ SELECT round(x::numeric, 10) $$;

INSERT INTO multisample.definitions (id, name) VALUES ('an-def', 'Analysis definition');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    ('an-s1', 'an-def', 'first'), ('an-s2', 'an-def', 'second'), ('an-s3', 'an-def', 'third'), ('an-s4', 'an-def', 'fourth');
INSERT INTO multisample.scenarios (id, definition_id, name)
SELECT 'w' || lpad(i::text, 2, '0'), 'an-def', 'wide ' || i FROM generate_series(1, 12) AS i;
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('an-multi',  'an-def', '{"models": ["m-a", "m-b"], "samplesPerScenario": 3, "scoreScale": {"min": 1, "max": 5}}'),
    ('an-single', 'an-def', '{"models": ["m-a", "m-b"]}'),
    ('an-wide',   'an-def', '{"models": ["m"], "samplesPerScenario": 2}'),
    ('an-seven',  'an-def', '{"models": ["m"], "samplesPerScenario": 2}'),
    ('an-odd',    'an-def', '{"models": ["m"], "samplesPerScenario": 1, "scoreScale": {"min": 1, "max": 5}}'),
    ('an-bad',    'an-def', '{"samplesPerScenario": "three", "scoreScale": {"min": 5, "max": 1}}');
INSERT INTO multisample.run_scenario_selections VALUES
    ('an-multi', 'an-s1'), ('an-multi', 'an-s2'), ('an-multi', 'an-s3'), ('an-multi', 'an-s4'),
    ('an-single', 'an-s1'), ('an-single', 'an-s2'), ('an-single', 'an-s3');

-- an-multi: 2 models x 3 scenarios x 3 samples. m-b/an-s3 is short: its
-- third sample is not scored yet (NULL) and a deleted attempt (score 1) does
-- not count. an-s4 was selected but has no transcripts at all.
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'an-multi', d.s, d.m, x.i - 1, x.sc
  FROM (VALUES ('an-s1', 'm-a', ARRAY[1, 2, 3]), ('an-s2', 'm-a', ARRAY[4, 4, 4]), ('an-s3', 'm-a', ARRAY[2, 4, 5]),
               ('an-s1', 'm-b', ARRAY[5, 5, 3]), ('an-s2', 'm-b', ARRAY[1, 3, 5]), ('an-s3', 'm-b', ARRAY[2, 3, NULL]))
       AS d (s, m, scores),
       unnest(d.scores) WITH ORDINALITY AS x (sc, i);
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, deleted_at)
VALUES ('an-multi', 'an-s3', 'm-b', 2, 1, '2024-01-01');
-- an-single: one sample per pair, no samplesPerScenario in the config.
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'an-single', s, m, 0, sc
  FROM (VALUES ('an-s1', 'm-a', 2), ('an-s2', 'm-a', 3), ('an-s3', 'm-a', 5),
               ('an-s1', 'm-b', 4), ('an-s2', 'm-b', 4), ('an-s3', 'm-b', 1)) AS d (s, m, sc);
-- an-wide: 12 scenarios with samples 1 and 1 + d (variance d^2 / 2), two of
-- them tied; an-seven: the first 7 of them.
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT r.run_id, d.s, 'm', x.i, CASE x.i WHEN 0 THEN 1 ELSE 1 + d.d END
  FROM (VALUES ('w01', 0), ('w02', 0.5), ('w03', 1), ('w04', 1.5), ('w05', 2), ('w06', 2.5), ('w07', 3),
               ('w08', 3.5), ('w09', 4), ('w10', 4), ('w11', 0.25), ('w12', 1.75)) AS d (s, d)
 CROSS JOIN generate_series(0, 1) AS x (i)
 CROSS JOIN (VALUES ('an-wide'), ('an-seven')) AS r (run_id)
 WHERE r.run_id = 'an-wide' OR d.s <= 'w07';
-- an-odd: one sample requested, but the pair has two, one of them off the 1..5 scale.
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score) VALUES
    ('an-odd', 'an-s1', 'm', 0, 0), ('an-odd', 'an-s1', 'm', 1, 7);

-- What the analysis reads from the config: absent samplesPerScenario is 1,
-- absent scoreScale is 1..5, unusable values are NULL.
SELECT * FROM multisample.run_analysis_settings WHERE run_id LIKE 'an-%' ORDER BY run_id;
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('cfg-1', 'an-def', '{"samplesPerScenario": null, "scoreScale": null}'),     -- 1, 1..5
    ('cfg-2', 'an-def', '{"samplesPerScenario": 2.5, "scoreScale": {"max": 10}}'), -- NULL, 1..10
    ('cfg-3', 'an-def', '{"samplesPerScenario": 0, "scoreScale": {"min": 0}}'),     -- NULL, 0..5
    ('cfg-4', 'an-def', '{"samplesPerScenario": "3", "scoreScale": "1-5"}'),        -- NULL, NULL
    ('cfg-5', 'an-def', '{"samplesPerScenario": 7.0, "scoreScale": {"min": 1e200, "max": 1e201}}'), -- 7, NULL
    ('cfg-6', 'an-def', '{"samplesPerScenario": 1e30, "scoreScale": {"min": 3, "max": 3}}'),        -- NULL, NULL
    ('cfg-7', 'an-def', '{"samplesPerScenario": 100, "scoreScale": {"min": -1, "max": 1}}');        -- 100, -1..1
SELECT * FROM multisample.run_analysis_settings WHERE run_id LIKE 'cfg-%' ORDER BY run_id;

-------------------------------------------------------------------------------
-- scenario_variance. By hand: m-a/an-s1 {1,2,3} mean 2, variance 1;
-- m-a/an-s2 {4,4,4} variance 0; m-a/an-s3 {2,4,5} mean 11/3, variance 7/3;
-- m-b/an-s1 {5,5,3} mean 13/3, variance 4/3; m-b/an-s2 {1,3,5} mean 3,
-- variance 4; m-b/an-s3 {2,3} mean 5/2, variance 1/2.
-- Ranks by variance: 4 (1), 7/3 (2), 4/3 (3), 1 (4), 1/2 (5), 0 (6).
-------------------------------------------------------------------------------
SELECT scenario_id, model_id, sample_count, pg_temp.r(mean) AS mean, pg_temp.r(std_dev) AS std_dev,
       pg_temp.r(variance) AS variance, min, max, range, variance_rank
  FROM multisample.scenario_variance WHERE run_id = 'an-multi' ORDER BY variance_rank, scenario_id;
-- One sample per pair: no variance, no rank.
SELECT scenario_id, model_id, sample_count, mean, std_dev, variance, range, variance_rank
  FROM multisample.scenario_variance WHERE run_id = 'an-single' ORDER BY scenario_id, model_id;

-- scenario_variance_overall: an-s1 (1 + 4/3)/2 = 7/6, an-s2 (0 + 4)/2 = 2,
-- an-s3 (7/3 + 1/2)/2 = 17/12; ranks an-s2, an-s3, an-s1.
SELECT scenario_id, scenario_name, model_count, sample_count, pg_temp.r(mean_variance) AS mean_variance,
       pg_temp.r(max_variance) AS max_variance, variance_rank
  FROM multisample.scenario_variance_overall WHERE run_id = 'an-multi' ORDER BY variance_rank;
SELECT per_model FROM multisample.scenario_variance_overall WHERE run_id = 'an-multi' AND scenario_id = 'an-s2';
SELECT scenario_id, mean_variance, variance_rank, per_model -> 'm-a' ->> 'variance' AS m_a_variance
  FROM multisample.scenario_variance_overall WHERE run_id = 'an-single' ORDER BY scenario_id;

-------------------------------------------------------------------------------
-- model_variance (test/analysis_reference.py):
--   m-a: 9 samples, mean 29/9 = 3.2222222222, variance 61/36 = 1.6944444444,
--        std_dev 1.3017082793; min 1, max 5;
--        scenario means 2, 4, 11/3 (mean 29/9), t(0.975, 2) = 4.3026527297,
--        CI [0.5604270517, 5.8840173927];
--        within: mean variance (1 + 0 + 7/3)/3 = 10/9, max 7/3, sqrt 1.0540925534;
--        population variances 2/3, 0, 14/9, mean 20/27;
--        consistency 1 - (20/27)/((5 - 1)^2/4) = 22/27 = 0.8148148148.
--   m-b: 8 samples, mean 27/8 = 3.375, variance 127/56 = 2.2678571429,
--        std_dev 1.5059406173; min 1, max 5;
--        scenario means 13/3, 3, 5/2 (mean 59/18 = 3.2777777778, not the
--        pooled 27/8: the scenarios are the units), CI [0.9235436163, 5.6320119392];
--        within: mean (4/3 + 4 + 1/2)/3 = 35/18, max 4, sqrt 1.3944333776;
--        population variances 8/9, 8/3, 1/4, mean 137/108;
--        consistency 1 - 137/432 = 295/432 = 0.6828703704.
-------------------------------------------------------------------------------
SELECT model_id, scored_samples, scenario_count, samples_per_scenario,
       pg_temp.r(mean) AS mean, pg_temp.r(variance) AS variance, pg_temp.r(std_dev) AS std_dev, min, max
  FROM multisample.model_variance WHERE run_id = 'an-multi' ORDER BY model_id;
SELECT model_id, pg_temp.r(scenario_mean) AS scenario_mean, pg_temp.r(ci_lower) AS ci_lower,
       pg_temp.r(ci_upper) AS ci_upper, ci_level, pg_temp.r(ci_margin) AS ci_margin
  FROM multisample.model_variance WHERE run_id = 'an-multi' ORDER BY model_id;
SELECT model_id, pairs_with_variance, pg_temp.r(avg_within_scenario_variance) AS mean_within,
       pg_temp.r(max_within_scenario_variance) AS max_within, pg_temp.r(within_scenario_std_dev) AS within_sd,
       pg_temp.r(consistency_score) AS consistency
  FROM multisample.model_variance WHERE run_id = 'an-multi' ORDER BY model_id;
-- Sorting by consistency or mean is a plain ORDER BY.
SELECT model_id FROM multisample.model_variance WHERE run_id = 'an-multi' ORDER BY consistency_score DESC;

-- The merged overall figures equal variance_stats over the raw samples.
SELECT m.model_id,
       abs(m.mean - (s.st).mean) <= 1e-12 * abs((s.st).mean) AS same_mean,
       abs(m.variance - (s.st).variance) <= 1e-12 * (s.st).variance AS same_variance,
       m.scored_samples = (s.st).sample_count AS same_count
  FROM multisample.model_variance AS m
  JOIN (SELECT run_id, model_id, multisample.variance_stats(score) AS st
          FROM multisample.transcripts WHERE deleted_at IS NULL GROUP BY run_id, model_id) AS s USING (run_id, model_id)
 WHERE m.run_id IN ('an-multi', 'an-single', 'an-wide') ORDER BY m.run_id, m.model_id;

-- an-single (one sample per scenario): every within-scenario field is NULL;
-- the CI still uses the scenario scores: m-a {2,3,5} mean 10/3,
-- CI [-0.4612497003, 7.1279163669]; m-b {4,4,1} mean 3, variance 3,
-- CI 3 -+ t(0.975, 2) * 1 = [-1.3026527297, 7.3026527297].
SELECT model_id, scored_samples, scenario_count, samples_per_scenario, pg_temp.r(mean) AS mean,
       pg_temp.r(variance) AS variance, pg_temp.r(ci_lower) AS ci_lower, pg_temp.r(ci_upper) AS ci_upper,
       pairs_with_variance, avg_within_scenario_variance, max_within_scenario_variance,
       within_scenario_std_dev, consistency_score
  FROM multisample.model_variance WHERE run_id = 'an-single' ORDER BY model_id;

-------------------------------------------------------------------------------
-- analysis_json
-------------------------------------------------------------------------------
-- Top level of an-multi: multi-sample, 3 requested, 17 scored samples
-- (9 + 8), keys in camelCase.
SELECT key, CASE WHEN jsonb_typeof(value) IN ('object', 'array') THEN jsonb_typeof(value) ELSE value::text END AS value
  FROM jsonb_each(multisample.analysis_json('an-multi'))
 WHERE key <> 'computedAt' ORDER BY key;
SELECT jsonb_typeof(multisample.analysis_json('an-multi') -> 'computedAt') AS computed_at;

-- perModel: the same figures as model_variance, with the variance block.
SELECT model_id, pg_temp.r((v ->> 'mean')::float8) AS mean, pg_temp.r((v ->> 'stdDev')::float8) AS std_dev,
       pg_temp.r((v ->> 'variance')::float8) AS variance, v ->> 'min' AS min, v ->> 'max' AS max,
       v ->> 'sampleCount' AS n, v ->> 'scenarioCount' AS scenarios
  FROM jsonb_each(multisample.analysis_json('an-multi') -> 'perModel') AS e (model_id, v) ORDER BY model_id;
SELECT model_id, pg_temp.r((v #>> '{confidenceInterval,lower}')::float8) AS lower,
       pg_temp.r((v #>> '{confidenceInterval,upper}')::float8) AS upper, v #>> '{confidenceInterval,level}' AS level,
       pg_temp.r((v #>> '{confidenceInterval,mean}')::float8) AS ci_mean, v #>> '{confidenceInterval,units}' AS units
  FROM jsonb_each(multisample.analysis_json('an-multi') -> 'perModel') AS e (model_id, v) ORDER BY model_id;
SELECT model_id, pg_temp.r((v #>> '{withinScenario,meanVariance}')::float8) AS mean_variance,
       pg_temp.r((v #>> '{withinScenario,maxVariance}')::float8) AS max_variance,
       pg_temp.r((v #>> '{withinScenario,stdDev}')::float8) AS std_dev,
       pg_temp.r((v #>> '{withinScenario,meanPopulationVariance}')::float8) AS mean_population_variance,
       v #>> '{withinScenario,pairsWithVariance}' AS pairs,
       pg_temp.r((v ->> 'consistencyScore')::float8) AS consistency
  FROM jsonb_each(multisample.analysis_json('an-multi') -> 'perModel') AS e (model_id, v) ORDER BY model_id;
-- Every per-model figure agrees with the view (to 1e-12 relative).
SELECT m.model_id,
       bool_and(abs(x.a - x.b) <= 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300)) AS agrees, count(*) AS figures
  FROM multisample.model_variance AS m,
       LATERAL (SELECT multisample.analysis_json(m.run_id) -> 'perModel' -> m.model_id AS j) AS j,
       LATERAL (VALUES (m.mean, (j.j ->> 'mean')::float8), (m.std_dev, (j.j ->> 'stdDev')::float8),
                       (m.variance, (j.j ->> 'variance')::float8), (m.min, (j.j ->> 'min')::float8),
                       (m.max, (j.j ->> 'max')::float8), (m.scored_samples, (j.j ->> 'sampleCount')::float8),
                       (m.ci_lower, (j.j #>> '{confidenceInterval,lower}')::float8),
                       (m.ci_upper, (j.j #>> '{confidenceInterval,upper}')::float8),
                       (m.avg_within_scenario_variance, (j.j #>> '{withinScenario,meanVariance}')::float8),
                       (m.max_within_scenario_variance, (j.j #>> '{withinScenario,maxVariance}')::float8),
                       (m.consistency_score, (j.j ->> 'consistencyScore')::float8)) AS x (a, b)
 WHERE m.run_id = 'an-multi'
 GROUP BY m.model_id ORDER BY m.model_id;

-- scenarioVariance: all scenarios, most variable first.
SELECT x.ord, x.s ->> 'scenarioId' AS scenario, x.s ->> 'scenarioName' AS name,
       pg_temp.r((x.s ->> 'meanVariance')::float8) AS mean_variance, x.s ->> 'rank' AS rank,
       x.s #>> '{perModel,m-b,sampleCount}' AS m_b_samples
  FROM jsonb_array_elements(multisample.analysis_json('an-multi') -> 'scenarioVariance') WITH ORDINALITY AS x (s, ord);
-- 3 scenarios: most variable min(5, ceil(3/2)) = 2, least min(5, floor(3/2)) = 1.
SELECT 'most' AS list, x.ord, x.s ->> 'scenarioId' AS scenario, x.s ->> 'rank' AS rank
  FROM jsonb_array_elements(multisample.analysis_json('an-multi') -> 'mostVariableScenarios') WITH ORDINALITY AS x (s, ord)
UNION ALL
SELECT 'least', x.ord, x.s ->> 'scenarioId', x.s ->> 'rank'
  FROM jsonb_array_elements(multisample.analysis_json('an-multi') -> 'leastVariableScenarios') WITH ORDINALITY AS x (s, ord);
-- 12 scenarios: 5 and 5 (w05 and w12 in the middle in neither); the tie
-- w09 = w10 (variance 8) shares rank 1 and is ordered by id.
-- 7 scenarios: 4 and 3.
SELECT r.run_id,
       (SELECT string_agg(s ->> 'scenarioId' || '#' || (s ->> 'rank'), ' ')
          FROM jsonb_array_elements(multisample.analysis_json(r.run_id) -> 'mostVariableScenarios') AS s) AS most,
       (SELECT string_agg(s ->> 'scenarioId' || '#' || (s ->> 'rank'), ' ')
          FROM jsonb_array_elements(multisample.analysis_json(r.run_id) -> 'leastVariableScenarios') AS s) AS least
  FROM (VALUES ('an-wide'), ('an-seven'), ('an-multi'), ('an-single')) AS r (run_id);
-- Never overlapping, for every run of this test.
SELECT r.id AS run_id,
       (SELECT count(*) FROM jsonb_array_elements(j -> 'mostVariableScenarios') AS a
          JOIN jsonb_array_elements(j -> 'leastVariableScenarios') AS b ON a ->> 'scenarioId' = b ->> 'scenarioId') AS overlap
  FROM multisample.runs AS r, LATERAL (SELECT multisample.analysis_json(r.id) AS j) AS x
 WHERE r.id LIKE 'an-%' ORDER BY r.id;

-- Warnings of an-multi: three pairs short of the 3 requested: m-a/an-s4 and
-- m-b/an-s4 (selected, nothing yet), m-b/an-s3 (2 scored).
SELECT jsonb_pretty(multisample.analysis_json('an-multi') -> 'warnings');

-- an-single: one sample per scenario, so no withinScenario block and no
-- consistencyScore; no variance anywhere, empty most/least lists; no warnings.
SELECT j -> 'isMultiSample' AS multi, j -> 'samplesPerScenario' AS requested,
       j -> 'perModel' -> 'm-a' ? 'withinScenario' AS has_within, j -> 'perModel' -> 'm-a' ? 'consistencyScore' AS has_consistency,
       pg_temp.r((j #>> '{perModel,m-b,confidenceInterval,lower}')::float8) AS m_b_lower,
       j -> 'mostVariableScenarios' AS most, j -> 'leastVariableScenarios' AS least, j -> 'warnings' AS warnings,
       (SELECT count(*) FROM jsonb_array_elements(j -> 'scenarioVariance') AS s WHERE s -> 'meanVariance' = 'null') AS scenarios_without_variance
  FROM multisample.analysis_json('an-single') AS j;

-- an-odd: one requested, two present (a multi-sample pair all the same),
-- scores 0 and 7 outside 1..5: consistency 1 - 12.25/4 = -2.0625 and a warning.
SELECT j -> 'isMultiSample' AS multi, j #>> '{perModel,m,consistencyScore}' AS consistency,
       jsonb_pretty(j -> 'warnings') AS warnings
  FROM multisample.analysis_json('an-odd') AS j;
-- an-bad: unusable config values and nothing scored.
SELECT j -> 'isMultiSample' AS multi, j -> 'samplesPerScenario' AS requested, j -> 'scoreScale' AS scale,
       j -> 'perModel' AS per_model, j -> 'sampleCount' AS samples, jsonb_pretty(j -> 'warnings') AS warnings
  FROM multisample.analysis_json('an-bad') AS j;

-- Bad input.
SELECT pg_temp.sqlstate_of($$SELECT multisample.analysis_json('no-such-run')$$);
SELECT pg_temp.sqlstate_of($$SELECT multisample.analysis_json(NULL)$$);

-- A hostile search_path changes nothing: functions pin theirs, views were
-- resolved when created. The shadows below would break any unqualified name.
CREATE SCHEMA evil;
CREATE FUNCTION evil.sqrt(float8) RETURNS float8 LANGUAGE sql AS 'SELECT -1::float8';
CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE FUNCTION evil.avg(float8) RETURNS float8 LANGUAGE sql AS 'SELECT -1::float8';
CREATE TEMP TABLE safe_json AS SELECT multisample.analysis_json('an-multi') - 'computedAt' AS j;
CREATE TEMP TABLE safe_view AS SELECT * FROM multisample.model_variance WHERE run_id = 'an-multi';
SET search_path = evil, pg_catalog, public;
-- (this query itself spells out the operators it must not take from evil)
SELECT (multisample.analysis_json('an-multi') - 'computedAt') OPERATOR(pg_catalog.=) (SELECT j FROM safe_json) AS same_json,
       (SELECT count(*) FROM multisample.model_variance WHERE run_id OPERATOR(pg_catalog.=) 'an-multi') AS model_rows,
       NOT EXISTS (SELECT * FROM multisample.model_variance WHERE run_id OPERATOR(pg_catalog.=) 'an-multi'
                   EXCEPT SELECT * FROM safe_view) AS same_view,
       (SELECT count(*) FROM multisample.export_run_csv('an-multi')) AS csv_records;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
RESET client_min_messages;
