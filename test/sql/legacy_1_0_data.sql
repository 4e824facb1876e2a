-- A realistic legacy 1.0 store for the upgrade and dump campaigns, generated
-- deterministically (setseed) with :runs runs: several definitions and
-- models, retried jobs that left 2-5 live transcripts for one pair, deleted
-- transcripts (some pairs only deleted ones), ties on created_at broken by
-- id, NaN / +-Infinity / NULL scores, probe results that name a live, a
-- deleted or no transcript. Needs psql variable :runs.
SELECT pg_catalog.setseed(0.42);

INSERT INTO multisample.definitions (id, name, content)
SELECT 'def-' || d, 'Definition ' || d, jsonb_build_object('version', d)
  FROM generate_series(1, 4) AS d;

INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at, deleted_at)
SELECT format('def-%s-scn-%s', d, s), 'def-' || d, format('scenario %s/%s', d, s),
       jsonb_build_object('dimensions', jsonb_build_object('risk', s % 5, 'length', s % 3)),
       timestamptz '2023-06-01' + s * interval '1 hour',
       CASE WHEN s % 17 = 0 THEN timestamptz '2023-12-01' END
  FROM generate_series(1, 4) AS d, generate_series(1, 25) AS s;

INSERT INTO multisample.runs (id, definition_id, status, config, created_by, created_at, started_at, completed_at)
SELECT 'legacy-run-' || r, 'def-' || (1 + r % 4),
       (ARRAY['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLED', 'RUNNING'])[1 + r % 6],
       jsonb_build_object('models', jsonb_build_array('model-a', 'model-b', 'model-c'),
                          'samplePercentage', CASE WHEN r % 3 = 0 THEN 50 ELSE 100 END,
                          'priority', 'NORMAL')
         || CASE WHEN r % 5 = 0 THEN jsonb_build_object('sampleSeed', r) ELSE '{}' END,
       'user-' || (r % 7),
       timestamptz '2024-01-01' + r * interval '1 day',
       timestamptz '2024-01-01' + r * interval '1 day' + interval '1 minute',
       CASE WHEN r % 6 <> 5 THEN timestamptz '2024-01-01' + r * interval '1 day' + interval '2 hours' END
  FROM generate_series(1, :runs) AS r;

INSERT INTO multisample.run_scenario_selections (run_id, scenario_id)
SELECT r.id, s.id
  FROM multisample.runs r
  JOIN multisample.scenarios s ON s.definition_id = r.definition_id
 WHERE r.id LIKE 'legacy-run-%' AND random() < 0.8;

-- Pairs: every selected scenario x model; how many live and deleted
-- transcripts each has is drawn per pair.
CREATE TEMP TABLE legacy_pairs AS
SELECT sel.run_id, sel.scenario_id, m.model_id,
       CASE WHEN x < 0.05 THEN 0 WHEN x < 0.70 THEN 1 WHEN x < 0.88 THEN 2
            WHEN x < 0.96 THEN 3 ELSE 5 END AS live,
       CASE WHEN random() < 0.15 THEN 1 + (random() * 1.5)::int ELSE 0 END AS deleted
  FROM multisample.run_scenario_selections sel
  CROSS JOIN (VALUES ('model-a'), ('model-b'), ('model-c')) AS m(model_id)
  CROSS JOIN LATERAL (SELECT random() + 0 * length(sel.run_id || m.model_id) AS x) AS draw;

INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, model_version, content,
                                     input_tokens, output_tokens, cost, decision_code, decision_text,
                                     score, created_at, deleted_at)
SELECT md5(p.run_id || p.scenario_id || p.model_id || k || random()),
       p.run_id, p.scenario_id, p.model_id, p.model_id || '-2024-0' || (1 + k % 3),
       jsonb_build_array(jsonb_build_object('role', 'user', 'text', 'prompt ' || p.scenario_id),
                         jsonb_build_object('role', 'assistant', 'text', 'answer ' || k || E' with "quotes", commas,\nnewlines')),
       100 + (random() * 50)::int, 800 + (random() * 200)::int, round((random() / 100)::numeric, 6),
       'D' || (1 + k % 4), 'decision ' || k,
       CASE WHEN y < 0.02 THEN 'NaN'::float8 WHEN y < 0.025 THEN 'Infinity' WHEN y < 0.03 THEN '-Infinity'
            WHEN y < 0.08 THEN NULL ELSE 1 + floor(random() * 5) END,
       -- few distinct minutes: many ties on created_at, broken by id
       timestamptz '2024-03-01' + floor(random() * 3) * interval '1 minute',
       CASE WHEN k > p.live THEN timestamptz '2024-03-02' END
  FROM legacy_pairs p
  CROSS JOIN LATERAL generate_series(1, p.live + p.deleted) AS k
  CROSS JOIN LATERAL (SELECT random() + 0 * k AS y) AS draw;

-- One 1.0 probe result per pair (the old unique key): usually SUCCESS naming
-- one live transcript, sometimes one naming a deleted transcript, sometimes
-- FAILED without a transcript.
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, status, transcript_id,
                                       input_tokens, output_tokens, duration_ms, error_code,
                                       error_message, retry_count)
SELECT p.run_id, p.scenario_id, p.model_id,
       CASE WHEN t.id IS NULL THEN 'FAILED' ELSE 'SUCCESS' END, t.id,
       t.input_tokens, t.output_tokens, 1000 + (random() * 5000)::int,
       CASE WHEN t.id IS NULL THEN 'TIMEOUT' END,
       CASE WHEN t.id IS NULL THEN 'model timed out after 60 s' END,
       greatest(p.live - 1, 0)
  FROM legacy_pairs p
  LEFT JOIN LATERAL (
      SELECT tr.id, tr.input_tokens, tr.output_tokens
        FROM multisample.transcripts tr
       WHERE tr.run_id = p.run_id AND tr.scenario_id = p.scenario_id AND tr.model_id = p.model_id
       ORDER BY (tr.deleted_at IS NULL) = (random() < 0.9) DESC, random()
       LIMIT 1) AS t ON true
 WHERE random() < 0.9;
