
-------------------------------------------------------------------------------
-- Schema migration: sample_index, keys that include run_id, finite scores.
-------------------------------------------------------------------------------

-- Scores must be finite from 1.1 on. A non-finite legacy score carries no
-- usable judgement: it becomes NULL ("not judged"), and the count is reported.
-- Reports are WARNINGs: PostgreSQL hides NOTICEs raised by extension scripts.
DO $migrate_scores$
DECLARE
    cleared bigint;
BEGIN
    UPDATE @extschema@.transcripts
       SET score = NULL
     WHERE score OPERATOR(pg_catalog.=) 'NaN'::pg_catalog.float8
        OR score OPERATOR(pg_catalog.=) 'Infinity'::pg_catalog.float8
        OR score OPERATOR(pg_catalog.=) '-Infinity'::pg_catalog.float8;
    GET DIAGNOSTICS cleared = ROW_COUNT;
    IF cleared OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'multisample 1.1: % transcript(s) had a non-finite score; it was set to NULL (not judged)', cleared
            USING HINT = 'From 1.1 on, scores must be finite; a CHECK constraint enforces it.';
    END IF;
END
$migrate_scores$;

ALTER TABLE @extschema@.transcripts
    ADD COLUMN sample_index integer NOT NULL DEFAULT 0
        CONSTRAINT transcripts_sample_index_check CHECK (sample_index OPERATOR(pg_catalog.>=) 0),
    ADD CONSTRAINT transcripts_score_finite CHECK (
        score IS NULL OR (
            score OPERATOR(pg_catalog.<>) 'NaN'::pg_catalog.float8
            AND score OPERATOR(pg_catalog.<>) 'Infinity'::pg_catalog.float8
            AND score OPERATOR(pg_catalog.<>) '-Infinity'::pg_catalog.float8));

ALTER TABLE @extschema@.probe_results
    ADD COLUMN sample_index integer NOT NULL DEFAULT 0
        CONSTRAINT probe_results_sample_index_check CHECK (sample_index OPERATOR(pg_catalog.>=) 0);

-- Retried jobs of 1.0 often left several live transcripts for one
-- scenario-model pair of a run. They become samples 0, 1, 2 ... in the order
-- they were written, instead of being deleted or failing the upgrade.
DO $renumber$
DECLARE
    renumbered_pairs bigint;
BEGIN
    WITH numbered AS (
        SELECT t.run_id, t.id,
               (pg_catalog.row_number() OVER (PARTITION BY t.run_id, t.scenario_id, t.model_id
                                              ORDER BY t.created_at, t.id))::integer
                   OPERATOR(pg_catalog.-) 1 AS new_index
          FROM @extschema@.transcripts AS t
         WHERE t.deleted_at IS NULL
    ), moved AS (
        UPDATE @extschema@.transcripts AS t
           SET sample_index = n.new_index
          FROM numbered AS n
         WHERE t.id OPERATOR(pg_catalog.=) n.id
           AND n.new_index OPERATOR(pg_catalog.>) 0
        RETURNING t.run_id, t.scenario_id, t.model_id
    )
    SELECT pg_catalog.count(*) INTO renumbered_pairs
      FROM (SELECT DISTINCT run_id, scenario_id, model_id FROM moved) AS pairs;
    IF renumbered_pairs OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'multisample 1.1: % scenario-model pair(s) had several live transcripts; they were kept and numbered as samples 0, 1, 2 ... by created_at, id', renumbered_pairs;
    END IF;
END
$renumber$;

-- A 1.0 probe result takes the sample index of the live transcript it names.
UPDATE @extschema@.probe_results AS r
   SET sample_index = t.sample_index
  FROM @extschema@.transcripts AS t
 WHERE t.id OPERATOR(pg_catalog.=) r.transcript_id
   AND t.deleted_at IS NULL
   AND t.sample_index OPERATOR(pg_catalog.<>) 0;

-- Every key of a run-scoped table includes run_id (Citus distribution column).
ALTER TABLE @extschema@.probe_results DROP CONSTRAINT probe_results_transcript_id_fkey;
ALTER TABLE @extschema@.transcripts DROP CONSTRAINT transcripts_pkey;
ALTER TABLE @extschema@.transcripts ADD CONSTRAINT transcripts_pkey PRIMARY KEY (run_id, id);
ALTER TABLE @extschema@.probe_results
    ADD CONSTRAINT probe_results_transcript_fkey
        FOREIGN KEY (run_id, transcript_id) REFERENCES @extschema@.transcripts (run_id, id);

ALTER TABLE @extschema@.probe_results DROP CONSTRAINT probe_results_pkey;
ALTER TABLE @extschema@.probe_results
    ADD CONSTRAINT probe_results_pkey PRIMARY KEY (run_id, scenario_id, model_id, sample_index);

-- At most one live transcript per sample.
CREATE UNIQUE INDEX transcripts_live_sample_key
    ON @extschema@.transcripts (run_id, scenario_id, model_id, sample_index)
    WHERE deleted_at IS NULL;
-- The live-sample index serves every (run, scenario, model) lookup.
DROP INDEX @extschema@.transcripts_run_pair_idx;

COMMENT ON COLUMN @extschema@.transcripts.sample_index IS 'Which of the N samples of its scenario-model pair this answer is (0-based).';
COMMENT ON COLUMN @extschema@.transcripts.score IS 'Judged score on the run''s score scale; NULL until judged; always finite.';
COMMENT ON COLUMN @extschema@.probe_results.sample_index IS 'Which of the N samples of its scenario-model pair this outcome is for (0-based).';
COMMENT ON INDEX @extschema@.transcripts_live_sample_key IS 'At most one live (not deleted) transcript per sample of a run.';
