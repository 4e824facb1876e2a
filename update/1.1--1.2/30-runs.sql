-------------------------------------------------------------------------------
-- Starting a run (1.2): created_by is the calling role, the score scale is
-- finite within the score bound, and a run may name the score from which a
-- sample counts as a success (successThreshold, for pass@k).
--
-- The foreign key from probe_jobs to run_scenario_selections is gone: it
-- checked every job of a new run one by one (100,000 look-ups for a run of
-- 100 scenarios x 10 models x 100 samples, about 60 % of start_run's time).
-- Jobs are made only from a run's selections (start_run; top_up_run and
-- add_samples for pairs of the run), so the check found nothing; what the key
-- also did, deleting a selection's jobs with it (and so a run's, through
-- runs -> run_scenario_selections ON DELETE CASCADE), a trigger does.
-- Not on Citus: there a trigger on a shard of run_scenario_selections could
-- not reach the jobs (a query on a shard cannot start a distributed one),
-- while a foreign key between co-located tables is checked shard by shard.
-- So a database whose tables are distributed keeps the key, and
-- distribute_on_citus() (90-citus.sql) puts it back in place of the trigger.
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.selection_jobs_delete()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM @extschema@.probe_jobs AS j
     WHERE j.run_id = OLD.run_id AND j.scenario_id = OLD.scenario_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.selection_jobs_delete() IS
    'Trigger (caller''s rights) on run_scenario_selections: a deleted selection takes its jobs with it, as the foreign key of 1.1 did (deleting a run deletes its selections, and so its jobs).';

DO $drop_selection_fkey$
BEGIN
    IF NOT @extschema@.applies_table_changes() OR @extschema@.tables_distributed() THEN
        RETURN;
    END IF;
    EXECUTE 'ALTER TABLE @extschema@.probe_jobs DROP CONSTRAINT probe_jobs_selection_fkey';
    EXECUTE $ddl$
        CREATE TRIGGER run_scenario_selections_jobs AFTER DELETE ON @extschema@.run_scenario_selections
            FOR EACH ROW EXECUTE FUNCTION @extschema@.selection_jobs_delete()
    $ddl$;
    EXECUTE $ddl$
        COMMENT ON TRIGGER run_scenario_selections_jobs ON @extschema@.run_scenario_selections IS
            'Deletes the jobs of a deleted selection (and so of a deleted run).'
    $ddl$;
END
$drop_selection_fkey$;

-- preview_run passes the estimate its scenarios and samples apiece, so that
-- the estimate reports them under the reference platform's names
-- (scenarioCount, samplesPerScenario; see 60-exports.sql).
CREATE OR REPLACE FUNCTION @extschema@.preview_run(
    definition_id text,
    models text[],
    samples_per_scenario integer DEFAULT NULL,
    sample_percentage integer DEFAULT 100,
    sample_seed bigint DEFAULT NULL)
RETURNS TABLE (
    scenario_count integer,
    samples integer,
    job_count bigint,
    estimated_cost numeric,
    unpriced_models text[],
    scenario_ids text[],
    estimate jsonb)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live_ids text[];
    selected text[];
    n_samples integer;
    dup text;
    est jsonb;
BEGIN
    IF preview_run.definition_id IS NULL THEN
        RAISE EXCEPTION 'definition_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF preview_run.models IS NULL OR cardinality(preview_run.models) = 0 THEN
        RAISE EXCEPTION 'models must list at least one model id'
            USING ERRCODE = '22023', HINT = 'Pass e.g. ARRAY[''model-a'', ''model-b''].';
    END IF;
    IF array_ndims(preview_run.models) <> 1 THEN
        RAISE EXCEPTION 'models must be a one-dimensional array, got % dimensions', array_ndims(preview_run.models)
            USING ERRCODE = '22023';
    END IF;
    IF array_position(preview_run.models, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'models must not contain NULL, found one at position %', array_position(preview_run.models, NULL)
            USING ERRCODE = '22023', HINT = 'Every element must be a model id.';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(preview_run.models) AS u(m) WHERE btrim(u.m) = '') THEN
        RAISE EXCEPTION 'models must not contain an empty model id'
            USING ERRCODE = '22023', HINT = 'Every element must be a model id.';
    END IF;
    SELECT u.m INTO dup FROM unnest(preview_run.models) AS u(m) GROUP BY u.m HAVING count(*) > 1 ORDER BY u.m LIMIT 1;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION 'models contains % more than once', dup
            USING ERRCODE = '22023', HINT = 'Each model may appear only once; ask for more samples instead.';
    END IF;
    IF preview_run.sample_percentage IS NULL
       OR preview_run.sample_percentage < 1 OR preview_run.sample_percentage > 100 THEN
        RAISE EXCEPTION 'sample_percentage must be between 1 and 100, got %', coalesce(preview_run.sample_percentage::text, 'NULL')
            USING ERRCODE = '22023', HINT = '100 selects every scenario.';
    END IF;
    IF preview_run.samples_per_scenario IS NOT NULL
       AND (preview_run.samples_per_scenario < 1 OR preview_run.samples_per_scenario > 100) THEN
        RAISE EXCEPTION 'samples_per_scenario must be between 1 and 100, got %', preview_run.samples_per_scenario
            USING ERRCODE = '22023', HINT = 'Pass NULL to use the setting multisample.default_samples_per_scenario.';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM @extschema@.definitions AS d WHERE d.id = preview_run.definition_id) THEN
        RAISE EXCEPTION 'definition % does not exist', preview_run.definition_id
            USING ERRCODE = 'P0002';
    END IF;
    SELECT array_agg(s.id ORDER BY s.created_at, s.id) INTO live_ids
      FROM @extschema@.scenarios AS s
     WHERE s.definition_id = preview_run.definition_id AND s.deleted_at IS NULL;
    IF live_ids IS NULL THEN
        RAISE EXCEPTION 'definition % has no live scenarios', preview_run.definition_id
            USING ERRCODE = '22023', HINT = 'Add scenarios to the definition, or undelete some (deleted_at IS NULL).';
    END IF;

    -- The selection never depends on the number of samples (SPEC 4.1). It
    -- is computed by the C module, which also defines the setting read next.
    selected := @extschema@.select_scenarios(live_ids, preview_run.sample_percentage,
                                             preview_run.definition_id, preview_run.sample_seed);
    n_samples := coalesce(preview_run.samples_per_scenario,
                          current_setting('multisample.default_samples_per_scenario')::integer);
    est := @extschema@.estimate_run_cost(preview_run.definition_id, preview_run.models,
                                         cardinality(selected), n_samples);

    scenario_count := cardinality(selected);
    samples := n_samples;
    job_count := scenario_count::bigint * cardinality(preview_run.models) * n_samples;
    estimated_cost := (est ->> 'total')::numeric;
    unpriced_models := ARRAY(SELECT jsonb_array_elements_text(est -> 'unpricedModels'));
    scenario_ids := selected;
    estimate := est;
    RETURN NEXT;
END
$$;


DROP FUNCTION @extschema@.start_run(text, text[], integer, integer, bigint, text, integer, jsonb, text, text);

CREATE FUNCTION @extschema@.start_run(
    definition_id text,
    models text[],
    samples_per_scenario integer DEFAULT NULL,
    sample_percentage integer DEFAULT 100,
    sample_seed bigint DEFAULT NULL,
    priority text DEFAULT 'NORMAL',
    max_attempts integer DEFAULT 3,
    score_scale jsonb DEFAULT NULL,
    created_by text DEFAULT NULL,
    id text DEFAULT NULL,
    success_threshold double precision DEFAULT NULL)
RETURNS TABLE (
    run_id text,
    scenario_count integer,
    samples integer,
    job_count bigint,
    estimated_cost numeric,
    unpriced_models text[],
    estimate jsonb)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prio_name text := upper(btrim(start_run.priority));
    prio smallint;
    scale jsonb := coalesce(start_run.score_scale, '{"min": 1, "max": 5}'::jsonb);
    new_id text := coalesce(start_run.id, gen_random_uuid()::text);
    plan record;
    pairs bigint;
    inserted bigint;
BEGIN
    prio := CASE prio_name WHEN 'LOW' THEN 0 WHEN 'NORMAL' THEN 1 WHEN 'HIGH' THEN 2 END;
    IF prio IS NULL THEN
        RAISE EXCEPTION 'priority must be LOW, NORMAL or HIGH, got %', coalesce(quote_literal(start_run.priority), 'NULL')
            USING ERRCODE = '22023', HINT = 'Use LOW, NORMAL or HIGH.';
    END IF;
    IF start_run.max_attempts IS NULL OR start_run.max_attempts < 1 OR start_run.max_attempts > 100 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 100, got %', coalesce(start_run.max_attempts::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(scale) <> 'object' OR jsonb_typeof(scale -> 'min') IS DISTINCT FROM 'number'
       OR jsonb_typeof(scale -> 'max') IS DISTINCT FROM 'number'
       OR abs((scale ->> 'min')::numeric) > 1e15 OR abs((scale ->> 'max')::numeric) > 1e15
       OR (scale ->> 'min')::numeric >= (scale ->> 'max')::numeric THEN
        RAISE EXCEPTION 'score_scale must be an object {"min": number, "max": number} with -1e15 <= min < max <= 1e15, got %', scale
            USING ERRCODE = '22023', HINT = 'NULL means {"min": 1, "max": 5}.';
    END IF;
    IF NOT (start_run.success_threshold >= -1e15::float8 AND start_run.success_threshold <= 1e15::float8) THEN
        RAISE EXCEPTION 'success_threshold must be a finite number between -1e15 and 1e15, got %', start_run.success_threshold
            USING ERRCODE = '22023', HINT = 'A sample whose score is at least the threshold counts as a success; NULL means none.';
    END IF;
    IF start_run.created_by IS DISTINCT FROM current_user::text AND start_run.created_by IS NOT NULL THEN
        RAISE EXCEPTION 'created_by records the role that starts the run (current_user); it cannot be %',
            quote_literal(start_run.created_by)
            USING ERRCODE = '22023', HINT = 'Leave created_by NULL; keep other labels in your own column or table.';
    END IF;
    IF new_id = '' THEN
        RAISE EXCEPTION 'id must not be empty' USING ERRCODE = '22023', HINT = 'Pass NULL to get a generated id.';
    END IF;

    SELECT * INTO plan
      FROM @extschema@.preview_run(start_run.definition_id, start_run.models, start_run.samples_per_scenario,
                                   start_run.sample_percentage, start_run.sample_seed);

    IF EXISTS (SELECT 1 FROM @extschema@.runs AS r WHERE r.id = new_id) THEN
        RAISE EXCEPTION 'run % already exists', new_id
            USING ERRCODE = '23505', HINT = 'Pass another id, or NULL to get a generated one.';
    END IF;

    INSERT INTO @extschema@.runs (id, definition_id, status, config, created_by)
    VALUES (new_id, start_run.definition_id, 'PENDING',
            jsonb_build_object(
                'models', to_jsonb(start_run.models),
                'samplePercentage', start_run.sample_percentage,
                'samplesPerScenario', plan.samples,
                'priority', prio_name,
                'maxAttempts', start_run.max_attempts,
                'scoreScale', scale,
                'estimatedCosts', plan.estimate)
            || CASE WHEN start_run.sample_seed IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('sampleSeed', start_run.sample_seed) END
            || CASE WHEN start_run.success_threshold IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('successThreshold', start_run.success_threshold) END,
            current_user);

    INSERT INTO @extschema@.run_scenario_selections (run_id, scenario_id)
    SELECT new_id, u.scenario_id FROM unnest(plan.scenario_ids) AS u(scenario_id);

    -- The selection is already made: expand it at 100 % (no second shuffle).
    -- queue_order is sample-major; expand_run_jobs streams model-major rows,
    -- so row number r (1-based) is pair (r - 1) / samples, sample r mod samples.
    pairs := plan.scenario_count::bigint * cardinality(start_run.models);
    INSERT INTO @extschema@.probe_jobs (run_id, scenario_id, model_id, sample_index, priority, queue_order, max_attempts)
    SELECT new_id, e.scenario_id, e.model_id, e.sample_index, prio,
           e.sample_index * pairs + (e.ord - 1) / plan.samples, start_run.max_attempts
      FROM @extschema@.expand_run_jobs(plan.scenario_ids, start_run.models, plan.samples, 100, NULL,
                                       start_run.definition_id)
           WITH ORDINALITY AS e(scenario_id, model_id, sample_index, ord);
    GET DIAGNOSTICS inserted = ROW_COUNT;

    run_id := new_id;
    scenario_count := plan.scenario_count;
    samples := plan.samples;
    job_count := inserted;
    estimated_cost := plan.estimated_cost;
    unpriced_models := plan.unpriced_models;
    estimate := plan.estimate;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION @extschema@.start_run(text, text[], integer, integer, bigint, text, integer, jsonb, text, text, double precision) IS
'Creates a run in one statement: the run with its config (upstream keys; successThreshold when given), its scenario selections and one queued job per scenario x model x sample; returns the run id, job count and cost estimate. created_by is the calling role. Nothing is left behind on error.';

-- The analysis reads a score scale only within the score bound (see
-- 10-limits.sql); a scale outside it reads as unusable. (No LATERAL over the
-- outer row: Citus plans this as a plain subquery.)
CREATE OR REPLACE VIEW @extschema@.run_analysis_settings AS
SELECT c.run_id,
       CASE
           WHEN c.samples IS NULL OR jsonb_typeof(c.samples) = 'null' THEN 1
           WHEN jsonb_typeof(c.samples) = 'number' THEN
               CASE WHEN c.samples::numeric >= 1 AND c.samples::numeric <= 2147483647
                     AND c.samples::numeric = trunc(c.samples::numeric)
                    THEN c.samples::numeric::integer
               END
       END AS samples_per_scenario,
       CASE WHEN c.smin IS NOT NULL AND c.smax IS NOT NULL AND c.smax > c.smin THEN c.smin END AS score_scale_min,
       CASE WHEN c.smin IS NOT NULL AND c.smax IS NOT NULL AND c.smax > c.smin THEN c.smax END AS score_scale_max
  FROM (SELECT r.id AS run_id,
               r.config -> 'samplesPerScenario' AS samples,
               CASE
                   WHEN r.config -> 'scoreScale' IS NULL OR jsonb_typeof(r.config -> 'scoreScale') = 'null' THEN 1::float8
                   WHEN jsonb_typeof(r.config -> 'scoreScale') <> 'object' THEN NULL
                   WHEN r.config -> 'scoreScale' -> 'min' IS NULL THEN 1::float8
                   WHEN jsonb_typeof(r.config -> 'scoreScale' -> 'min') = 'number' THEN
                       CASE WHEN abs((r.config -> 'scoreScale' -> 'min')::numeric) <= 1e15
                            THEN (r.config -> 'scoreScale' -> 'min')::float8 END
               END AS smin,
               CASE
                   WHEN r.config -> 'scoreScale' IS NULL OR jsonb_typeof(r.config -> 'scoreScale') = 'null' THEN 5::float8
                   WHEN jsonb_typeof(r.config -> 'scoreScale') <> 'object' THEN NULL
                   WHEN r.config -> 'scoreScale' -> 'max' IS NULL THEN 5::float8
                   WHEN jsonb_typeof(r.config -> 'scoreScale' -> 'max') = 'number' THEN
                       CASE WHEN abs((r.config -> 'scoreScale' -> 'max')::numeric) <= 1e15
                            THEN (r.config -> 'scoreScale' -> 'max')::float8 END
               END AS smax
          FROM @extschema@.runs AS r) AS c;
COMMENT ON VIEW @extschema@.run_analysis_settings IS
    'Per run, the settings the analysis reads from runs.config: samples_per_scenario (absent = 1) and the score scale (absent = 1..5, bounds within [-1e15, 1e15]); NULL where the config value is unusable.';
