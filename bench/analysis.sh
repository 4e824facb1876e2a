#!/usr/bin/env bash
# analysis_json on 1M scored samples vs fetching them into Python and
# computing the same figures with numpy (SPEC 6, 10; target >= 10x faster).
#
# Data: one run of 1000 scenarios x 10 models x 100 samples, every sample
# scored (a per-pair centre and spread, uniform noise, clamped to the 1..5
# scale), loaded straight into transcripts and vacuumed.
#
# Ours: SELECT multisample.analysis_json(run) in psql, timed by \timing
# (the whole document is sent to the client).
# Baseline: bench/analysis_numpy.py, timed inside Python from connecting to
# the last figure (interpreter start-up and imports not counted): one query
# for the scored live samples, fetchall, ids to integer codes, numpy for the
# per-model, per-pair and per-scenario figures, an mpmath t quantile.
# Rounds alternate which side goes first. Afterwards every figure of the
# document is checked against numpy's to 1e-9 relative (per model: counts,
# mean, std_dev, variance, min, max, the scenario-unit interval, the
# within-scenario figures, consistency; per pair: count, mean, variance,
# std_dev, min, max; per scenario: mean variance; the 5 most and least
# variable scenarios); a difference fails the script.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.bash

bench_create_db bench_analysis
bench_has_function analysis_json || { bench_log "skipped: multisample.analysis_json does not exist yet"; exit 0; }

scenarios=1000
models=10
samples=$(bench_scaled 100)
total=$((scenarios * models * samples))
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$BENCH_DB" >/dev/null 2>&1 || true' EXIT

bench_log "loading $scenarios scenarios x $models models x $samples samples = $total scored samples"
bench_psql -v scenarios="$scenarios" -v models="$models" -v samples="$samples" <<'SQL'
SELECT pg_catalog.setseed(0.25);
INSERT INTO multisample.definitions (id, name) VALUES ('bench-def', 'analysis');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'bench-s' || pg_catalog.lpad(i::text, 5, '0'), 'bench-def', 'scenario ' || i,
       pg_catalog.jsonb_build_object('dimensions', pg_catalog.jsonb_build_object('a', i % 7, 'b', i % 3)),
       '2026-01-01'::timestamptz + i * interval '1 second'
  FROM pg_catalog.generate_series(1, :scenarios) AS i;
INSERT INTO multisample.runs (id, definition_id, status, config)
SELECT 'bench-run', 'bench-def', 'COMPLETED',
       pg_catalog.jsonb_build_object(
           'models', (SELECT pg_catalog.jsonb_agg('model-' || m ORDER BY m) FROM pg_catalog.generate_series(1, :models) AS m),
           'samplePercentage', 100, 'samplesPerScenario', :samples, 'priority', 'NORMAL',
           'scoreScale', '{"min": 1, "max": 5}'::jsonb);
INSERT INTO multisample.run_scenario_selections (run_id, scenario_id)
SELECT 'bench-run', id FROM multisample.scenarios WHERE definition_id = 'bench-def';
CREATE TEMP TABLE pairs AS
SELECT s.id AS scenario_id, 'model-' || m AS model_id,
       1 + pg_catalog.random() * 4 AS centre, pg_catalog.random() * 1.5 AS spread
  FROM multisample.scenarios AS s, pg_catalog.generate_series(1, :models) AS m
 WHERE s.definition_id = 'bench-def';
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score, decision_code)
SELECT p.model_id || '/' || p.scenario_id || '/' || k, 'bench-run', p.scenario_id, p.model_id, k,
       LEAST(5, GREATEST(1, p.centre + p.spread * (pg_catalog.random() * 2 - 1))), 'D'
  FROM pairs AS p, pg_catalog.generate_series(0, :samples - 1) AS k;
VACUUM ANALYZE multisample.transcripts;
SQL

ours_sql="SELECT multisample.analysis_json('bench-run')"

# ours: one timed analysis_json in a fresh session (ms on stdout).
ours() {
    bench_psql -o /dev/null -c '\timing on' -c "$ours_sql" | awk '/^Time:/ { print $2 }'
}
# baseline: the numpy script (ms on stdout).
baseline() {
    "$BENCH_PYTHON" ./analysis_numpy.py "$BENCH_DB" bench-run
}

bench_log "warm-up"
ours >/dev/null
baseline >/dev/null
base_times=()
ours_times=()
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    if ((r % 2)); then
        b=$(baseline); o=$(ours)
    else
        o=$(ours); b=$(baseline)
    fi
    bench_log "round $r: numpy $b ms, analysis_json $o ms"
    base_times+=("$b")
    ours_times+=("$o")
done

bench_log "checking every figure against numpy"
bench_psql -A -t -c "$ours_sql" > "$work/doc.json"
if ! verdict=$("$BENCH_PYTHON" ./analysis_numpy.py "$BENCH_DB" bench-run --compare "$work/doc.json" 2>&1); then
    printf '%s\n' "$verdict" | sed 's/^/#   /' >&2
    bench_log "analysis_json and numpy disagree"
    exit 1
fi
printf '%s\n' "$verdict" | sed 's/^/#   /' >&2

bench_psql -c "SET max_parallel_workers_per_gather = 0" \
    -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM multisample.model_variance WHERE run_id = 'bench-run'" >&2 || true

bench_emit "analysis_json vs psycopg2 + numpy, $((total / 1000))k scored samples" \
    "$(printf '%s\n' "${base_times[@]}" | bench_median)" \
    "$(printf '%s\n' "${ours_times[@]}" | bench_median)" ">=10"
