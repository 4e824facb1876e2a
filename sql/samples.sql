-- Samples of a scenario-model pair and where two dialogues first diverge:
-- transcript_samples, transcript_turns, first_divergence.

CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

INSERT INTO multisample.definitions (id, name) VALUES ('sm-def', 'Samples definition');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    ('sm-s1', 'sm-def', 'dilemma'), ('sm-s2', 'sm-def', 'other');
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('sm-run', 'sm-def', '{"samplesPerScenario": 4}'), ('sm-other', 'sm-def', '{}');
INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, sample_index, score, content, deleted_at) VALUES
    -- Samples 0 and 1 agree on turns 0 and 1 and differ at turn 2.
    ('sm-run', 'sm-t0', 'sm-s1', 'm', 0, 4,
     '{"turns": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
                 {"role": "user", "content": "Why?"}, {"role": "assistant", "content": "Because X"}]}', NULL),
    ('sm-run', 'sm-t1', 'sm-s1', 'm', 1, 2,
     '{"turns": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
                 {"role": "user", "content": "Why not?"}, {"role": "assistant", "content": "Because Y"}]}', NULL),
    -- Sample 2 is sample 0 cut short after two turns; unscored.
    ('sm-run', 'sm-t2', 'sm-s1', 'm', 2, NULL,
     '{"turns": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}', NULL),
    -- Sample 3 repeats sample 0 exactly; a deleted earlier attempt differs.
    ('sm-run', 'sm-t3', 'sm-s1', 'm', 3, 4,
     '{"turns": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
                 {"role": "user", "content": "Why?"}, {"role": "assistant", "content": "Because X"}]}', NULL),
    ('sm-run', 'sm-t3-old', 'sm-s1', 'm', 3, 1, '{"turns": []}', '2024-01-01'),
    -- Other shapes: a bare array of turns, {} (no turns), a plain string (one turn).
    ('sm-run', 'sm-u0', 'sm-s2', 'm', 0, 3, '[{"role": "user", "content": "Q"}, {"role": "assistant", "content": "B"}]', NULL),
    ('sm-run', 'sm-u1', 'sm-s2', 'm', 1, 3, '{}', NULL),
    ('sm-run', 'sm-u2', 'sm-s2', 'm', 2, 3, '"free text"', NULL),
    ('sm-other', 'sm-o0', 'sm-s1', 'm', 0, 1, '{}', NULL);

-- Every live sample of the pair, in sample_index order (the deleted attempt
-- is not there; the unscored sample 2 is).
SELECT sample_index, transcript_id, scenario_name, score
  FROM multisample.transcript_samples WHERE run_id = 'sm-run' AND scenario_id = 'sm-s1' AND model_id = 'm';
-- Filterable by sample_index.
SELECT transcript_id FROM multisample.transcript_samples
 WHERE run_id = 'sm-run' AND model_id = 'm' AND sample_index = 2 ORDER BY transcript_id;

-- Turn by turn, side by side: samples 0 and 1 of sm-s1 differ from turn 2.
SELECT coalesce(a.turn_index, b.turn_index) AS turn_index, a.role, a.content AS sample_0, b.content AS sample_1,
       a.turn IS NOT DISTINCT FROM b.turn AS same
  FROM (SELECT * FROM multisample.transcript_turns WHERE run_id = 'sm-run' AND scenario_id = 'sm-s1' AND model_id = 'm' AND sample_index = 0) AS a
  FULL JOIN (SELECT * FROM multisample.transcript_turns WHERE run_id = 'sm-run' AND scenario_id = 'sm-s1' AND model_id = 'm' AND sample_index = 1) AS b
    USING (turn_index)
 ORDER BY 1;
-- Other content shapes: an array is the turns, {} has none, anything else is one turn.
SELECT sample_index, count(turn_index) AS turns, array_agg(turn ORDER BY turn_index) FILTER (WHERE turn IS NOT NULL) AS turn_list
  FROM (SELECT s.sample_index, t.turn_index, t.turn
          FROM multisample.transcript_samples s
          LEFT JOIN multisample.transcript_turns t USING (run_id, scenario_id, model_id, sample_index)
         WHERE s.run_id = 'sm-run' AND s.scenario_id = 'sm-s2') AS x
 GROUP BY sample_index ORDER BY sample_index;

-- first_divergence: turn 2 ("Why?" vs "Why not?"), 4 turns each.
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 0, 1);
-- The shorter dialogue ends first: turn 2 exists only in sample 0.
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 0, 2);
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 2, 0);
-- Identical dialogues (the deleted attempt of sample 3 does not count): no turn.
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 0, 3);
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 1, 1);
-- Shapes: bare array vs no turns diverge at turn 0; a string is one turn.
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s2', 'm', 0, 1);
SELECT * FROM multisample.first_divergence('sm-run', 'sm-s2', 'm', 1, 2);

-- Bad input.
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 0, 9)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'x', 0, 1)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', -1, 1)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.first_divergence('sm-run', 'sm-s1', 'm', 0, NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.first_divergence(NULL, 'sm-s1', 'm', 0, 1)$$);
