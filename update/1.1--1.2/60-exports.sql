-------------------------------------------------------------------------------
-- Exports and the reference platform's consumers (SPEC 12.5): the cost
-- estimate with the reference field names, the CSV export with its
-- spreadsheet guard and the reference layout, the JSON export.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------
-- Cost estimate.
-------------------------------------------------------------------------------

-- A display name per model, reported by the estimate as the reference
-- platform's displayName (NULL: the model id).
DO $$
BEGIN
    IF NOT @extschema@.applies_table_changes() THEN RETURN; END IF;
    EXECUTE 'ALTER TABLE @extschema@.model_pricing ADD COLUMN display_name text'
            ' CONSTRAINT model_pricing_display_name_check CHECK (display_name OPERATOR(pg_catalog.<>) '''')';
    EXECUTE 'COMMENT ON COLUMN @extschema@.model_pricing.display_name IS'
            ' ''Name shown for the model (the cost estimate''''s displayName); NULL shows the model id.''';
END
$$;

-- 1.1 took the probes per model; the estimate now needs the scenarios and
-- the samples apart (scenarioCount is a reference field). A 1.1 call with
-- three arguments still resolves, as one sample per scenario.
DROP FUNCTION @extschema@.estimate_run_cost(text, text[], bigint);

CREATE FUNCTION @extschema@.estimate_run_cost(
    definition_id text,
    models text[],
    scenario_count bigint,
    samples_per_scenario integer DEFAULT 1)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    result jsonb;
BEGIN
    IF estimate_run_cost.definition_id IS NULL THEN
        RAISE EXCEPTION 'definition_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF estimate_run_cost.models IS NULL OR cardinality(estimate_run_cost.models) = 0
       OR array_position(estimate_run_cost.models, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'models must list at least one model id, without NULLs'
            USING ERRCODE = '22023', HINT = 'Pass e.g. ARRAY[''model-a'', ''model-b''].';
    END IF;
    IF estimate_run_cost.scenario_count IS NULL OR estimate_run_cost.scenario_count < 0 THEN
        RAISE EXCEPTION 'scenario_count must be 0 or more, got %', coalesce(estimate_run_cost.scenario_count::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF estimate_run_cost.samples_per_scenario IS NULL
       OR estimate_run_cost.samples_per_scenario < 1 OR estimate_run_cost.samples_per_scenario > 100 THEN
        RAISE EXCEPTION 'samples_per_scenario must be between 1 and 100, got %',
                        coalesce(estimate_run_cost.samples_per_scenario::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;

    WITH m AS (
        SELECT u.model_id, u.ord
          FROM unnest(estimate_run_cost.models) WITH ORDINALITY AS u (model_id, ord)
    ), all_models AS (
        -- The all-model average: global rows that rest on probes only.
        SELECT avg(g.avg_input_tokens) AS input_tokens, avg(g.avg_output_tokens) AS output_tokens,
               count(*) AS n
          FROM @extschema@.model_token_statistics AS g
         WHERE g.definition_id = '' AND g.probe_count > 0
    ), per_model AS (
        -- Tokens per probe, first match wins; a row with probe_count 0 is
        -- skipped at every step (it measured nothing).
        SELECT m.model_id, m.ord,
               coalesce(p.display_name, m.model_id) AS display_name,
               CASE WHEN d.model_id IS NOT NULL THEN 'definition'
                    WHEN g.model_id IS NOT NULL THEN 'model'
                    WHEN a.n > 0 THEN 'all-models'
                    ELSE 'default' END AS token_source,
               coalesce(d.probe_count, g.probe_count, 0) AS sample_count,
               trim_scale(coalesce(d.avg_input_tokens, g.avg_input_tokens, a.input_tokens, 100)) AS input_tokens,
               trim_scale(coalesce(d.avg_output_tokens, g.avg_output_tokens, a.output_tokens, 900)) AS output_tokens,
               p.input_price_per_million, p.output_price_per_million
          FROM m
          CROSS JOIN all_models AS a
          LEFT JOIN @extschema@.model_token_statistics AS d
                 ON d.model_id = m.model_id AND d.definition_id = estimate_run_cost.definition_id
                AND d.definition_id <> '' AND d.probe_count > 0
          LEFT JOIN @extschema@.model_token_statistics AS g
                 ON g.model_id = m.model_id AND g.definition_id = '' AND g.probe_count > 0
          LEFT JOIN @extschema@.model_pricing AS p ON p.model_id = m.model_id
    ), costed AS (
        SELECT pm.*, c.probes,
               trim_scale(c.probes * pm.input_tokens * pm.input_price_per_million * 0.000001) AS input_cost,
               trim_scale(c.probes * pm.output_tokens * pm.output_price_per_million * 0.000001) AS output_cost,
               trim_scale(c.probes * (pm.input_tokens * pm.input_price_per_million
                                      + pm.output_tokens * pm.output_price_per_million) * 0.000001) AS total_cost
          FROM per_model AS pm
         CROSS JOIN (SELECT estimate_run_cost.scenario_count * estimate_run_cost.samples_per_scenario AS probes) AS c
    )
    SELECT jsonb_build_object(
               'total', trim_scale(sum(c.total_cost)),
               'scenarioCount', estimate_run_cost.scenario_count,
               'samplesPerScenario', estimate_run_cost.samples_per_scenario,
               'probesPerModel', min(c.probes),
               'basedOnSampleCount', min(c.sample_count),
               'isUsingFallback', bool_or(c.token_source IN ('all-models', 'default')),
               'fallbackReason', CASE
                   WHEN bool_or(c.token_source = 'default') THEN
                       'No token statistics with probes for some models and none for any model: 100 input and 900 output tokens per probe assumed.'
                   WHEN bool_or(c.token_source = 'all-models') THEN
                       'No token statistics with probes for some models: the average over the models that have them is used.'
                   END,
               'unpricedModels', coalesce(jsonb_agg(c.model_id ORDER BY c.ord)
                                              FILTER (WHERE c.input_price_per_million IS NULL), '[]'::jsonb),
               'perModel', jsonb_agg(jsonb_build_object(
                   'modelId', c.model_id,
                   'displayName', c.display_name,
                   'scenarioCount', estimate_run_cost.scenario_count,
                   'samplesPerScenario', estimate_run_cost.samples_per_scenario,
                   'probes', c.probes,
                   'tokenSource', c.token_source,
                   'sampleCount', c.sample_count,
                   'isUsingFallback', c.token_source IN ('all-models', 'default'),
                   'avgInputPerProbe', c.input_tokens,
                   'avgOutputPerProbe', c.output_tokens,
                   'inputTokensPerProbe', c.input_tokens,
                   'outputTokensPerProbe', c.output_tokens,
                   'inputTokens', c.probes * c.input_tokens,
                   'outputTokens', c.probes * c.output_tokens,
                   'inputPricePerMillion', c.input_price_per_million,
                   'outputPricePerMillion', c.output_price_per_million,
                   'priced', c.input_price_per_million IS NOT NULL,
                   'inputCost', c.input_cost,
                   'outputCost', c.output_cost,
                   'totalCost', c.total_cost,
                   'cost', c.total_cost) ORDER BY c.ord))
      INTO result
      FROM costed AS c;
    RETURN result;
END
$function$;
COMMENT ON FUNCTION @extschema@.estimate_run_cost(text, text[], bigint, integer) IS
    'Cost estimate (jsonb, with the reference platform''s field names) of scenario_count scenarios x samples_per_scenario samples per model: tokens per probe from model_token_statistics (definition row, else the model''s global row, else the average of the global rows, else 100 in / 900 out; rows with probe_count 0 skipped at every step), prices from model_pricing; unpriced models are listed, not dropped.';

-------------------------------------------------------------------------------
-- Export: the view, the CSV and the JSON of a run's transcripts.
-------------------------------------------------------------------------------

-- model_name: the reference platform's short model name (provider prefix and
-- -YYYYMMDD suffix removed: "anthropic:claude-3-5-haiku-20241022" ->
-- "claude-3-5-haiku"), unless two model ids of the run would share a short
-- name ("openai:gpt-4o", "azure:gpt-4o"): then every model of that run is
-- named by its model id, so distinct models never merge in an export.
-- The names are computed per run from its distinct model ids (a grouped
-- subquery joined on run_id: a filter on run_id reaches it). A security
-- barrier, as every view over the transcripts (32-samples.sql): CREATE OR
-- REPLACE VIEW replaces the view's options with the ones it names.
CREATE OR REPLACE VIEW @extschema@.transcript_export WITH (security_barrier = true) AS
SELECT t.run_id, t.id AS transcript_id, t.model_id,
       names.model_name,
       t.model_version, t.scenario_id, s.name AS scenario_name, t.sample_index,
       s.content -> 'dimensions' AS dimensions,
       t.decision_code, t.decision_text, t.score,
       resp.target_response,
       t.input_tokens, t.output_tokens, t.cost, t.created_at
  FROM @extschema@.transcripts AS t
  JOIN (SELECT w.run_id, w.model_id,
               CASE WHEN pg_catalog.max(w.sharing) OVER (PARTITION BY w.run_id) OPERATOR(pg_catalog.>) 1 THEN w.model_id
                    ELSE w.short_name END AS model_name
          FROM (SELECT g.run_id, g.model_id, g.short_name,
                       pg_catalog.count(*) OVER (PARTITION BY g.run_id, g.short_name) AS sharing
                  FROM (SELECT m.run_id, m.model_id,
                               pg_catalog.regexp_replace(
                                   CASE WHEN pg_catalog.strpos(m.model_id, ':') OPERATOR(pg_catalog.>) 0
                                        THEN pg_catalog.split_part(m.model_id, ':', 2)
                                        ELSE m.model_id END,
                                   '-[0-9]{8}$', '') AS short_name
                          FROM @extschema@.transcripts AS m
                         WHERE m.deleted_at IS NULL
                         GROUP BY m.run_id, m.model_id) AS g) AS w) AS names
    ON names.run_id OPERATOR(pg_catalog.=) t.run_id AND names.model_id OPERATOR(pg_catalog.=) t.model_id
  LEFT JOIN @extschema@.scenarios AS s ON s.id OPERATOR(pg_catalog.=) t.scenario_id
 CROSS JOIN LATERAL (
       -- The target's answers in turn order, separated as the reference
       -- platform does: each turn's targetResponse, or for {role, content}
       -- turns the content of the assistant's turns. Same turn reading as
       -- the view transcript_turns.
       SELECT pg_catalog.string_agg(x.answer, E'\n\n---\n\n' ORDER BY x.ord) AS target_response
         FROM (SELECT coalesce(turn.value OPERATOR(pg_catalog.->>) 'targetResponse',
                               CASE WHEN turn.value OPERATOR(pg_catalog.->>) 'role' IN ('assistant', 'target')
                                    THEN turn.value OPERATOR(pg_catalog.->>) 'content' END) AS answer,
                      turn.ord
                 FROM pg_catalog.jsonb_array_elements(
                      CASE
                          WHEN pg_catalog.jsonb_typeof(t.content OPERATOR(pg_catalog.->) 'turns') = 'array'
                              THEN t.content OPERATOR(pg_catalog.->) 'turns'
                          WHEN pg_catalog.jsonb_typeof(t.content) = 'array' THEN t.content
                          WHEN t.content OPERATOR(pg_catalog.=) '{}'::jsonb
                            OR pg_catalog.jsonb_typeof(t.content) = 'null' THEN '[]'::jsonb
                          -- [content] (jsonb || is IMMUTABLE, jsonb_build_array
                          -- STABLE: Citus runs a set-returning function on the
                          -- shards of a query across runs only if its
                          -- arguments are immutable)
                          ELSE '[]'::pg_catalog.jsonb OPERATOR(pg_catalog.||) t.content
                      END) WITH ORDINALITY AS turn (value, ord)
                WHERE pg_catalog.jsonb_typeof(turn.value) = 'object') AS x
        WHERE x.answer OPERATOR(pg_catalog.<>) ''
       ) AS resp
 WHERE t.deleted_at IS NULL;
COMMENT ON VIEW @extschema@.transcript_export IS
    'One row per live transcript with its sample_index, scenario dimensions, target response and a model name that never merges two model ids of a run, for \copy (SELECT ... WHERE run_id = ...) TO ... CSV HEADER.';

CREATE FUNCTION @extschema@.js_number_text(value numeric)
RETURNS text
AS 'MODULE_PATHNAME', 'ms_js_number_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.js_number_text(numeric) IS
    'The number as JavaScript prints it (String(Number(x))): nearest double, shortest digits that read back, ECMAScript layout (1.0 -> 1, 1.5e-7 -> 1.5e-7, 1e21 -> 1e+21; beyond the double range Infinity, below it 0).';

DROP FUNCTION @extschema@.export_run_csv(text);

-- The CSV is returned as one text row per record (header first, no line
-- end): psql -XAt writes each followed by LF, which is the reference
-- platform's file. The statement reading the transcripts is built here so
-- that each dimension is a column; data (dimension names, the run id) only
-- enters it as quote_literal literals or bound parameters.
CREATE FUNCTION @extschema@.export_run_csv(
    run_id text,
    protect_formulas boolean DEFAULT true,
    reference_layout boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    scenario_ids text[];
    scenario_dims jsonb[];
    dims text[];
    scenario_cells text[];
    header text;
    -- RFC 4180: a field holding a comma, a double quote, CR or LF is quoted,
    -- with its double quotes doubled; NULL is the empty field.
    quote_expr constant text :=
        'CASE WHEN %1$s IS NULL THEN '''' '
        'WHEN %1$s OPERATOR(pg_catalog.~) ''[,"\r\n]'' '
        'THEN ''"'' OPERATOR(pg_catalog.||) pg_catalog.replace(%1$s, ''"'', ''""'') OPERATOR(pg_catalog.||) ''"'' '
        'ELSE %1$s END';
    -- The spreadsheet guard (OWASP, CSV injection): a text a spreadsheet
    -- would read as a formula (first character =, +, -, @, TAB or CR) gets a
    -- leading apostrophe, which makes it a plain text cell.
    guard_expr constant text :=
        'CASE WHEN %1$s OPERATOR(pg_catalog.~) ''^[-=+@\t\r]'' '
        'THEN '''''''' OPERATOR(pg_catalog.||) %1$s ELSE %1$s END';
    guard text;
    separator constant text := ' OPERATOR(pg_catalog.||) '','' OPERATOR(pg_catalog.||) ';
BEGIN
    IF export_run_csv.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF export_run_csv.protect_formulas IS NULL OR export_run_csv.reference_layout IS NULL THEN
        RAISE EXCEPTION 'protect_formulas and reference_layout must not be NULL'
            USING ERRCODE = '22023', HINT = 'Pass true or false.';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.runs AS r WHERE r.id = export_run_csv.run_id) THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(export_run_csv.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    guard := CASE WHEN export_run_csv.protect_formulas THEN guard_expr ELSE '%1$s' END;

    -- The run's scenarios and their dimension objects.
    SELECT array_agg(s.id),
           array_agg(CASE WHEN jsonb_typeof(s.content -> 'dimensions') = 'object'
                          THEN s.content -> 'dimensions' ELSE '{}'::jsonb END)
      INTO scenario_ids, scenario_dims
      FROM @extschema@.scenarios AS s
     WHERE s.id IN (SELECT t.scenario_id FROM @extschema@.transcripts AS t
                     WHERE t.run_id = export_run_csv.run_id AND t.deleted_at IS NULL);

    -- One column per numeric dimension, sorted by name: in byte order (code
    -- points), or for the reference layout as JavaScript sorts strings, by
    -- UTF-16 code units (a character beyond U+FFFF is a surrogate pair
    -- D800-DBFF DC00-DFFF, so it sorts before U+E000-U+FFFF): the sort key
    -- spells the UTF-16 units as fixed-width hex.
    SELECT coalesce(array_agg(n.name ORDER BY
                              CASE WHEN export_run_csv.reference_layout AND n.name <> '' THEN
                                  (SELECT string_agg(CASE WHEN ascii(c.ch) < 65536 THEN lpad(to_hex(ascii(c.ch)), 4, '0')
                                                          ELSE to_hex(55296 + ((ascii(c.ch) - 65536) >> 10))
                                                               || to_hex(56320 + ((ascii(c.ch) - 65536) & 1023)) END,
                                                     '' ORDER BY c.ord)
                                     FROM regexp_split_to_table(n.name, '') WITH ORDINALITY AS c (ch, ord))
                              WHEN export_run_csv.reference_layout THEN ''   -- the empty name: no units, first
                              END COLLATE "C",
                              n.name COLLATE "C"), '{}')
      INTO dims
      FROM (SELECT DISTINCT d.key AS name
              FROM unnest(scenario_dims) AS sd (dimensions)
             CROSS JOIN LATERAL jsonb_each(sd.dimensions) AS d
             WHERE jsonb_typeof(d.value) = 'number') AS n;

    -- Each scenario's dimension fields, once per scenario: the number as
    -- stored (jsonb text), or as JavaScript prints it for the reference
    -- layout; empty where the scenario lacks the dimension or it is not a
    -- number. Numbers need no quoting, and are not text a spreadsheet could
    -- run: the guard leaves them alone (a negative dimension stays a number).
    SELECT array_agg((SELECT string_agg(
                                 CASE WHEN jsonb_typeof(sd.dimensions -> x.name) IS DISTINCT FROM 'number' THEN ''
                                      WHEN export_run_csv.reference_layout
                                          THEN @extschema@.js_number_text((sd.dimensions -> x.name)::numeric)
                                      ELSE sd.dimensions ->> x.name END,
                                 ',' ORDER BY x.ord)
                        FROM unnest(dims) WITH ORDINALITY AS x (name, ord))
                     ORDER BY sd.ord)
      INTO scenario_cells
      FROM unnest(scenario_dims) WITH ORDINALITY AS sd (dimensions, ord);

    -- Header: the fixed columns and the dimension names (text: guarded and
    -- quoted like any text); the reference layout starts with the UTF-8 byte
    -- order mark.
    SELECT string_agg(format(quote_expr, format(guard, quote_literal(h.name))), separator ORDER BY h.ord)
      INTO header
      FROM unnest(ARRAY['AI Model Name', 'Sample Index'] || dims
                  || ARRAY['Decision Code', 'Decision Text', 'Transcript ID', 'Target Response'])
           WITH ORDINALITY AS h (name, ord);
    IF export_run_csv.reference_layout THEN
        header := quote_literal(chr(65279)) || ' OPERATOR(pg_catalog.||) ' || header;
    END IF;
    RETURN QUERY EXECUTE 'SELECT ' || header;

    -- Data rows, ordered by model id, scenario id, sample index; missing
    -- decisions read as the reference platform writes them. The inner query
    -- guards each text once (OFFSET 0 keeps the planner from merging it into
    -- the outer one, which would repeat each expression in the quoting).
    RETURN QUERY EXECUTE format(
        'SELECT %s FROM (SELECT %s AS model_name, e.sample_index::text AS sample_index, %s AS dims,'
        ' %s AS decision_code, %s AS decision_text, %s AS transcript_id, %s AS target_response,'
        ' e.model_id AS k_model, e.scenario_id AS k_scenario, e.sample_index AS k_sample'
        ' FROM @extschema@.transcript_export AS e'
        ' LEFT JOIN ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[])) AS d (scenario_id, cells)'
        ' ON d.scenario_id OPERATOR(pg_catalog.=) e.scenario_id'
        ' WHERE e.run_id OPERATOR(pg_catalog.=) $1 OFFSET 0) AS c'
        ' ORDER BY c.k_model COLLATE "C", c.k_scenario COLLATE "C", c.k_sample',
        concat_ws(separator,
                  format(quote_expr, 'c.model_name'),
                  'c.sample_index',
                  CASE WHEN cardinality(dims) > 0 THEN 'c.dims' END,
                  format(quote_expr, 'c.decision_code'),
                  format(quote_expr, 'c.decision_text'),
                  format(quote_expr, 'c.transcript_id'),
                  format(quote_expr, 'c.target_response')),
        format(guard, 'e.model_name'),
        -- a transcript whose scenario row is gone: empty dimension fields
        format('coalesce(d.cells, %L)', repeat(',', greatest(cardinality(dims) - 1, 0))),
        format(guard, 'coalesce(e.decision_code, ''pending'')'),
        format(guard, 'coalesce(e.decision_text, ''Summary not yet generated'')'),
        format(guard, 'e.transcript_id'),
        format(guard, 'coalesce(e.target_response, '''')'))
        USING export_run_csv.run_id, coalesce(scenario_ids, '{}'), coalesce(scenario_cells, '{}');
END
$function$;
COMMENT ON FUNCTION @extschema@.export_run_csv(text, boolean, boolean) IS
    'The run''s live transcripts as CSV, one record per row (header first, no line end; psql -XAt ends each with LF), RFC 4180 quoting; protect_formulas prefixes '' to text cells starting with =, +, -, @, TAB or CR; reference_layout writes the reference platform''s exact file (byte order mark, JavaScript column order and numbers).';

CREATE FUNCTION @extschema@.export_run_json(run_id text)
RETURNS SETOF json
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    IF export_run_json.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.runs AS r WHERE r.id = export_run_json.run_id) THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(export_run_json.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    -- One JSON object per live transcript, on one line (json text output
    -- escapes every line break), ordered as export_run_csv.
    RETURN QUERY
    SELECT json_build_object(
               'id', e.transcript_id, 'runId', e.run_id,
               'scenarioId', e.scenario_id, 'scenarioName', e.scenario_name,
               'modelId', e.model_id, 'modelName', e.model_name, 'modelVersion', e.model_version,
               'sampleIndex', e.sample_index, 'dimensions', e.dimensions,
               'decisionCode', e.decision_code, 'decisionText', e.decision_text, 'score', e.score,
               'targetResponse', e.target_response,
               'inputTokens', e.input_tokens, 'outputTokens', e.output_tokens, 'cost', e.cost,
               'createdAt', e.created_at, 'content', t.content)
      FROM @extschema@.transcript_export AS e
      JOIN @extschema@.transcripts AS t ON t.run_id = e.run_id AND t.id = e.transcript_id
     WHERE e.run_id = export_run_json.run_id
     ORDER BY e.model_id COLLATE "C", e.scenario_id COLLATE "C", e.sample_index;
END
$function$;
COMMENT ON FUNCTION @extschema@.export_run_json(text) IS
    'The run''s live transcripts as JSON, one object per row (JSON Lines through psql -XAt), ordered by model id, scenario id, sample index: the transcript_export columns in camelCase and the dialogue (content).';
