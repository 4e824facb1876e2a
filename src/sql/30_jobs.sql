
-------------------------------------------------------------------------------
-- Runs and jobs: deterministic scenario selection and job expansion (C).
-------------------------------------------------------------------------------

-- Not STRICT: NULL id lists and a NULL percentage are errors, not an empty
-- answer; a NULL seed means "seed from definition_id" (SPEC 4.1).
CREATE FUNCTION @extschema@.select_scenarios(
    scenario_ids pg_catalog.text[],
    sample_percentage pg_catalog.int4,
    definition_id pg_catalog.text,
    sample_seed pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.text[]
AS 'MODULE_PATHNAME', 'select_scenarios'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;

COMMENT ON FUNCTION @extschema@.select_scenarios(pg_catalog.text[], pg_catalog.int4, pg_catalog.text, pg_catalog.int8) IS
'The scenario ids a run selects, exactly as the reference platform selects them: all of them in the given order at 100 %, else the first max(1, floor(n * percentage / 100)) of a Park-Miller Fisher-Yates shuffle seeded by sample_seed (0 .. 2^53-1) or, when it is NULL, by the hash of definition_id.';

-- Planner support: the exact row estimate when the arguments are known.
CREATE FUNCTION @extschema@.expand_run_jobs_support(pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'expand_run_jobs_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER;

COMMENT ON FUNCTION @extschema@.expand_run_jobs_support(pg_catalog.internal) IS
'Planner support for expand_run_jobs: estimates its rows as selected scenarios x models x samples when those are known at plan time.';

-- STABLE, not IMMUTABLE: a NULL samples_per_scenario reads the setting
-- multisample.default_samples_per_scenario.
CREATE FUNCTION @extschema@.expand_run_jobs(
    scenario_ids pg_catalog.text[],
    model_ids pg_catalog.text[],
    samples_per_scenario pg_catalog.int4 DEFAULT NULL,
    sample_percentage pg_catalog.int4 DEFAULT 100,
    sample_seed pg_catalog.int8 DEFAULT NULL,
    definition_id pg_catalog.text DEFAULT '')
RETURNS TABLE (scenario_id pg_catalog.text, model_id pg_catalog.text, sample_index pg_catalog.int4)
AS 'MODULE_PATHNAME', 'expand_run_jobs'
LANGUAGE C STABLE PARALLEL SAFE SECURITY INVOKER
ROWS 1000 SUPPORT @extschema@.expand_run_jobs_support;

COMMENT ON FUNCTION @extschema@.expand_run_jobs(pg_catalog.text[], pg_catalog.text[], pg_catalog.int4, pg_catalog.int4, pg_catalog.int8, pg_catalog.text) IS
'The probe jobs of a run, streamed in constant memory: for each model as given, each selected scenario in selection order (see select_scenarios), sample_index 0 .. N-1. NULL samples_per_scenario means the setting multisample.default_samples_per_scenario.';
