-- Upgrades lose nothing, and a fresh install equals one upgraded from 1.0
-- (the direct 1.0 -> 1.2 path), from 1.1 (1.1 -> 1.2) and step by step
-- (1.0 -> 1.1 -> 1.2). Runs first: it leaves a fresh install for every test
-- after it.
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

-- 1.0 let a probe result name any transcript: run-c/s1/m1 names run-a's
-- t-10 (another run: the 1.1 script's foreign key would stop with a bare
-- 23503), and run-c/s2/m2 names t-c1 of run-c/s2/m1 (another pair of its run:
-- it would take t-c1's sample index, 1).
INSERT INTO multisample.runs (id, definition_id, status, config) VALUES
    ('run-c', 'legacy-def', 'COMPLETED', '{"models": ["m1", "m2"]}');
INSERT INTO multisample.run_scenario_selections VALUES ('run-c', 's1'), ('run-c', 's2');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, score, created_at) VALUES
    ('t-c0', 'run-c', 's2', 'm1', 2, '2024-02-03 10:00'),
    ('t-c1', 'run-c', 's2', 'm1', 3, '2024-02-03 11:00');
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, status, transcript_id) VALUES
    ('run-c', 's1', 'm1', 'SUCCESS', 't-10'),
    ('run-c', 's2', 'm1', 'SUCCESS', 't-c1'),
    ('run-c', 's2', 'm2', 'SUCCESS', 't-c1');

-- The upgrade reports what it unlinked, renumbered and cleared.
ALTER EXTENSION multisample UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'multisample';
-- The scripts resolve names in pg_catalog only, but leave the session's
-- search_path as it was.
SHOW search_path;

-- Every row is still there: duplicates numbered 0, 1, 2 by created_at, id;
-- the deleted one keeps 0; the NaN score became NULL.
SELECT id, run_id, scenario_id, model_id, sample_index, score, deleted_at IS NOT NULL AS deleted
  FROM multisample.transcripts ORDER BY run_id, scenario_id, model_id, deleted, sample_index;
-- A probe result takes the sample index of its transcript; the foreign
-- links are gone (run-c/s2/m2 keeps sample 0), the transcripts are kept.
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
    UNION ALL
    SELECT format('trigger %s on %s', t.tgname, t.tgrelid::regclass),
           concat_ws(' ', pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'))
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'multisample'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s on %s.%s', p.policyname, p.schemaname, p.tablename),
           concat_ws(' | ', p.cmd, p.permissive, p.roles::text, p.qual, p.with_check)
      FROM pg_policies p WHERE p.schemaname = 'multisample'
    UNION ALL
    SELECT format('relation %s', c.oid::regclass),
           concat_ws(' | ', c.relkind, c.relrowsecurity, c.reloptions::text, c.relacl::text)
      FROM pg_class c WHERE c.relnamespace = 'multisample'::regnamespace
    UNION ALL
    SELECT 'schema multisample', concat_ws(' | ', r.rolsuper, n.nspacl::text)
      FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'multisample'
$$;
CREATE TEMP TABLE from_1_0 AS SELECT * FROM pg_temp.extension_catalog();

-------------------------------------------------------------------------------
-- 1.1 -> 1.2 with a run in progress: queued, running, retried and finished
-- jobs, and the states 1.1 let a worker leave behind.
-------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION multisample CASCADE;
RESET client_min_messages;
CREATE EXTENSION multisample VERSION '1.1';
INSERT INTO multisample.definitions (id, name) VALUES ('u11-def', 'six scenarios');
INSERT INTO multisample.scenarios (id, definition_id, name, created_at)
SELECT 'u11-s' || i, 'u11-def', 'scenario ' || i, '2024-01-01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 6) AS i;
SELECT job_count FROM multisample.start_run('u11-def', ARRAY['m1', 'm2'], 2, id => 'u11-run');
SELECT count(*) AS claimed FROM multisample.claim_probe_jobs('w-old', 12);
-- Work done under 1.1: completions, a retry, a failure for good.
SELECT count(*) AS completed
  FROM multisample.probe_jobs AS j,
       LATERAL multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'w-old',
                                              '{"turns": []}', score => j.sample_index + 1) AS c
 WHERE j.run_id = 'u11-run' AND j.state = 'RUNNING' AND j.scenario_id IN ('u11-s1', 'u11-s2');
SELECT outcome FROM multisample.fail_probe_job('u11-run', 'u11-s3', 'm1', 0, 'w-old', 'RATE_LIMITED', '429', true);
SELECT outcome FROM multisample.fail_probe_job('u11-run', 'u11-s3', 'm2', 0, 'w-old', 'BAD_PROMPT', 'no', false);
-- What 1.1 let a worker do: hand a job back on its last attempt (it wedged
-- every claim), put a job out of reach for ever, take a lease for ever, and
-- record an outcome before handing a job back.
UPDATE multisample.probe_jobs SET state = 'QUEUED', attempts = max_attempts
 WHERE run_id = 'u11-run' AND scenario_id = 'u11-s4' AND model_id = 'm1' AND sample_index = 0;
UPDATE multisample.probe_jobs SET state = 'QUEUED', next_attempt_at = 'infinity'
 WHERE run_id = 'u11-run' AND scenario_id = 'u11-s4' AND model_id = 'm2' AND sample_index = 0;
UPDATE multisample.probe_jobs SET lease_expires_at = 'infinity'
 WHERE run_id = 'u11-run' AND scenario_id = 'u11-s5' AND model_id = 'm1' AND sample_index = 0;
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, content, score)
VALUES ('u11-stray', 'u11-run', 'u11-s5', 'm2', 0, '{"forged": true}', 1),
       ('u11-done', 'u11-run', 'u11-s6', 'm1', 0, '{"turns": []}', 4);
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id)
VALUES ('u11-run', 'u11-s6', 'm1', 0, 'SUCCESS', 'u11-done');
UPDATE multisample.probe_jobs SET state = 'QUEUED'
 WHERE run_id = 'u11-run' AND scenario_id IN ('u11-s5', 'u11-s6') AND sample_index = 0 AND state = 'RUNNING'
   AND NOT (scenario_id = 'u11-s5' AND model_id = 'm1');
UPDATE multisample.transcripts SET cost = 'NaN' WHERE run_id = 'u11-run' AND scenario_id = 'u11-s1' AND model_id = 'm1' AND sample_index = 0;
-- (1.1 refused NaN prices but took any finite size; 1.2 keeps prices within 1e15.)
INSERT INTO multisample.model_pricing VALUES ('m-huge', 1e20, 1);
SELECT state, count(*) FROM multisample.probe_jobs WHERE run_id = 'u11-run' GROUP BY state ORDER BY state;

-- The update repairs each of them and says so.
ALTER EXTENSION multisample UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'multisample';
SELECT scenario_id, model_id, sample_index, state, attempts, max_attempts,
       next_attempt_at <= now() + interval '1 day' AS claimable_within_a_day,
       lease_expires_at <= now() + interval '1 day' AS lease_within_a_day
  FROM multisample.probe_jobs
 WHERE run_id = 'u11-run' AND (scenario_id IN ('u11-s4', 'u11-s5', 'u11-s6') AND sample_index = 0)
 ORDER BY 1, 2, 3;
SELECT id, deleted_at IS NOT NULL AS deleted FROM multisample.transcripts WHERE id IN ('u11-stray', 'u11-done') ORDER BY id;
SELECT scenario_id, model_id, status, error_code FROM multisample.probe_results
 WHERE run_id = 'u11-run' AND scenario_id IN ('u11-s4', 'u11-s6') ORDER BY 1, 2;
SELECT cost IS NULL AS nan_cost_cleared FROM multisample.transcripts
 WHERE run_id = 'u11-run' AND scenario_id = 'u11-s1' AND model_id = 'm1' AND sample_index = 0;
SELECT count(*) AS prices_left FROM multisample.model_pricing;
CREATE TEMP TABLE from_1_1 AS SELECT * FROM pg_temp.extension_catalog();

-- The run finishes under 1.2: every job ends with exactly one outcome.
UPDATE multisample.probe_jobs SET next_attempt_at = now(), lease_expires_at = least(lease_expires_at, now())
 WHERE run_id = 'u11-run' AND state IN ('QUEUED', 'RUNNING');
DO $$
DECLARE j record; rounds integer := 0;
BEGIN
    WHILE EXISTS (SELECT 1 FROM multisample.probe_jobs WHERE run_id = 'u11-run' AND state IN ('QUEUED', 'RUNNING'))
          AND rounds < 50 LOOP
        rounds := rounds + 1;
        FOR j IN SELECT * FROM multisample.claim_probe_jobs('w-new', 50) LOOP
            PERFORM multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'w-new',
                                                   '{"turns": []}', score => 3, attempt => j.attempt);
        END LOOP;
    END LOOP;
END
$$;
SELECT status, completed_at IS NOT NULL AS completed_at_set FROM multisample.run_status WHERE run_id = 'u11-run';
SELECT j.state, count(*) AS jobs, count(r.status) AS with_result, count(t.id) AS with_live_transcript
  FROM multisample.probe_jobs AS j
  LEFT JOIN multisample.probe_results AS r USING (run_id, scenario_id, model_id, sample_index)
  LEFT JOIN multisample.transcripts AS t
    ON t.run_id = j.run_id AND t.scenario_id = j.scenario_id AND t.model_id = j.model_id
   AND t.sample_index = j.sample_index AND t.deleted_at IS NULL
 WHERE j.run_id = 'u11-run' GROUP BY j.state ORDER BY j.state;

-------------------------------------------------------------------------------
-- Step by step: 1.0 -> 1.1 -> 1.2.
-------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION multisample CASCADE;
RESET client_min_messages;
CREATE EXTENSION multisample VERSION '1.0';
ALTER EXTENSION multisample UPDATE TO '1.1';
ALTER EXTENSION multisample UPDATE TO '1.2';
CREATE TEMP TABLE stepwise AS SELECT * FROM pg_temp.extension_catalog();

-------------------------------------------------------------------------------
-- A fresh install, compared with each upgraded one.
-------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION multisample CASCADE;
RESET client_min_messages;
CREATE EXTENSION multisample;
SHOW search_path;
CREATE TEMP TABLE fresh_catalog AS SELECT * FROM pg_temp.extension_catalog();

-- Every difference in either direction, per path: none.
WITH upgraded AS (
    SELECT 'from 1.0' AS path, * FROM from_1_0
    UNION ALL SELECT 'from 1.1', * FROM from_1_1
    UNION ALL SELECT 'stepwise', * FROM stepwise)
SELECT u.path, 'only upgraded' AS side, u.object, u.definition
  FROM upgraded AS u
 WHERE NOT EXISTS (SELECT 1 FROM fresh_catalog AS f
                    WHERE f.object = u.object AND f.definition IS NOT DISTINCT FROM u.definition)
UNION ALL
SELECT p.path, 'only fresh', f.object, f.definition
  FROM fresh_catalog AS f CROSS JOIN (SELECT DISTINCT path FROM upgraded) AS p
 WHERE NOT EXISTS (SELECT 1 FROM upgraded AS u
                    WHERE u.path = p.path AND u.object = f.object AND u.definition IS NOT DISTINCT FROM f.definition)
 ORDER BY 1, 2, 3;
SELECT count(*) > 40 AS compared_many_objects,
       count(*) FILTER (WHERE object LIKE 'table %') AS tables,
       count(*) FILTER (WHERE object LIKE 'trigger %') AS triggers,
       count(*) FILTER (WHERE object LIKE 'policy %') AS policies,
       (SELECT count(*) FROM from_1_0) = count(*) AND (SELECT count(*) FROM from_1_1) = count(*)
           AND (SELECT count(*) FROM stepwise) = count(*) AS same_counts
  FROM fresh_catalog;
-- Nothing of 1.2 runs with another role's rights: no SECURITY DEFINER
-- function, and the schema belongs to a superuser.
SELECT p.oid::regprocedure AS security_definer
  FROM pg_proc p WHERE p.pronamespace = 'multisample'::regnamespace AND p.prosecdef;
SELECT r.rolsuper AS schema_owner_is_superuser
  FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'multisample';
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
