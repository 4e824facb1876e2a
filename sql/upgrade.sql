-- Upgrade 1.0 -> 1.1 loses nothing; fresh and upgraded installs are the same.
-- Runs first: it leaves a fresh 1.1 install for every test after it.
CREATE EXTENSION multisample VERSION '1.0';

-- A legacy single-sample store, as deployments have it.
INSERT INTO multisample.definitions (id, name) VALUES ('legacy-def', 'Legacy definition');
INSERT INTO multisample.scenarios (id, definition_id, name, created_at) VALUES
    ('s1', 'legacy-def', 'first',  '2024-01-01'),
    ('s2', 'legacy-def', 'second', '2024-01-02');
INSERT INTO multisample.runs (id, definition_id, status, config) VALUES
    ('run-a', 'legacy-def', 'COMPLETED', '{"models": ["m1", "m2"], "samplePercentage": 100}'),
    ('run-b', 'legacy-def', 'COMPLETED', '{"models": ["m1"], "samplePercentage": 100}');
INSERT INTO multisample.run_scenario_selections VALUES
    ('run-a', 's1'), ('run-a', 's2'), ('run-b', 's1');
-- run-a/s1/m1 was retried: three live transcripts (written out of id order)
-- and one deleted one. run-b/s1/m1 has two live ones. The rest have one.
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, score, created_at, deleted_at) VALUES
    ('t-03', 'run-a', 's1', 'm1', 3, '2024-02-01 10:00', NULL),
    ('t-01', 'run-a', 's1', 'm1', 4, '2024-02-01 10:05', NULL),
    ('t-02', 'run-a', 's1', 'm1', 5, '2024-02-01 10:05', NULL),
    ('t-00', 'run-a', 's1', 'm1', 1, '2024-02-01 09:00', '2024-02-01 09:30'),
    ('t-10', 'run-a', 's1', 'm2', 2, '2024-02-01 10:00', NULL),
    ('t-20', 'run-a', 's2', 'm1', 'NaN', '2024-02-01 10:00', NULL),
    ('t-30', 'run-a', 's2', 'm2', 4, '2024-02-01 10:00', NULL),
    ('t-41', 'run-b', 's1', 'm1', 2, '2024-02-02 10:00', NULL),
    ('t-40', 'run-b', 's1', 'm1', 1, '2024-02-02 10:00', NULL);
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, status, transcript_id) VALUES
    ('run-a', 's1', 'm1', 'SUCCESS', 't-02'),
    ('run-a', 's1', 'm2', 'SUCCESS', 't-10'),
    ('run-a', 's2', 'm1', 'SUCCESS', 't-20'),
    ('run-a', 's2', 'm2', 'FAILED', NULL),
    ('run-b', 's1', 'm1', 'SUCCESS', 't-41');

-- The upgrade reports what it renumbered and cleared.
ALTER EXTENSION multisample UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'multisample';

-- Every row is still there: duplicates numbered 0, 1, 2 by created_at, id;
-- the deleted one keeps 0; the NaN score became NULL.
SELECT id, run_id, scenario_id, model_id, sample_index, score, deleted_at IS NOT NULL AS deleted
  FROM multisample.transcripts ORDER BY run_id, scenario_id, model_id, deleted, sample_index;
-- A probe result takes the sample index of its transcript.
SELECT run_id, scenario_id, model_id, sample_index, status, transcript_id
  FROM multisample.probe_results ORDER BY 1, 2, 3, 4;

-- Integrity errors below: terse, since their DETAIL holds the row's timestamps.
\set VERBOSITY terse
-- The old unique key is gone: a second sample of the same pair is accepted.
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id)
VALUES ('run-a', 's1', 'm2', 1, 'FAILED', NULL);
-- The new one is enforced.
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status)
VALUES ('run-a', 's1', 'm2', 1, 'SUCCESS');
-- At most one live transcript per sample; a deleted one does not count.
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('t-dup', 'run-a', 's1', 'm1', 2, 4);
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score, deleted_at)
VALUES ('t-dup', 'run-a', 's1', 'm1', 2, 4, now());
-- Bad input is refused with a clear error.
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index)
VALUES ('t-neg', 'run-a', 's1', 'm1', -1);
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status)
VALUES ('run-a', 's1', 'm1', -1, 'SUCCESS');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('t-nan', 'run-a', 's1', 'm1', 7, 'NaN');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('t-inf', 'run-a', 's1', 'm1', 7, '-Infinity');
UPDATE multisample.transcripts SET score = 'Infinity' WHERE id = 't-01';
-- Transcript keys include run_id: the same id may not repeat within a run.
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index)
VALUES ('t-01', 'run-a', 's2', 'm2', 5);

\set VERBOSITY default

-- Catalog of the upgraded install, to compare with a fresh one: every
-- member object of the extension with its full definition and comment.
CREATE FUNCTION pg_temp.extension_catalog()
RETURNS TABLE (object text, definition text) LANGUAGE sql AS $$
    SELECT pg_describe_object(d.classid, d.objid, 0),
           concat_ws(' | ',
               CASE d.classid
                   WHEN 'pg_proc'::regclass THEN coalesce(
                       -- pg_get_functiondef refuses aggregates: describe them from pg_aggregate
                       (SELECT format('aggregate(%s) sfunc=%s stype=%s initcond=%s final=%s/%s combine=%s msfunc=%s minvfunc=%s mstype=%s minitcond=%s mfinal=%s/%s parallel=%s',
                                      pg_get_function_arguments(a.aggfnoid), a.aggtransfn::regprocedure,
                                      format_type(a.aggtranstype, NULL), a.agginitval, a.aggfinalfn::regprocedure,
                                      a.aggfinalmodify, a.aggcombinefn::regprocedure, a.aggmtransfn::regprocedure,
                                      a.aggminvtransfn::regprocedure, format_type(a.aggmtranstype, NULL),
                                      a.aggminitval, a.aggmfinalfn::regprocedure, a.aggmfinalmodify, p.proparallel)
                          FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
                         WHERE a.aggfnoid = d.objid),
                       pg_get_functiondef(d.objid))
                   WHEN 'pg_type'::regclass THEN format_type(d.objid, NULL)
               END,
               (SELECT pg_get_viewdef(c.oid) FROM pg_class c WHERE c.oid = d.objid AND d.classid = 'pg_class'::regclass AND c.relkind = 'v'),
               obj_description(d.objid, d.classid::regclass::name))
      FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'multisample')
       AND d.deptype = 'e'
    UNION ALL
    SELECT format('column %s.%s', a.attrelid::regclass, a.attname),
           concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                     CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                     pg_get_expr(ad.adbin, ad.adrelid),
                     col_description(a.attrelid, a.attnum))
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE c.relnamespace = 'multisample'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s on %s', conname, conrelid::regclass), pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'multisample'::regnamespace
    UNION ALL
    SELECT format('index %s', indexrelid::regclass),
           concat_ws(' ', pg_get_indexdef(indexrelid), obj_description(indexrelid, 'pg_class'))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'multisample'::regnamespace
    UNION ALL
    SELECT format('config dump %s', cfg::regclass), coalesce(cond, '')
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond)
     WHERE e.extname = 'multisample'
$$;
CREATE TEMP TABLE upgraded_catalog AS SELECT * FROM pg_temp.extension_catalog();

SET client_min_messages = warning;
DROP EXTENSION multisample CASCADE;
RESET client_min_messages;
CREATE EXTENSION multisample;
CREATE TEMP TABLE fresh_catalog AS SELECT * FROM pg_temp.extension_catalog();

-- Both directions must be empty; the counts show something was compared.
SELECT 'only upgraded' AS side, * FROM (TABLE upgraded_catalog EXCEPT ALL TABLE fresh_catalog) AS u
UNION ALL
SELECT 'only fresh', * FROM (TABLE fresh_catalog EXCEPT ALL TABLE upgraded_catalog) AS f;
SELECT count(*) > 40 AS compared_many_objects,
       count(*) FILTER (WHERE object LIKE 'table %') AS tables
  FROM fresh_catalog;
-- Every member object (table, index, view, function, aggregate, type) has a comment.
SELECT pg_describe_object(d.classid, d.objid, 0) AS without_comment
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'multisample')
   AND d.deptype = 'e'
   AND obj_description(d.objid, d.classid::regclass::name) IS NULL
   AND NOT (d.classid = 'pg_type'::regclass
            AND EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = d.objid AND (t.typelem <> 0 OR t.typrelid <> 0)))
 ORDER BY 1;
-- Indexes created by the scripts have comments too.
SELECT indexrelid::regclass AS index_without_comment
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = 'multisample'::regnamespace AND obj_description(indexrelid, 'pg_class') IS NULL
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
 ORDER BY 1;
