-------------------------------------------------------------------------------
-- A run's status, derived from its jobs (SPEC 12.1), and the progress views.
--
-- runs.status keeps only what a person set: PENDING (the default: the run
-- goes by its jobs), PAUSED (pause_run) or CANCELLED (cancel_run); runs of
-- 1.0 and 1.1 may also hold RUNNING, COMPLETED or FAILED there. The status a
-- reader sees is:
--
--   CANCELLED or FAILED      when stored so (a person's decision, or legacy);
--   the stored status        when the run has no jobs (runs of 1.0);
--   COMPLETED                when none of its jobs is QUEUED, RUNNING or PAUSED;
--   PAUSED                   when stored so;
--   RUNNING                  when one of its jobs was ever claimed;
--   PENDING                  otherwise.
--
-- started_at is when a job of the run was first claimed, completed_at when
-- its last job finished (or when it was cancelled); what 1.1 stored in those
-- columns is kept. Nothing here is a counter that could drift, and nothing
-- is written on a worker's behalf.
--
-- The views join per-run groupings (no correlated subqueries), so Citus runs
-- them on the shards, and a WHERE run_id = ... reaches the job scan.
-------------------------------------------------------------------------------

CREATE VIEW @extschema@.run_job_counts AS
SELECT j.run_id,
       count(*) AS jobs,
       count(*) FILTER (WHERE j.state = 'COMPLETED') AS completed,
       count(*) FILTER (WHERE j.state = 'FAILED') AS failed,
       count(*) FILTER (WHERE j.state = 'RUNNING') AS running,
       count(*) FILTER (WHERE j.state = 'QUEUED') AS queued,
       count(*) FILTER (WHERE j.state = 'PAUSED') AS paused,
       count(*) FILTER (WHERE j.state = 'CANCELLED') AS cancelled,
       count(j.first_claimed_at) AS claimed,
       min(j.first_claimed_at) AS first_claimed_at,
       max(j.finished_at) AS last_finished_at
  FROM @extschema@.probe_jobs AS j
 GROUP BY j.run_id;
COMMENT ON VIEW @extschema@.run_job_counts IS
    'Per run, its jobs by state as stored, how many were ever claimed, the first claim and the last finish: what run_status and run_progress derive from.';

CREATE VIEW @extschema@.run_status AS
SELECT d.run_id, d.definition_id, d.status, d.stored_status, d.created_by, d.created_at,
       coalesce(d.stored_started_at, d.first_claimed_at) AS started_at,
       CASE WHEN d.status = 'COMPLETED' THEN coalesce(d.stored_completed_at, d.last_finished_at)
            WHEN d.status IN ('CANCELLED', 'FAILED') THEN d.stored_completed_at
       END AS completed_at
  FROM (SELECT r.id AS run_id, r.definition_id, r.status AS stored_status, r.created_by, r.created_at,
               r.started_at AS stored_started_at, r.completed_at AS stored_completed_at,
               c.first_claimed_at, c.last_finished_at,
               CASE WHEN r.status IN ('CANCELLED', 'FAILED') OR c.jobs IS NULL THEN r.status
                    WHEN c.queued + c.running + c.paused = 0 THEN 'COMPLETED'
                    WHEN r.status = 'PAUSED' THEN 'PAUSED'
                    WHEN c.claimed > 0 OR r.started_at IS NOT NULL THEN 'RUNNING'
                    ELSE 'PENDING'
               END AS status
          FROM @extschema@.runs AS r
          LEFT JOIN @extschema@.run_job_counts AS c ON c.run_id = r.id) AS d;
COMMENT ON VIEW @extschema@.run_status IS
    'Every run''s status derived from its jobs (PENDING, RUNNING, PAUSED, COMPLETED, CANCELLED; FAILED for legacy runs), with stored_status (what runs.status holds: what a person set), started_at (first claim) and completed_at (last job finished, or cancelled).';

-- The progress views are security barriers: a reader's function in WHERE
-- runs only on the rows they show, never on the totals of runs or models
-- without jobs that the joins drop. Equality on run_id (leakproof) still
-- reaches the job scan.
CREATE OR REPLACE VIEW @extschema@.run_progress WITH (security_barrier = true) AS
SELECT s.run_id,
       s.definition_id,
       s.status,
       t.total,
       c.completed,
       c.failed,
       c.running,
       c.queued,
       c.paused,
       c.cancelled,
       round(100.0 * (c.completed + c.failed) / nullif(t.total, 0), 1) AS percent,
       @extschema@.progress_bar(t.total, c.completed, c.failed, c.running) AS bar,
       s.created_at,
       s.started_at,
       s.completed_at
  FROM @extschema@.run_status AS s
  JOIN (SELECT jc.run_id, jc.completed, jc.failed, jc.running,
               -- A job handed back while its run was being paused or
               -- cancelled may sit queued there: it counts with its run.
               CASE WHEN r.status IN ('PAUSED', 'CANCELLED') THEN 0 ELSE jc.queued END AS queued,
               jc.paused + CASE WHEN r.status = 'PAUSED' THEN jc.queued ELSE 0 END AS paused,
               jc.cancelled + CASE WHEN r.status = 'CANCELLED' THEN jc.queued ELSE 0 END AS cancelled
          FROM @extschema@.run_job_counts AS jc
          JOIN @extschema@.runs AS r ON r.id = jc.run_id) AS c ON c.run_id = s.run_id
  -- The total follows the run's plan (run_pair_plan): per pair its planned
  -- samples, or the jobs that ran or will run (all but cancelled ones) where
  -- it has more (failed samples topped up), so a finished run shows 100 %
  -- whatever its plan.
  JOIN (SELECT p.run_id, sum(greatest(coalesce(p.planned_samples, 0), p.jobs - p.cancelled))::bigint AS total
          FROM @extschema@.run_pair_plan AS p
         GROUP BY p.run_id) AS t ON t.run_id = s.run_id;
COMMENT ON VIEW @extschema@.run_progress IS
'Progress of every run that has jobs, counted from the jobs (never a stored counter): the derived status, total = the sum over the run''s pairs of their planned samples (or their jobs that were not cancelled, where more), jobs per state, percent finished (completed + failed) and a text bar for \watch.';

CREATE OR REPLACE VIEW @extschema@.run_model_progress WITH (security_barrier = true) AS
SELECT m.run_id,
       m.model_id,
       s.status,
       t.total,
       m.completed,
       m.failed,
       m.running,
       CASE WHEN s.stored_status IN ('PAUSED', 'CANCELLED') THEN 0 ELSE m.queued END AS queued,
       m.paused + CASE WHEN s.stored_status = 'PAUSED' THEN m.queued ELSE 0 END AS paused,
       m.cancelled + CASE WHEN s.stored_status = 'CANCELLED' THEN m.queued ELSE 0 END AS cancelled,
       round(100.0 * (m.completed + m.failed) / nullif(t.total, 0), 1) AS percent,
       format('%s of %s samples', m.completed, t.total) AS samples,
       @extschema@.progress_bar(t.total, m.completed, m.failed, m.running) AS bar
  FROM (SELECT j.run_id, j.model_id,
               count(*) FILTER (WHERE j.state = 'COMPLETED') AS completed,
               count(*) FILTER (WHERE j.state = 'FAILED') AS failed,
               count(*) FILTER (WHERE j.state = 'RUNNING') AS running,
               count(*) FILTER (WHERE j.state = 'QUEUED') AS queued,
               count(*) FILTER (WHERE j.state = 'PAUSED') AS paused,
               count(*) FILTER (WHERE j.state = 'CANCELLED') AS cancelled
          FROM @extschema@.probe_jobs AS j
         GROUP BY j.run_id, j.model_id) AS m
  JOIN @extschema@.run_status AS s ON s.run_id = m.run_id
  JOIN (SELECT p.run_id, p.model_id, sum(greatest(coalesce(p.planned_samples, 0), p.jobs - p.cancelled))::bigint AS total
          FROM @extschema@.run_pair_plan AS p
         GROUP BY p.run_id, p.model_id) AS t ON t.run_id = m.run_id AND t.model_id = m.model_id;
COMMENT ON VIEW @extschema@.run_model_progress IS
'Progress per run and model, counted from the jobs: the run''s derived status, total = the sum over the model''s pairs of their planned samples (or their jobs that were not cancelled, where more), jobs per state, percent, "25 of 50 samples" and a text bar.';
