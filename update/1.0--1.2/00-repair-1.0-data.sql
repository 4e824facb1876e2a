-- multisample 1.0 -> 1.2, first part: what the released 1.0 -> 1.1 script
-- (which follows unchanged) cannot take.
--
-- Names resolve in pg_catalog only from here to the end of the script: an
-- object planted in the extension's schema is never picked by an unqualified
-- name, in this part or in the views and functions the parts after it create.
SET LOCAL search_path = pg_catalog, pg_temp;

-- 1.0 let a probe result name any transcript. One naming a transcript of
-- another run stops the 1.1 script's foreign key (run_id, transcript_id)
-- with a bare 23503; one naming another scenario-model pair of its run would
-- take that pair's sample index. Such a link is no outcome of the result's
-- own probe: it is removed, and each is named in a WARNING.
DO $unlink_foreign_transcripts$
DECLARE
    n bigint;
    names text;
BEGIN
    WITH unlinked AS (
        UPDATE @extschema@.probe_results AS r
           SET transcript_id = NULL
          FROM @extschema@.transcripts AS t
         WHERE t.id = r.transcript_id
           AND (t.run_id, t.scenario_id, t.model_id) IS DISTINCT FROM (r.run_id, r.scenario_id, r.model_id)
        RETURNING r.run_id, r.scenario_id, r.model_id, t.id AS transcript_id,
                  t.run_id AS transcript_run, t.scenario_id AS transcript_scenario, t.model_id AS transcript_model)
    SELECT count(*),
           string_agg(format('(%L, %L, %L) named %L of (%L, %L, %L)', run_id, scenario_id, model_id, transcript_id,
                             transcript_run, transcript_scenario, transcript_model),
                      '; ' ORDER BY run_id, scenario_id, model_id)
      INTO n, names
      FROM unlinked;
    IF n > 0 THEN
        RAISE WARNING 'multisample 1.2: % probe result(s) named a transcript of another run or scenario-model pair; the link was removed: %', n, names
            USING HINT = 'A probe result names the transcript of its own run, scenario and model; the transcripts themselves are kept.';
    END IF;
END
$unlink_foreign_transcripts$;
