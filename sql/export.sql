-- CSV export: the view transcript_export and export_run_csv(run_id) in the
-- reference platform's layout, with RFC 4180 quoting.
-- Expected values below are written from the layout rules (README, "Reading
-- the results"), not copied from output: header "AI Model Name", "Sample
-- Index", the numeric dimensions sorted by name (byte order), "Decision
-- Code", "Decision Text", "Transcript ID", "Target Response"; a field with a
-- comma, a double quote, CR or LF is quoted and its quotes doubled.

-- Error reporter: SQLSTATE and message, nothing that varies between runs.
CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

INSERT INTO multisample.definitions (id, name) VALUES ('ex-def', 'Export definition');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at) VALUES
    -- "b, c" and "A""q" need quoting in the header; "note" is not a number
    -- (left out); "a" < "b, c" < "z" in byte order, upper case first: "A""q" < "Zed".
    ('ex-s1', 'ex-def', 'first',  '{"dimensions": {"z": 3, "b, c": 2.5, "A\"q": 1, "note": "text"}}', '2024-01-01'),
    ('ex-s2', 'ex-def', 'second', '{"dimensions": {"Zed": 4, "z": 1}}', '2024-01-02'),
    ('ex-s3', 'ex-def', 'third',  '{}', '2024-01-03');
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('ex-run',   'ex-def', '{"models": ["openai:gpt-4o-20240513", "m2"], "samplesPerScenario": 2}'),
    ('ex-other', 'ex-def', '{}'),
    ('ex-empty', 'ex-def', '{}');
INSERT INTO multisample.transcripts
    (run_id, id, scenario_id, model_id, sample_index, score, decision_code, decision_text, content, deleted_at) VALUES
    -- {role, content} turns: the assistant turns are the target response.
    ('ex-run', 'ex-t1', 'ex-s1', 'openai:gpt-4o-20240513', 0, 4, '4', 'Agrees, "mostly"',
     '{"turns": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "yes, because\r\nreasons"},
                 {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "é 😀"}]}', NULL),
    -- Reference-platform turns: targetResponse of every turn; empty ones skipped.
    ('ex-run', 'ex-t2', 'ex-s1', 'openai:gpt-4o-20240513', 1, NULL, NULL, NULL,
     '{"turns": [{"probePrompt": "p1", "targetResponse": "plain"}, {"probePrompt": "p2", "targetResponse": ""},
                 {"probePrompt": "p3", "targetResponse": "line1\nline2"}]}', NULL),
    -- Deleted: never exported.
    ('ex-run', 'ex-t2-old', 'ex-s1', 'openai:gpt-4o-20240513', 1, 1, '1', 'old', '{}', '2024-02-01'),
    ('ex-run', 'ex-t3', 'ex-s2', 'm2', 0, 2, '2', 'no special characters', '{"turns": []}', NULL),
    -- Not a turns document: no target response.
    ('ex-run', 'ex-t4', 'ex-s3', 'm2', 1, 3, '3', 'comma, only', '"free text"', NULL),
    ('ex-other', 'ex-o1', 'ex-s1', 'm2', 0, 5, '5', 'other run', '{}', NULL);

-- Header, then one record per live transcript ordered by model id, scenario
-- id and sample index. Dimension columns: A"q, Zed, "b, c", z.
-- ex-t1: model name without provider and date; decision text quoted
-- ("Agrees, ""mostly"""); target response = both assistant turns joined by
-- LF LF "---" LF LF, quoted because of the comma and the CR LF.
-- ex-t2: missing decision -> "pending" / "Summary not yet generated";
-- "plain" and "line1\nline2" joined (the empty response is skipped).
-- ex-t3 (scenario ex-s2): only Zed and z; empty target response.
-- ex-t4 (scenario ex-s3, no dimensions): four empty dimension fields.
SELECT * FROM multisample.export_run_csv('ex-run');

-- Record count = live transcripts + header.
SELECT count(*) AS records FROM multisample.export_run_csv('ex-run');
-- A run without transcripts: the fixed columns only.
SELECT * FROM multisample.export_run_csv('ex-empty');

-- The view: one row per live transcript, with sample_index; for \copy ... CSV HEADER.
SELECT transcript_id, model_id, model_name, scenario_id, sample_index, dimensions, decision_code, score,
       target_response
  FROM multisample.transcript_export
 WHERE run_id = 'ex-run'
 ORDER BY transcript_id;

-- COPY's own CSV quoting of the view agrees with RFC 4180 as well.
COPY (SELECT transcript_id, sample_index, decision_text, target_response
        FROM multisample.transcript_export WHERE run_id = 'ex-run' ORDER BY transcript_id)
  TO STDOUT WITH (FORMAT csv, HEADER);

-- Model names as the reference platform shortens them.
SELECT m AS model_id,
       (SELECT model_name FROM multisample.transcript_export e WHERE e.model_id = m LIMIT 1) AS model_name
  FROM (VALUES ('openai:gpt-4o-20240513'), ('m2')) AS v (m);

-- Unknown or NULL run.
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.export_run_csv('no-such-run')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.export_run_csv(NULL)$$);
