#!/usr/bin/env bash
# Benchmark of the paired_comparison aggregate (SPEC 10, 12.4) on a 10M-row
# table of pairs:
#   paired_comparison(a, b) vs corr(a, b), serial, by the backend's CPU time
#     (see bench_cpu_pair in bench/lib.bash), after checking that the two
#     agree on the correlation (1e-12) and that the mean difference and its
#     standard error agree with avg(a - b) and stddev_samp(a - b) / sqrt(n)
#
#   bin/dev-cluster bench/comparison.sh     (or through bench/run)
# BENCH_ROUNDS timed rounds, interleaved, after a warm-up (default 5);
# BENCH_SCALE scales the row count (default 1: 10M rows).
#
# Output: one TSV line per comparison (medians in ms),
#   comparison  baseline_ms  ours_ms  ratio  target  met
# The pairs sit on an offset (1e6 + uniform scores, b correlated with a), as
# scenario means of a large scale would; the aggregate's work per row does
# not depend on the values.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.bash

rows=$(bench_scaled 10000000)
bench_create_db "ms_bench_comparison_$$"
bench_has_function paired_comparison || { bench_log "multisample.paired_comparison does not exist"; exit 1; }

bench_log "building $rows pairs"
bench_psql >/dev/null <<SQL
SELECT pg_catalog.setseed(0.5);
CREATE TABLE bench_pairs AS
SELECT a, a + random() * 200 - 90 AS b
  FROM (SELECT 1e6 + random() * 1000 AS a FROM pg_catalog.generate_series(1, $rows)) AS g;
VACUUM (FREEZE, ANALYZE) bench_pairs;
SQL

ok=$(bench_value "
    SET max_parallel_workers_per_gather = 0;
    SELECT abs((p).correlation - c) <= 1e-12 * abs(c)
       AND abs((p).mean_difference - m) <= 1e-12 * abs(m)
       AND abs((p).std_error - s) <= 1e-9 * s
       AND (p).pairs = n
      FROM (SELECT multisample.paired_comparison(a, b) AS p, corr(a, b) AS c, avg(a - b) AS m,
                   stddev_samp(a - b) / sqrt(count(*)) AS s, count(*) AS n
              FROM bench_pairs) AS q" | tail -1)
[ "$ok" = t ] || { bench_log "paired_comparison disagrees with corr, avg and stddev_samp"; exit 1; }
bench_log "paired_comparison agrees with corr (1e-12), avg(a - b) (1e-12) and stddev_samp(a - b) / sqrt(n) (1e-9)"

serial="SET max_parallel_workers_per_gather = 0; SET work_mem = '256MB'; SET jit = off"
bench_cpu_pair "paired_comparison vs corr, $(bench_count "$rows") rows (CPU)" "<=1.2" "$serial" \
    "SELECT corr(a, b) FROM bench_pairs" \
    "SELECT multisample.paired_comparison(a, b) FROM bench_pairs"
