#!/usr/bin/env bash
# Benchmark of the statistics aggregates (SPEC 10) on a 10M-row table:
#   variance_stats(x) vs count, avg, stddev_samp, min, max of x in one query
#   variance_stats(x) vs stddev_samp(x) alone
#   confidence_interval(x) vs stddev_samp(x), over the table and grouped
#     into 100k groups
#   variance_stats(x) with 2 parallel workers vs none (a speed-up), after
#     checking that both plans give the same result to 1e-12 relative
#
#   bin/dev-cluster bench/statistics.sh     (or through bench/run)
# BENCH_ROUNDS timed rounds, interleaved, after a warm-up (default 5);
# BENCH_SCALE scales the row count (default 1: 10M rows).
#
# Output: one TSV line per comparison (medians in ms),
#   comparison  baseline_ms  ours_ms  ratio  target  met
# Progress and the individual timings go to stderr.
# The serial comparisons run with max_parallel_workers_per_gather = 0 and
# are timed by the CPU time the backend spent on the query (utime + stime
# from /proc/self/stat, read with pg_read_file: superuser), not by the wall
# clock, so that other load on a shared machine does not decide the ratio.
# Grouped queries feed every aggregate result to count() so the planner
# cannot drop it, and work_mem is large enough that no hash aggregate
# spills. The parallel speed-up is wall-clock time, the only meaningful one.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.bash

rows=$(bench_scaled 10000000)
groups=$(bench_scaled 100000)
bench_create_db "ms_bench_stats_$$"

bench_log "building $rows rows in $groups groups"
bench_psql <<SQL
CREATE TABLE bench_stats AS
SELECT (g % $groups)::integer AS grp, 1e6 + random() * 1000 AS x
  FROM pg_catalog.generate_series(1, $rows) AS g;
ALTER TABLE bench_stats SET (parallel_workers = 2);
VACUUM (FREEZE, ANALYZE) bench_stats;
SQL

serial="SET max_parallel_workers_per_gather = 0; SET work_mem = '256MB'; SET jit = off"

bench_cpu_pair "variance_stats vs count+avg+stddev_samp+min+max (CPU)" "<=1.0" "$serial" \
    "SELECT count(x), avg(x), stddev_samp(x), min(x), max(x) FROM bench_stats" \
    "SELECT multisample.variance_stats(x) FROM bench_stats"
bench_cpu_pair "variance_stats vs stddev_samp (CPU)" "<=1.15" "$serial" \
    "SELECT stddev_samp(x) FROM bench_stats" \
    "SELECT multisample.variance_stats(x) FROM bench_stats"
bench_cpu_pair "confidence_interval vs stddev_samp (CPU)" "<=1.15" "$serial" \
    "SELECT stddev_samp(x) FROM bench_stats" \
    "SELECT multisample.confidence_interval(x) FROM bench_stats"
bench_cpu_pair "confidence_interval vs stddev_samp, $groups groups (CPU)" "<=1.15" "$serial" \
    "SELECT count(s) FROM (SELECT grp, stddev_samp(x) AS s FROM bench_stats GROUP BY grp) AS q" \
    "SELECT count(c) FROM (SELECT grp, multisample.confidence_interval(x) AS c FROM bench_stats GROUP BY grp) AS q"

# Two workers against none: first the plans and the same result.
none="SET max_parallel_workers_per_gather = 0; SET jit = off"
two="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET parallel_leader_participation = off; SET jit = off"
query="SELECT multisample.variance_stats(x) FROM bench_stats"
plan=$(printf '%s;\nEXPLAIN (COSTS OFF) %s;\n' "$two" "$query" | bench_psql -A -t)
printf '%s\n' "$plan" | sed 's/^/#   /' >&2
printf '%s\n' "$plan" | grep -q 'Partial Aggregate' || { bench_log "no parallel plan"; exit 1; }
same=$(bench_value "
    WITH a AS (SELECT (s).* FROM (SELECT '$(printf '%s;\n%s' "$none" "$query" | bench_psql -A -t | tail -1)'::multisample.variance_stats AS s) q),
         b AS (SELECT (s).* FROM (SELECT '$(printf '%s;\n%s' "$two" "$query" | bench_psql -A -t | tail -1)'::multisample.variance_stats AS s) q)
    SELECT a.sample_count = b.sample_count AND a.min = b.min AND a.max = b.max
       AND abs(a.mean - b.mean) <= 1e-12 * abs(a.mean)
       AND abs(a.variance - b.variance) <= 1e-12 * a.variance
      FROM a, b")
[ "$same" = t ] || { bench_log "parallel and serial results differ"; exit 1; }
bench_log "parallel and serial results agree to 1e-12"

# bench_time_pair times SET commands too; here each side has its own
# settings, so they are applied with timing off. Same interleaving (AB, BA
# ...) after one untimed warm-up of each.
script=$(mktemp)
{
    printf '\\o /dev/null\n%s;\n%s;\n%s;\n%s;\n' "$none" "$query" "$two" "$query"
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        for side in $( ((r % 2)) && echo base ours || echo ours base); do
            settings=$([ "$side" = base ] && echo "$none" || echo "$two")
            printf '\\timing off\n%s;\n\\echo @%s\n\\timing on\n%s;\n' "$settings" "$side" "$query"
        done
    done
} > "$script"
bench_log "timing: variance_stats, 2 workers vs none ($BENCH_ROUNDS rounds)"
times=$(bench_psql -f "$script")
rm -f "$script"
printf '%s\n' "$times" | awk '/^@/ { k = $1 } /^Time:/ { print k, $2 }' | sed 's/^/#   /' >&2
base=$(printf '%s\n' "$times" | awk '/^@/ { k = $1 } /^Time:/ && k == "@base" { print $2 }' | bench_median)
ours=$(printf '%s\n' "$times" | awk '/^@/ { k = $1 } /^Time:/ && k == "@ours" { print $2 }' | bench_median)
bench_emit "variance_stats, 2 parallel workers vs none (speed-up)" "$base" "$ours" ">=1.6"
