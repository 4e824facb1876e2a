-- analysis_json's scenarioVariance, built in C by the aggregate
-- scenario_variance_document: the same jsonb, byte for byte, as the text
-- route (json_build_object over the views, cast to jsonb) under any
-- extra_float_digits; the aggregate on its own with hostile input.
CREATE EXTENSION IF NOT EXISTS multisample;

INSERT INTO multisample.definitions (id, name) VALUES ('doc-def', 'analysis document');
INSERT INTO multisample.scenarios (id, definition_id, name)
VALUES ('doc-s1', 'doc-def', 'first'), ('doc-s2', 'doc-def', 'sécond "quoted"'), ('doc-s3', 'doc-def', 'third');
INSERT INTO multisample.runs (id, definition_id, config)
VALUES ('doc-run', 'doc-def', '{"samplesPerScenario": 3}');
-- Model ids whose jsonb key order (shorter first, then bytewise) differs
-- from their text order; scores whose statistics need 17 digits; a pair with
-- one sample (no variance).
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'doc-run', d.s, d.m, x.i - 1, x.score
  FROM (VALUES ('doc-s1', 'zz', '{0.1,0.2,0.7}'::float8[]), ('doc-s1', 'a-long-model', '{1,2,4}'),
               ('doc-s1', 'mödel', '{3.3333333333333335,1e-7,2}'), ('doc-s1', 'b', '{5}'),
               ('doc-s2', 'zz', '{1,1,1}'), ('doc-s2', 'a-long-model', '{2,3,5}'), ('doc-s2', 'b', '{4.25,1.5}'),
               ('doc-s3', 'zz', '{2,3}'), ('doc-s3', 'b', '{1e15,-1e15,0.30000000000000004}')) AS d (s, m, scores),
       unnest(d.scores) WITH ORDINALITY AS x (score, i);

-- The text route: the objects as json_build_object writes them, cast to jsonb.
CREATE FUNCTION pg_temp.text_route(run text) RETURNS TABLE (scenario_id text, entry text)
LANGUAGE sql STABLE AS $$
    SELECT o.scenario_id,
           json_build_object('scenarioId', o.scenario_id, 'scenarioName', o.scenario_name,
                             'meanVariance', o.mean_variance, 'rank', o.variance_rank,
                             'perModel', (SELECT json_object_agg(v.model_id, json_build_object(
                                                 'sampleCount', v.sample_count, 'mean', v.mean,
                                                 'stdDev', v.std_dev, 'variance', v.variance,
                                                 'min', v.min, 'max', v.max))
                                            FROM multisample.scenario_variance AS v
                                           WHERE v.run_id = o.run_id AND v.scenario_id = o.scenario_id))::jsonb::text
      FROM multisample.scenario_variance_overall AS o
     WHERE o.run_id = run
$$;
CREATE FUNCTION pg_temp.compare(run text) RETURNS TABLE (entries bigint, same_bytes bigint, in_rank_order boolean)
LANGUAGE sql STABLE AS $$
    SELECT count(*), count(*) FILTER (WHERE x.e::text = t.entry),
           array_agg(x.e ->> 'scenarioId' ORDER BY x.ord)
             = (SELECT array_agg(o.scenario_id ORDER BY o.variance_rank NULLS LAST, o.scenario_id COLLATE "C")
                  FROM multisample.scenario_variance_overall AS o WHERE o.run_id = run)
      FROM jsonb_array_elements(multisample.analysis_json(run) -> 'scenarioVariance') WITH ORDINALITY AS x (e, ord)
      LEFT JOIN pg_temp.text_route(run) AS t ON t.scenario_id = x.e ->> 'scenarioId'
$$;

SET extra_float_digits = 1;
SELECT * FROM pg_temp.compare('doc-run');
SET extra_float_digits = 0;
SELECT * FROM pg_temp.compare('doc-run');
SET extra_float_digits = -5;
SELECT * FROM pg_temp.compare('doc-run');
SET extra_float_digits = 3;
SELECT * FROM pg_temp.compare('doc-run');
RESET extra_float_digits;
-- One entry in full: keys in jsonb order, 17-digit figures, NULLs.
SELECT e FROM jsonb_array_elements(multisample.analysis_json('doc-run') -> 'scenarioVariance') AS e
 WHERE e ->> 'scenarioId' = 'doc-s1';
-- A run without scored samples: an empty array, the rest of the document as before.
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('doc-empty', 'doc-def', '{"samplesPerScenario": 2}');
SELECT multisample.analysis_json('doc-empty') -> 'scenarioVariance' AS scenario_variance,
       multisample.analysis_json('doc-empty') -> 'sampleCount' AS sample_count;

-------------------------------------------------------------------------------
-- The aggregate on its own.
-------------------------------------------------------------------------------
CREATE TEMP TABLE rows_in (ord int, scenario text, name text, mean_variance float8, rank bigint,
                           model text, n bigint, mean float8, sd float8, var float8, lo float8, hi float8);
INSERT INTO rows_in VALUES
    (1, 's1', 'one', 0.5, 1, 'm', 2, 1.5, 0.7071067811865476, 0.5, 1, 2),
    (2, 's1', 'ignored: the first row names the entry', 9, 9, 'aa', 1, 3, NULL, NULL, 3, 3),
    (3, 's1', NULL, NULL, NULL, 'm', 3, 2, 1, 1, 1, 3),           -- m again: the last one wins
    (4, 's2', NULL, NULL, NULL, 'm', 2, 'NaN', 'Infinity', '-Infinity', 'NaN', 'Infinity');
-- The document keeps its own keys (nested values intact) and scenarioVariance
-- replaces one it had.
SELECT jsonb_pretty(multisample.scenario_variance_document(
           '{"z": [1, {"b": true, "a": null}, "x"], "scenarioVariance": "old", "k": {"n": 1.50}}',
           scenario, name, mean_variance, rank, model, n, mean, sd, var, lo, hi))
  FROM (SELECT * FROM rows_in ORDER BY ord) AS r;
-- Non-finite figures are strings, as json_build_object writes them.
SELECT (SELECT multisample.scenario_variance_document('{}', scenario, name, mean_variance, rank, model, n, mean, sd, var, lo, hi)
          FROM rows_in WHERE ord = 4) -> 'scenarioVariance' -> 0 -> 'perModel' -> 'm'
       = json_build_object('sampleCount', 2, 'mean', 'NaN'::float8, 'stdDev', 'Infinity'::float8,
                           'variance', '-Infinity'::float8, 'min', 'NaN'::float8, 'max', 'Infinity'::float8)::jsonb
       AS as_json_build_object;
-- No rows: NULL (analysis_json then adds an empty array itself).
SELECT multisample.scenario_variance_document('{}', scenario, name, mean_variance, rank, model, n, mean, sd, var, lo, hi) IS NULL
       AS no_rows_null
  FROM rows_in WHERE false;
-- As a window aggregate the final function runs after every row: each
-- result equals the aggregate over the rows so far.
SELECT w.ord,
       w.doc = (SELECT multisample.scenario_variance_document('{}', r.scenario, r.name, r.mean_variance, r.rank,
                                                              r.model, r.n, r.mean, r.sd, r.var, r.lo, r.hi)
                  FROM (SELECT * FROM rows_in AS i WHERE i.ord <= w.ord ORDER BY i.ord) AS r) AS same_as_prefix
  FROM (SELECT ord, multisample.scenario_variance_document('{}', scenario, name, mean_variance, rank, model, n,
                                                          mean, sd, var, lo, hi) OVER (ORDER BY ord) AS doc
          FROM rows_in) AS w
 ORDER BY w.ord;
-- Bad input.
\set VERBOSITY sqlstate
SELECT multisample.scenario_variance_document(NULL, 's', NULL, NULL, NULL, 'm', 1, 1, NULL, NULL, 1, 1);
SELECT multisample.scenario_variance_document('[1]', 's', NULL, NULL, NULL, 'm', 1, 1, NULL, NULL, 1, 1);
SELECT multisample.scenario_variance_document('"text"', 's', NULL, NULL, NULL, 'm', 1, 1, NULL, NULL, 1, 1);
SELECT multisample.scenario_variance_document('{}', NULL, NULL, NULL, NULL, 'm', 1, 1, NULL, NULL, 1, 1);
SELECT multisample.scenario_variance_document('{}', 's', NULL, NULL, NULL, NULL, 1, 1, NULL, NULL, 1, 1);
\set VERBOSITY default
SELECT multisample.scenario_variance_document('{}', 's', NULL, NULL, NULL, NULL, 1, 1, NULL, NULL, 1, 1);
