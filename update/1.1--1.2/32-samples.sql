-------------------------------------------------------------------------------
-- Samples and dialogues (1.2): first_divergence refuses a NULL pair with
-- 22023 (1.1 answered P0002, "no live transcript"), and the views that hide
-- deleted transcripts are security barriers (transcript_export, redefined in
-- 60-exports.sql, declares it there), so that a function a reader
-- writes into the WHERE clause never sees the rows they hide.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.first_divergence(
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
    IF first_divergence.run_id IS NULL OR first_divergence.scenario_id IS NULL OR first_divergence.model_id IS NULL THEN
        RAISE EXCEPTION 'run_id, scenario_id and model_id must not be NULL'
            USING ERRCODE = '22023', HINT = 'Name the scenario-model pair of a run whose samples to compare.';
    END IF;
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

ALTER VIEW @extschema@.transcript_samples SET (security_barrier = true);
ALTER VIEW @extschema@.transcript_turns SET (security_barrier = true);
