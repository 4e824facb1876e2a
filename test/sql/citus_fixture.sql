-- One finished run of the example evaluation (examples/evaluation.sql),
-- written straight into the tables, identical on every server it is loaded
-- into: fixed ids and timestamps, scores from hashtext() (the same on every
-- node of one PostgreSQL build), no random(), no now(). Used by
-- test/citus.sh to compare a Citus cluster with a single node.
--
--   psql -v run=r1 -v samples=5 -v models='{gpt-sim-large,claude-sim,local-llama}' -v short=0 -f ...
--
-- Per sample of each scenario x model pair: a COMPLETED job with its
-- transcript (a two-turn dialogue whose answer differs by sample) and
-- SUCCESS probe result. Scores lie in [1, 5] with 3 decimals around a
-- per-pair level; one pair per model has identical samples (zero
-- variance); about 1 sample in 17 is unscored (NULL score); each run has one
-- deleted transcript next to the live one of its sample. With short=1,
-- about 1 pair in 5 lost its last sample: a FAILED job and probe result,
-- no transcript (the SHORT_PAIRS warning of analysis_json).

BEGIN;

INSERT INTO multisample.runs (id, definition_id, status, config, created_by, created_at, started_at, completed_at)
VALUES (:'run', 'moral-dilemmas-v1', 'COMPLETED',
        pg_catalog.jsonb_build_object(
            'models', pg_catalog.to_jsonb(:'models'::text[]),
            'samplePercentage', 100,
            'samplesPerScenario', :samples,
            'priority', 'NORMAL',
            'maxAttempts', 3,
            'scoreScale', '{"min": 1, "max": 5}'::jsonb),
        'fixture', timestamptz '2026-01-02 00:00', timestamptz '2026-01-02 00:01', timestamptz '2026-01-02 01:00');

INSERT INTO multisample.run_scenario_selections (run_id, scenario_id)
SELECT :'run', s.id
  FROM multisample.scenarios AS s
 WHERE s.definition_id = 'moral-dilemmas-v1';

CREATE TEMP TABLE fixture_samples AS
SELECT :'run'::text AS run_id, s.id AS scenario_id, m.model_id, i AS sample_index,
       (m.ord - 1) * 12 + s.ord - 1 AS pair_no,
       s.prompt,
       -- the last sample of about 1 pair in 5 is missing in a short run
       (:short = 1 AND i = :samples - 1
        AND pg_catalog.abs(pg_catalog.hashtext(s.id || '|' || m.model_id)) % 5 = 0) AS missing,
       CASE WHEN pg_catalog.abs(pg_catalog.hashtext(:'run' || s.id || m.model_id || i)) % 17 = 0 THEN NULL
            ELSE pg_catalog.round(least(5, greatest(1,
                     1 + (pg_catalog.abs(pg_catalog.hashtext(s.id || '/' || m.model_id)) % 300) / 100.0
                     + CASE WHEN s.id = 'found-wallet' THEN 0
                            ELSE (pg_catalog.abs(pg_catalog.hashtext(:'run' || '/' || s.id || '/' || m.model_id || '/' || i)) % 1001) / 1000.0 - 0.5
                       END)), 3)::float8
       END AS score
  FROM (SELECT sc.id, sc.content ->> 'prompt' AS prompt,
               pg_catalog.row_number() OVER (ORDER BY sc.created_at, sc.id) AS ord
          FROM multisample.scenarios AS sc
         WHERE sc.definition_id = 'moral-dilemmas-v1') AS s
 CROSS JOIN pg_catalog.unnest(:'models'::text[]) WITH ORDINALITY AS m(model_id, ord)
 CROSS JOIN pg_catalog.generate_series(0, :samples - 1) AS i;

INSERT INTO multisample.probe_jobs
       (run_id, scenario_id, model_id, sample_index, state, priority, queue_order, attempts, max_attempts,
        lease_holder, lease_role, lease_expires_at, next_attempt_at, last_error_code, last_error_message,
        created_at, claimed_at, finished_at)
SELECT f.run_id, f.scenario_id, f.model_id, f.sample_index,
       CASE WHEN f.missing THEN 'FAILED' ELSE 'COMPLETED' END, 1,
       f.sample_index * 12 * pg_catalog.cardinality(:'models'::text[]) + f.pair_no,
       CASE WHEN f.missing THEN 3 ELSE 1 END, 3,
       'fixture-worker', 'fixture', timestamptz '2026-01-02 00:10', timestamptz '2026-01-02 00:01',
       CASE WHEN f.missing THEN 'TIMEOUT' END, CASE WHEN f.missing THEN 'the provider did not answer' END,
       timestamptz '2026-01-02 00:00', timestamptz '2026-01-02 00:05', timestamptz '2026-01-02 00:06'
  FROM fixture_samples AS f;

INSERT INTO multisample.transcripts
       (id, run_id, scenario_id, model_id, model_version, sample_index, content, input_tokens, output_tokens,
        cost, decision_code, decision_text, score, created_at)
SELECT pg_catalog.format('%s/%s/%s/%s', f.run_id, f.scenario_id, f.model_id, f.sample_index),
       f.run_id, f.scenario_id, f.model_id, '2026-01', f.sample_index,
       pg_catalog.jsonb_build_object('turns', pg_catalog.jsonb_build_array(
           pg_catalog.jsonb_build_object('role', 'user', 'content', f.prompt),
           pg_catalog.jsonb_build_object('role', 'assistant', 'content',
               pg_catalog.format('I would decide %s, "after weighing it", sample %s.',
                                 coalesce(pg_catalog.round(f.score)::text, 'nothing'), f.sample_index)))),
       100 + pair_no, 800 + f.sample_index, 0.0125 * (1 + f.sample_index),
       coalesce(pg_catalog.round(f.score)::text, 'pending'),
       CASE WHEN f.score IS NULL THEN NULL ELSE pg_catalog.format('level %s, with a comma', pg_catalog.round(f.score)) END,
       f.score, timestamptz '2026-01-02 00:06'
  FROM fixture_samples AS f
 WHERE NOT f.missing;

-- A deleted transcript next to a live one: never counted.
INSERT INTO multisample.transcripts
       (id, run_id, scenario_id, model_id, sample_index, content, score, created_at, deleted_at)
VALUES (:'run' || '/deleted', :'run', 'trolley-classic', (:'models'::text[])[1], 0, '{"turns": []}', 1,
        timestamptz '2026-01-02 00:05', timestamptz '2026-01-02 00:06');

INSERT INTO multisample.probe_results
       (run_id, scenario_id, model_id, sample_index, status, transcript_id, input_tokens, output_tokens,
        duration_ms, error_code, error_message, retry_count, created_at)
SELECT f.run_id, f.scenario_id, f.model_id, f.sample_index,
       CASE WHEN f.missing THEN 'FAILED' ELSE 'SUCCESS' END,
       CASE WHEN f.missing THEN NULL ELSE pg_catalog.format('%s/%s/%s/%s', f.run_id, f.scenario_id, f.model_id, f.sample_index) END,
       100 + f.pair_no, 800 + f.sample_index, 1000 + f.pair_no,
       CASE WHEN f.missing THEN 'TIMEOUT' END, CASE WHEN f.missing THEN 'the provider did not answer' END,
       CASE WHEN f.missing THEN 2 ELSE 0 END, timestamptz '2026-01-02 00:06'
  FROM fixture_samples AS f;

DROP TABLE fixture_samples;

COMMIT;
