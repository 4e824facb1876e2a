-- multisample 1.0: the single-sample store.
--
-- Released script: never edit it. Changes go into a new upgrade script.

\echo Use "CREATE EXTENSION multisample" to load this file. \quit

CREATE TABLE @extschema@.definitions (
    id          text        PRIMARY KEY CHECK (id <> ''),
    name        text        NOT NULL,
    content     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.scenarios (
    id            text        PRIMARY KEY CHECK (id <> ''),
    definition_id text        NOT NULL REFERENCES @extschema@.definitions (id),
    name          text        NOT NULL,
    content       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    deleted_at    timestamptz
);
CREATE INDEX scenarios_definition_idx
    ON @extschema@.scenarios (definition_id, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE @extschema@.runs (
    id            text        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid()::text CHECK (id <> ''),
    definition_id text        NOT NULL REFERENCES @extschema@.definitions (id),
    status        text        NOT NULL DEFAULT 'PENDING'
                  CHECK (status IN ('PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED')),
    config        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_at    timestamptz,
    completed_at  timestamptz
);
CREATE INDEX runs_definition_idx ON @extschema@.runs (definition_id);

CREATE TABLE @extschema@.run_scenario_selections (
    run_id      text NOT NULL REFERENCES @extschema@.runs (id) ON DELETE CASCADE,
    scenario_id text NOT NULL REFERENCES @extschema@.scenarios (id),
    PRIMARY KEY (run_id, scenario_id)
);

CREATE TABLE @extschema@.transcripts (
    id             text        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid()::text,
    run_id         text        NOT NULL REFERENCES @extschema@.runs (id) ON DELETE CASCADE,
    scenario_id    text        NOT NULL REFERENCES @extschema@.scenarios (id),
    model_id       text        NOT NULL,
    model_version  text,
    content        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    input_tokens   integer,
    output_tokens  integer,
    cost           numeric,
    decision_code  text,
    decision_text  text,
    score          float8,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    deleted_at     timestamptz
);
CREATE INDEX transcripts_run_pair_idx
    ON @extschema@.transcripts (run_id, scenario_id, model_id);

CREATE TABLE @extschema@.probe_results (
    run_id         text        NOT NULL REFERENCES @extschema@.runs (id) ON DELETE CASCADE,
    scenario_id    text        NOT NULL REFERENCES @extschema@.scenarios (id),
    model_id       text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('SUCCESS', 'FAILED')),
    transcript_id  text        REFERENCES @extschema@.transcripts (id),
    input_tokens   integer,
    output_tokens  integer,
    duration_ms    integer,
    error_code     text,
    error_message  text,
    retry_count    integer     NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (run_id, scenario_id, model_id)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.definitions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.scenarios', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_scenario_selections', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.transcripts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.probe_results', '');

COMMENT ON TABLE @extschema@.definitions IS 'Evaluation definitions: a named set of scenarios.';
COMMENT ON TABLE @extschema@.scenarios IS 'Prompt situations of a definition; content.dimensions maps dimension names to numbers.';
COMMENT ON TABLE @extschema@.runs IS 'Evaluation runs of a definition; config keeps the upstream JSON keys.';
COMMENT ON TABLE @extschema@.run_scenario_selections IS 'The scenarios each run selected.';
COMMENT ON TABLE @extschema@.transcripts IS 'One model answer to one scenario in a run.';
COMMENT ON TABLE @extschema@.probe_results IS 'Outcome of each probe of a run.';
COMMENT ON INDEX @extschema@.scenarios_definition_idx IS 'Live scenarios of a definition in selection order (created_at, id).';
COMMENT ON INDEX @extschema@.runs_definition_idx IS 'Runs of a definition.';
COMMENT ON INDEX @extschema@.transcripts_run_pair_idx IS 'Transcripts of one scenario-model pair of a run.';
