-------------------------------------------------------------------------------
-- A run's plan: how many samples each scenario-model pair should get
-- (SPEC 12.7). Before 1.2 a run had one number, runs.config.samplesPerScenario
-- (absent = 1); adaptive sampling (80-adaptive.sql) gives pairs different
-- numbers. run_pair_plans holds a row only for a pair whose plan differs
-- from the run's one number, so runs started with one number, and every run
-- of 1.0 and 1.1, read as the uniform plan they had.
--
-- The view run_pair_plan gives every pair of a run with its plan and what
-- its jobs and scored samples are: the progress views (31-run-status.sql),
-- the warnings of analysis_json, top_up_run, plan_samples and add_samples
-- all compare against it. (It comes before 31-run-status.sql, whose views
-- use it.)
-------------------------------------------------------------------------------

-- Created on every node, its foreign key where Citus allows it (see
-- add_missing_foreign_keys in 01-citus-guard.sql).
CREATE TABLE @extschema@.run_pair_plans (
    run_id          text    NOT NULL,
    scenario_id     text    NOT NULL,
    model_id        text    NOT NULL
                    CONSTRAINT run_pair_plans_model_id_check CHECK (model_id OPERATOR(pg_catalog.<>) ''),
    planned_samples integer NOT NULL
                    CONSTRAINT run_pair_plans_planned_samples_check
                    CHECK (planned_samples OPERATOR(pg_catalog.>=) 1 AND planned_samples OPERATOR(pg_catalog.<=) 100),
    CONSTRAINT run_pair_plans_pkey PRIMARY KEY (run_id, scenario_id, model_id)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_pair_plans', '');
COMMENT ON TABLE @extschema@.run_pair_plans IS
    'The planned samples of the scenario-model pairs whose plan differs from their run''s samplesPerScenario (written by add_samples); every other pair is planned at samplesPerScenario (absent = 1). At most 100 per pair.';
COMMENT ON COLUMN @extschema@.run_pair_plans.planned_samples IS
    'How many samples the pair should end up with (1-100).';
SELECT @extschema@.add_missing_foreign_keys() WHERE NOT @extschema@.tables_distributed();

-- Every pair of a run: its selected scenarios times the models of its
-- config, plus any pair that has jobs (a run of 1.0 or a hand-made one).
-- Keys first (a UNION, so that WHERE run_id = ... reaches both branches),
-- then the per-pair counts joined as grouped subqueries (no correlated
-- subqueries: Citus runs them on the shards).
CREATE VIEW @extschema@.run_pair_plan AS
SELECT k.run_id,
       k.scenario_id,
       k.model_id,
       coalesce(pp.planned_samples, rs.samples_per_scenario) AS planned_samples,
       pp.planned_samples IS NOT NULL AS planned_per_pair,
       coalesce(j.jobs, 0) AS jobs,
       coalesce(j.completed, 0) AS completed,
       coalesce(j.failed, 0) AS failed,
       coalesce(j.cancelled, 0) AS cancelled,
       coalesce(j.unfinished, 0) AS unfinished,
       coalesce(t.live, 0) AS live_samples,
       coalesce(t.scored, 0) AS scored_samples
  FROM (SELECT sel.run_id, sel.scenario_id, m.model_id
          FROM @extschema@.run_scenario_selections AS sel
          JOIN (SELECT e.run_id, e.model #>> '{}' AS model_id
                  FROM (SELECT r.id AS run_id,
                               jsonb_array_elements(CASE WHEN jsonb_typeof(r.config -> 'models') = 'array'
                                                         THEN r.config -> 'models' ELSE '[]'::jsonb END) AS model
                          FROM @extschema@.runs AS r) AS e
                 WHERE jsonb_typeof(e.model) = 'string' AND e.model #>> '{}' <> '') AS m
            ON m.run_id = sel.run_id
        UNION
        SELECT pj.run_id, pj.scenario_id, pj.model_id
          FROM @extschema@.probe_jobs AS pj) AS k
  JOIN @extschema@.run_analysis_settings AS rs ON rs.run_id = k.run_id
  LEFT JOIN @extschema@.run_pair_plans AS pp
    ON pp.run_id = k.run_id AND pp.scenario_id = k.scenario_id AND pp.model_id = k.model_id
  LEFT JOIN (SELECT pj.run_id, pj.scenario_id, pj.model_id,
                    count(*) AS jobs,
                    count(*) FILTER (WHERE pj.state = 'COMPLETED') AS completed,
                    count(*) FILTER (WHERE pj.state = 'FAILED') AS failed,
                    count(*) FILTER (WHERE pj.state = 'CANCELLED') AS cancelled,
                    count(*) FILTER (WHERE pj.state IN ('QUEUED', 'RUNNING', 'PAUSED')) AS unfinished
               FROM @extschema@.probe_jobs AS pj
              GROUP BY pj.run_id, pj.scenario_id, pj.model_id) AS j
    ON j.run_id = k.run_id AND j.scenario_id = k.scenario_id AND j.model_id = k.model_id
  LEFT JOIN (SELECT tr.run_id, tr.scenario_id, tr.model_id,
                    count(*) AS live, count(tr.score) AS scored
               FROM @extschema@.transcripts AS tr
              WHERE tr.deleted_at IS NULL
              GROUP BY tr.run_id, tr.scenario_id, tr.model_id) AS t
    ON t.run_id = k.run_id AND t.scenario_id = k.scenario_id AND t.model_id = k.model_id;
COMMENT ON VIEW @extschema@.run_pair_plan IS
    'Every scenario-model pair of every run (selected scenarios x config models, plus pairs with jobs): planned_samples (its run_pair_plans row, else samplesPerScenario; NULL when that is unusable), whether it is planned per pair, its jobs by state (unfinished = queued, running or paused), its live samples (transcripts; a run written without jobs has only these) and its scored live samples.';
