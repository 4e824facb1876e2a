
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
-- absent means its default; a scale whose bounds are not numbers or whose max
-- is not above its min is unusable (NULL bounds).
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
                  WHEN pg_catalog.jsonb_typeof(s.scale -> 'min') = 'number' THEN (s.scale -> 'min')::float8
              END AS smin,
              CASE
                  WHEN s.scale IS NULL OR pg_catalog.jsonb_typeof(s.scale) = 'null' THEN 5::float8
                  WHEN pg_catalog.jsonb_typeof(s.scale) <> 'object' THEN NULL
                  WHEN s.scale -> 'max' IS NULL THEN 5::float8
                  WHEN pg_catalog.jsonb_typeof(s.scale -> 'max') = 'number' THEN (s.scale -> 'max')::float8
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
