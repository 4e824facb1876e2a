
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
