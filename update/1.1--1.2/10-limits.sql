-------------------------------------------------------------------------------
-- Limits on what may be stored (SPEC 12.1): scores, costs, prices and token
-- counts are finite and in range, so that no view and no analysis_json can
-- overflow, and no estimate is infinite.
--
-- Scores: |score| <= 1e15. Every statistic the analysis derives is then far
-- inside float8 for any number of samples: a count is at most 2^53
-- (the aggregates refuse more), so a sum of squared deviations is at most
-- 2^53 * (2e15)^2 < 4e46, and a variance, a squared difference of means or a
-- power-analysis term is at most (2e15)^2 = 4e30. 1e15 also keeps every whole
-- score exact (below 2^53). A run's score scale obeys the same bound.
--
-- Costs and prices: numeric in [0, 1e15] (numeric has Infinity from
-- PostgreSQL 14 on, and NaN; both are outside the range). Token counts and
-- durations are >= 0.
--
-- Rows that 1.1 allowed and that break these rules are repaired here, each
-- repair reported in a WARNING: an out-of-range score or cost becomes NULL
-- (not judged / not known), a negative token count or duration NULL, and a
-- price or token-statistics row that is not finite is removed (the model
-- then reads as unpriced or falls back, as the estimate reports).
-------------------------------------------------------------------------------

DO $limits$
DECLARE
    n bigint;
    names text;
BEGIN
    IF NOT @extschema@.applies_table_changes() THEN
        RETURN;
    END IF;

    UPDATE @extschema@.transcripts
       SET score = NULL
     WHERE NOT (score >= '-1e15'::pg_catalog.float8
                AND score <= '1e15'::pg_catalog.float8);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % transcript(s) had a score outside [-1e15, 1e15]; it was set to NULL (not judged)', n
            USING HINT = 'From 1.2 on, |score| <= 1e15: no statistic of any run can then overflow.';
    END IF;

    UPDATE @extschema@.transcripts
       SET cost = NULL
     WHERE NOT (cost >= 0 AND cost <= 1e15);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % transcript(s) had a cost that is negative, not finite or above 1e15; it was set to NULL (unknown)', n;
    END IF;

    UPDATE @extschema@.transcripts
       SET input_tokens = CASE WHEN input_tokens < 0 THEN NULL ELSE input_tokens END,
           output_tokens = CASE WHEN output_tokens < 0 THEN NULL ELSE output_tokens END
     WHERE input_tokens < 0 OR output_tokens < 0;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % transcript(s) had a negative token count; it was set to NULL (unknown)', n;
    END IF;

    UPDATE @extschema@.probe_results
       SET input_tokens = CASE WHEN input_tokens < 0 THEN NULL ELSE input_tokens END,
           output_tokens = CASE WHEN output_tokens < 0 THEN NULL ELSE output_tokens END,
           duration_ms = CASE WHEN duration_ms < 0 THEN NULL ELSE duration_ms END,
           retry_count = greatest(retry_count, 0)
     WHERE input_tokens < 0 OR output_tokens < 0
        OR duration_ms < 0 OR retry_count < 0;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % probe result(s) had a negative token count, duration or retry count; it was set to NULL (0 for the retry count)', n;
    END IF;

    WITH removed AS (
        DELETE FROM @extschema@.model_pricing
         WHERE NOT (input_price_per_million <= 1e15
                    AND output_price_per_million <= 1e15)
        RETURNING model_id)
    SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.quote_literal(model_id), ', ' ORDER BY model_id)
      INTO n, names FROM removed;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: removed the price of % model(s) whose price per million tokens was not finite or above 1e15: %', n, names
            USING HINT = 'Insert a finite price again; until then estimates list these models as unpriced.';
    END IF;

    WITH removed AS (
        DELETE FROM @extschema@.model_token_statistics
         WHERE NOT (avg_input_tokens <= 1e15 AND avg_output_tokens <= 1e15)
        RETURNING model_id, definition_id)
    SELECT pg_catalog.count(*),
           pg_catalog.string_agg(pg_catalog.format('%L (definition %L)', model_id, definition_id), ', '
                                 ORDER BY model_id, definition_id)
      INTO n, names FROM removed;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: removed % token-statistics row(s) whose averages were not finite or above 1e15: %', n, names;
    END IF;

    -- One constraint per ALTER TABLE: Citus refuses several ADD CONSTRAINT
    -- subcommands in one statement on a distributed table.
    EXECUTE 'ALTER TABLE @extschema@.transcripts DROP CONSTRAINT transcripts_score_finite';
    EXECUTE $ddl$
        ALTER TABLE @extschema@.transcripts
            ADD CONSTRAINT transcripts_score_range CHECK (
                score >= '-1e15'::pg_catalog.float8
                AND score <= '1e15'::pg_catalog.float8)
    $ddl$;
    EXECUTE $ddl$
        ALTER TABLE @extschema@.transcripts
            ADD CONSTRAINT transcripts_cost_range CHECK (
                cost >= 0 AND cost <= 1e15)
    $ddl$;
    EXECUTE $ddl$
        ALTER TABLE @extschema@.transcripts
            ADD CONSTRAINT transcripts_tokens_check CHECK (
                input_tokens >= 0 AND output_tokens >= 0)
    $ddl$;
    EXECUTE $ddl$
        ALTER TABLE @extschema@.probe_results
            ADD CONSTRAINT probe_results_counts_check CHECK (
                input_tokens >= 0 AND output_tokens >= 0
                AND duration_ms >= 0 AND retry_count >= 0)
    $ddl$;
    EXECUTE $ddl$
        ALTER TABLE @extschema@.model_pricing
            ADD CONSTRAINT model_pricing_prices_range CHECK (
                input_price_per_million <= 1e15
                AND output_price_per_million <= 1e15)
    $ddl$;
    EXECUTE $ddl$
        ALTER TABLE @extschema@.model_token_statistics
            ADD CONSTRAINT model_token_statistics_values_range CHECK (
                avg_input_tokens <= 1e15 AND avg_output_tokens <= 1e15)
    $ddl$;
END
$limits$;

COMMENT ON COLUMN @extschema@.transcripts.score IS 'Judged score on the run''s score scale; NULL until judged; |score| <= 1e15 (so no statistic can overflow).';
COMMENT ON COLUMN @extschema@.transcripts.cost IS 'Cost of the probe, in [0, 1e15]; NULL when unknown.';
