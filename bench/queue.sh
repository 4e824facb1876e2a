#!/usr/bin/env bash
# Benchmark of starting a run (SPEC section 10), in a cluster environment:
#   bin/dev-cluster bench/queue.sh      (or through bench/run)
#
# start_run of 100 scenarios x 10 models x 100 samples (100,000 jobs: the run,
# its selections, the cost estimate and the jobs, in one statement) against
# the floor of SPEC 10: a plain INSERT ... SELECT of the same job rows into a
# copy of probe_jobs with its columns, defaults, CHECKs and indexes but no
# triggers and no foreign keys (CREATE TABLE ... (LIKE ... INCLUDING ALL)).
# Each timing includes the commit. BENCH_ROUNDS rounds (default 5) after one
# warm-up of each, alternating which goes first, the tables emptied and
# vacuumed between timings; medians. BENCH_SCALE scales the number of samples
# (the target is stated for 1). Target: start_run <= 2.0x the floor.
#
# Output (stdout), as every bench/*.sh:
#   comparison <TAB> baseline_ms <TAB> ours_ms <TAB> ratio <TAB> target <TAB> met
# The claim + complete throughput of 8 workers is bench/throughput.sh.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.bash

samples=$(bench_scaled 100)
bench_create_db "ms_bench_queue_$$"
export PGDATABASE="$BENCH_DB"
bench_log "setup: 100 scenarios x 10 models x $samples samples = $((1000 * samples)) jobs"
bench_psql >/dev/null <<'SQL'
INSERT INTO multisample.definitions (id, name) VALUES ('bench-def', 'bench');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'bench-s' || lpad(i::text, 3, '0'), 'bench-def', 'scenario ' || i, jsonb_build_object('prompt', 'p' || i),
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 100) AS i;
INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million)
SELECT 'bench-m' || i, 1, 5 FROM generate_series(1, 10) AS i;
-- The floor: probe_jobs' columns, defaults, CHECKs and indexes; no trigger,
-- no foreign key, no row-level security.
CREATE TABLE floor_jobs (LIKE multisample.probe_jobs INCLUDING ALL);
SQL

"$BENCH_PYTHON" - "$BENCH_ROUNDS" "$samples" <<'PY'
import statistics
import sys
import time

import psycopg2

rounds, samples = int(sys.argv[1]), int(sys.argv[2])
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
models = ["bench-m%d" % i for i in range(1, 11)]
cur.execute("SELECT array_agg(id ORDER BY created_at, id) FROM multisample.scenarios WHERE definition_id = 'bench-def'")
scenarios = cur.fetchone()[0]

def timed(sql, args):
    start = time.perf_counter()
    cur.execute(sql, args)
    return (time.perf_counter() - start) * 1000.0

def baseline(run_id):
    return timed("""
        INSERT INTO floor_jobs (run_id, scenario_id, model_id, sample_index, priority, queue_order, max_attempts)
        SELECT %s, s.id, m.id, g.i, 1, g.i::bigint * 1000 + (m.ord - 1) * 100 + (s.ord - 1), 3
          FROM unnest(%s::text[]) WITH ORDINALITY AS m(id, ord),
               unnest(%s::text[]) WITH ORDINALITY AS s(id, ord),
               generate_series(0, %s - 1) AS g(i)""", (run_id, models, scenarios, samples))

def ours(run_id):
    return timed("SELECT job_count FROM multisample.start_run('bench-def', %s, %s, id => %s)", (models, samples, run_id))

def reset():
    cur.execute("DELETE FROM multisample.runs")
    cur.execute("DELETE FROM floor_jobs")
    cur.execute("VACUUM ANALYZE floor_jobs")
    cur.execute("VACUUM ANALYZE multisample.probe_jobs")
    cur.execute("VACUUM ANALYZE multisample.run_scenario_selections")
    cur.execute("CHECKPOINT")

# One warm-up of each (caches, plans), then the measured rounds.
baseline("warm-base"); ours("warm-ours"); reset()
base_ms, ours_ms = [], []
for r in range(rounds):
    if r % 2 == 0:
        base_ms.append(baseline("base-%d" % r)); reset()
        ours_ms.append(ours("ours-%d" % r)); reset()
    else:
        ours_ms.append(ours("ours-%d" % r)); reset()
        base_ms.append(baseline("base-%d" % r)); reset()
# Both sides write the same rows: compare them (job order included).
cur.execute("SELECT count(*) FROM multisample.start_run('bench-def', %s, %s, id => 'check-ours')", (models, samples))
baseline("check-base")
cur.execute("""SELECT count(*), count(*) FILTER (WHERE o.queue_order IS DISTINCT FROM b.queue_order
                                                 OR o.priority IS DISTINCT FROM b.priority
                                                 OR o.state IS DISTINCT FROM b.state)
                 FROM (SELECT * FROM multisample.probe_jobs WHERE run_id = 'check-ours') AS o
                 FULL JOIN (SELECT * FROM floor_jobs WHERE run_id = 'check-base') AS b
                   USING (scenario_id, model_id, sample_index)""")
n, differ = cur.fetchone()
assert n == 1000 * samples and differ == 0, "start_run and the baseline must write the same %d jobs (got %d, %d differ)" % (1000 * samples, n, differ)
print("# same rows: %d jobs, 0 differ" % n, file=sys.stderr)
reset()
b, o = statistics.median(base_ms), statistics.median(ours_ms)
ratio = o / b
print("start_run 100x10x%d vs INSERT ... SELECT of its jobs into a copy without triggers or foreign keys\t%.1f\t%.1f\t%.3f\t<=2.0\t%s"
      % (samples, b, o, ratio, "yes" if ratio <= 2.0 else "no"))
print("# rounds: baseline %s; start_run %s" % (
    " ".join("%.0f" % x for x in base_ms), " ".join("%.0f" % x for x in ours_ms)), file=sys.stderr)
PY
