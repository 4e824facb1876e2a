#!/usr/bin/env bash
# Benchmark of the aggregates on Citus (SPEC 10, last row): a coordinator and
# two workers (test/lib/citus.sh: Citus 13.2.2 built from ../shared/vendor/
# and cached, nodes on 127.0.0.1 run from a private PostgreSQL tree) with
# the same 10M rows twice on the coordinator: a plain table (one node) and a
# table distributed over 8 shards on the two workers. Reported as the ratio
# Citus time / one-node time, not held to a target:
#   variance_stats(x) on Citus vs one node with 2 parallel workers
#   variance_stats(x) on Citus vs one node serial
#   confidence_interval(x) grouped into 1000 groups, Citus vs one node
#   stddev_samp(x) on Citus vs one node (the built-in's figure, for scale)
# and, with the one-node target of SPEC 10 as the bench's own bound:
#   variance_stats(x) vs stddev_samp(x), both on Citus: <= 1.15
#
# Before timing it checks that EXPLAIN shows the partial aggregation pushed
# down (worker_partial_agg on the shards, coord_combine_agg on the
# coordinator) and that Citus and the plain table give the same
# variance_stats and grouped confidence_interval to 1e-12 relative; it fails
# (exit 1) otherwise. Without Citus it prints one informational line saying
# so.
#
#   bin/dev-cluster bench/citus.sh     (or bench/run citus)
# BENCH_ROUNDS timed rounds, interleaved, after a warm-up (default 5);
# BENCH_SCALE scales the row count (default 1: 10M rows).
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/common.sh
. test/lib/citus.sh
. bench/lib.bash

bench_citus
rows=$(bench_scaled 10000000)
groups=1000

# The bench cluster's measurement settings, per node (3 nodes share the machine).
CITUS_NODE_SETTINGS="shared_buffers = 1GB
work_mem = 256MB
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
jit = off
max_wal_size = 8GB
checkpoint_timeout = 30min"
bench_log "starting a Citus coordinator and two workers"
citus_cluster_start
BENCH_DB=ms_bench_citus
citus_create_db "$BENCH_DB"
export PGHOST=127.0.0.1 PGPORT=$CITUS_COORD_PORT PGUSER=postgres
unset PGPASSWORD PGDATABASE
bench_psql -c 'CREATE EXTENSION multisample'

bench_log "building $rows rows in $groups groups, plain and distributed"
bench_psql <<SQL
SET client_min_messages = warning;
CREATE TABLE agg_local AS
SELECT g AS k, (g % $groups)::integer AS grp, 1e6 + random() * 1000 AS x
  FROM pg_catalog.generate_series(1, $rows) AS g;
ALTER TABLE agg_local SET (parallel_workers = 2);
CREATE TABLE agg_dist AS SELECT * FROM agg_local;
DO \$\$
BEGIN
    PERFORM create_distributed_table('agg_dist', 'k');
    PERFORM truncate_local_data_after_distributing_table('agg_dist');
END
\$\$;
VACUUM (FREEZE, ANALYZE) agg_local;
VACUUM (FREEZE, ANALYZE) agg_dist;
SQL

plan=$(bench_value "EXPLAIN (VERBOSE, COSTS OFF) SELECT grp, multisample.variance_stats(x) FROM agg_dist GROUP BY grp")
if ! grep -q worker_partial_agg <<< "$plan" || ! grep -q coord_combine_agg <<< "$plan"; then
    bench_log "variance_stats is not pushed down as a partial aggregate:"
    printf '%s\n' "$plan" | sed 's/^/#   /' >&2
    exit 1
fi
bench_log "EXPLAIN: worker_partial_agg on the shards, coord_combine_agg on the coordinator"

# Same figures to 1e-12 relative (the summation order differs by shard).
same=$(bench_value "
    WITH l AS (SELECT multisample.variance_stats(x) AS v FROM agg_local),
         d AS (SELECT multisample.variance_stats(x) AS v FROM agg_dist),
         lg AS (SELECT grp, multisample.confidence_interval(x) AS ci FROM agg_local GROUP BY grp),
         dg AS (SELECT grp, multisample.confidence_interval(x) AS ci FROM agg_dist GROUP BY grp)
    SELECT (l.v).sample_count = (d.v).sample_count
           AND abs((l.v).mean - (d.v).mean) <= 1e-12 * abs((l.v).mean)
           AND abs((l.v).variance - (d.v).variance) <= 1e-12 * abs((l.v).variance)
           AND (l.v).min = (d.v).min AND (l.v).max = (d.v).max
           AND (SELECT count(*) FROM lg JOIN dg USING (grp)
                 WHERE (lg.ci).sample_count = (dg.ci).sample_count
                   AND abs((lg.ci).lower - (dg.ci).lower) <= 1e-12 * abs((lg.ci).lower)
                   AND abs((lg.ci).upper - (dg.ci).upper) <= 1e-12 * abs((lg.ci).upper)) = $groups
      FROM l, d")
if [ "$same" != t ]; then
    bench_log "Citus and one node disagree beyond 1e-12 relative"
    exit 1
fi
bench_log "same result to 1e-12: variance_stats, and confidence_interval in $groups groups"

n=$(bench_count "$rows")
parallel="SET max_parallel_workers_per_gather = 2"
serial="SET max_parallel_workers_per_gather = 0"
bench_time_pair "variance_stats, $n rows: Citus (8 shards, 2 workers) vs one node, 2 parallel workers" "<=1" "$parallel" \
    "SELECT multisample.variance_stats(x) FROM agg_local" \
    "SELECT multisample.variance_stats(x) FROM agg_dist" info
bench_time_pair "variance_stats, $n rows: Citus vs one node, serial" "<=1" "$serial" \
    "SELECT multisample.variance_stats(x) FROM agg_local" \
    "SELECT multisample.variance_stats(x) FROM agg_dist" info
bench_time_pair "confidence_interval, $groups groups: Citus vs one node, 2 parallel workers" "<=1" "$parallel" \
    "SELECT count(ci) FROM (SELECT multisample.confidence_interval(x) AS ci FROM agg_local GROUP BY grp) AS s" \
    "SELECT count(ci) FROM (SELECT multisample.confidence_interval(x) AS ci FROM agg_dist GROUP BY grp) AS s" info
bench_time_pair "stddev_samp (built-in), $n rows: Citus vs one node, 2 parallel workers" "<=1" "$parallel" \
    "SELECT stddev_samp(x) FROM agg_local" \
    "SELECT stddev_samp(x) FROM agg_dist" info
bench_time_pair "variance_stats vs stddev_samp, both on Citus" "<=1.15" "" \
    "SELECT stddev_samp(x) FROM agg_dist" \
    "SELECT multisample.variance_stats(x) FROM agg_dist"
