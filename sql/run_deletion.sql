-- Deleting a run as a role that may delete runs but not jobs. Its
-- selections go with it (a foreign key, ON DELETE CASCADE) and a trigger on
-- run_scenario_selections deletes their jobs (in 1.1 a foreign key did).
-- The one other test whose expected output differs by major, kept apart so
-- that its alternative file stays small:
--   expected/run_deletion.out    13 to 17: a trigger fired by a cascade
--       runs as the role that deleted the run, which may not delete jobs:
--       refused (42501), nothing deleted;
--   expected/run_deletion_1.out  18 and later: a trigger runs as the role
--       that queued its event, here the owner of the tables (PostgreSQL
--       runs foreign-key cascades as the owner): the run, its selections and
--       its jobs are deleted, as 1.1's foreign key deleted them.
-- Either way no job outlives its run, and no role reaches a job it could
-- not reach in 1.1.
CREATE EXTENSION IF NOT EXISTS multisample;
INSERT INTO multisample.definitions (id, name) VALUES ('rd-def', 'run deletion');
INSERT INTO multisample.scenarios (id, definition_id, name)
VALUES ('rd-s1', 'rd-def', 'one'), ('rd-s2', 'rd-def', 'two');
SELECT job_count FROM multisample.start_run('rd-def', ARRAY['rd-m'], 2, 100, id => 'rd-run');

CREATE ROLE regress_ms_run_deleter;
GRANT USAGE ON SCHEMA multisample TO regress_ms_run_deleter;
GRANT SELECT, DELETE ON multisample.runs, multisample.run_scenario_selections TO regress_ms_run_deleter;
GRANT SELECT ON multisample.probe_jobs TO regress_ms_run_deleter;
SET ROLE regress_ms_run_deleter;
\set VERBOSITY sqlstate
DELETE FROM multisample.runs WHERE id = 'rd-run';
\set VERBOSITY default
RESET ROLE;
SELECT (SELECT count(*) FROM multisample.runs WHERE id = 'rd-run') AS runs,
       (SELECT count(*) FROM multisample.run_scenario_selections WHERE run_id = 'rd-run') AS selections,
       (SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'rd-run') AS jobs;
DROP OWNED BY regress_ms_run_deleter;
DROP ROLE regress_ms_run_deleter;
