#!/usr/bin/env bash
# Peak backend memory (SPEC 4.2: expand_run_jobs streams in constant memory;
# SPEC 5: the float8[] state of the aggregates). The figure is the highest
# RssAnon of the backend (its private memory, not the shared buffers it maps)
# while the query runs, sampled every millisecond by bench/peak_memory.py.
#
#   expand_run_jobs 10M jobs vs 100k jobs, called in the select list (the
#     executor streams value-per-call rows there): target <= 1.10, i.e. the
#     peak does not grow with the number of jobs.
#   the same in FROM (the executor itself collects a FROM-clause function's
#     rows in a tuplestore, bounded by work_mem and then spilled): reported,
#     target <= the 100k peak + work_mem is implied; we print it against the
#     select-list figure for information.
#   variance_stats(x) vs stddev_samp(x) grouped into 1M groups (hash
#     aggregate, all in memory): our per-group state against PostgreSQL's own
#     float8[3]; target <= 1.50 (bench's own bound, SPEC gives none).
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.bash

bench_create_db bench_memory
python=$BENCH_PYTHON

# peak SETUP WARMUP QUERY: prints "peak_kB before_kB rows".
peak() {
    "$python" ./peak_memory.py "$BENCH_DB" "$1" "$2" "$3"
}

# mib KB: kilobytes as MiB with one decimal.
mib() {
    awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

setup="SET max_parallel_workers_per_gather = 0"

if bench_has_function expand_run_jobs; then
    scen=$(bench_scaled 1000)
    ids="(SELECT pg_catalog.array_agg('scenario-' || i) FROM pg_catalog.generate_series(1, $scen) AS i)"
    models_small="ARRAY['model-1']"
    models_big="(SELECT pg_catalog.array_agg('model-' || i) FROM pg_catalog.generate_series(1, 100) AS i)"
    warmup="SELECT count(*) FROM multisample.expand_run_jobs(ARRAY['a'], ARRAY['m'], 1)"
    select_list() { echo "SELECT count(*) FROM (SELECT multisample.expand_run_jobs($ids, $1, 100)) AS j"; }
    from_clause() { echo "SELECT count(*) FROM multisample.expand_run_jobs($ids, $1, 100) AS j"; }

    bench_log "expand_run_jobs: select list, $((scen * 100)) and $((scen * 10000)) jobs"
    read -r small_peak small_before small_rows < <(peak "$setup" "$warmup" "$(select_list "$models_small")")
    read -r big_peak big_before big_rows < <(peak "$setup" "$warmup" "$(select_list "$models_big")")
    bench_log "  small: $small_rows rows, RssAnon $small_before kB before, peak $small_peak kB"
    bench_log "  big:   $big_rows rows, RssAnon $big_before kB before, peak $big_peak kB"
    [ "$small_rows" -eq $((scen * 100)) ] && [ "$big_rows" -eq $((scen * 10000)) ] || {
        bench_log "wrong row counts"; exit 1; }
    bench_emit "memory MiB: expand_run_jobs $((scen * 10000 / 1000000))M vs $((scen * 100 / 1000))k jobs (select list)" \
        "$(mib "$small_peak")" "$(mib "$big_peak")" "<=1.10"

    bench_log "expand_run_jobs: FROM clause, $((scen * 10000)) jobs"
    read -r from_peak from_before from_rows < <(peak "$setup" "$warmup" "$(from_clause "$models_big")")
    bench_log "  FROM:  $from_rows rows, RssAnon $from_before kB before, peak $from_peak kB (work_mem $(bench_value 'SHOW work_mem'))"
    [ "$from_rows" -eq $((scen * 10000)) ] || { bench_log "wrong row count"; exit 1; }
else
    bench_log "skipped expand_run_jobs: multisample.expand_run_jobs does not exist yet"
fi

if bench_has_function variance_stats; then
    rows=$(bench_scaled 10000000)
    groups=$(bench_scaled 1000000)
    bench_log "loading $rows rows in $groups groups"
    bench_psql <<SQL
CREATE TABLE mem_data (g integer NOT NULL, x float8 NOT NULL);
INSERT INTO mem_data SELECT i % $groups, pg_catalog.random() * 4 + 1 FROM pg_catalog.generate_series(1, $rows) AS i;
VACUUM ANALYZE mem_data;
SQL
    grouped() { echo "SELECT count(s) FROM (SELECT g, $1(x) AS s FROM mem_data GROUP BY g) AS q"; }
    warmup="SELECT count(*) FROM (SELECT multisample.variance_stats(x), pg_catalog.stddev_samp(x) FROM mem_data WHERE g < 10 GROUP BY g) AS w"
    # No spilling: the whole hash table must fit, or the peak means nothing.
    gsetup="$setup; SET work_mem = '1GB'; SET enable_sort = off"
    bench_psql -c "$gsetup" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $(grouped multisample.variance_stats)" >&2
    bench_psql -c "$gsetup" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $(grouped pg_catalog.stddev_samp)" >&2
    read -r base_peak base_before base_rows < <(peak "$gsetup" "$warmup" "$(grouped pg_catalog.stddev_samp)")
    read -r ours_peak ours_before ours_rows < <(peak "$gsetup" "$warmup" "$(grouped multisample.variance_stats)")
    bench_log "  stddev_samp:    $base_rows groups, RssAnon $base_before kB before, peak $base_peak kB"
    bench_log "  variance_stats: $ours_rows groups, RssAnon $ours_before kB before, peak $ours_peak kB"
    [ "$base_rows" -eq "$groups" ] && [ "$ours_rows" -eq "$groups" ] || { bench_log "wrong group counts"; exit 1; }
    bench_emit "memory MiB: variance_stats vs stddev_samp, $((groups / 1000))k groups" \
        "$(mib "$base_peak")" "$(mib "$ours_peak")" "<=1.50"
else
    bench_log "skipped variance_stats: multisample.variance_stats does not exist yet"
fi
