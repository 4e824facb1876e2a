#!/usr/bin/env bash
# Benchmark of the run/queue area (SPEC section 10), inside a cluster env:
#   bin/dev-cluster bench/queue.sh
#
# 1. start_run of 100 scenarios x 10 models x 100 samples (100,000 jobs)
#    against a plain INSERT ... SELECT of the same job rows into probe_jobs
#    (same columns and values, same indexes, foreign keys and triggers), the
#    median of ROUNDS rounds each, alternating which one goes first. Target:
#    start_run <= 1.5x the INSERT.
# 2. claim + complete throughput of 8 concurrent workers (pgbench, one job
#    per transaction pair), reported in jobs/s, then checked: no job lost or
#    done twice.
#
# Prints TSV: comparison, baseline_ms, ours_ms, ratio, target, met; and
# throughput lines: throughput, workers, jobs, seconds, jobs_per_s, check.
set -euo pipefail
cd "$(dirname "$0")"

rounds=${ROUNDS:-5}
db="ms_bench_queue_$$"
export PGDATABASE="$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -f "$tmp_script"' EXIT
tmp_script=$(mktemp)
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

createdb "$db"
q >/dev/null <<'SQL'
CREATE EXTENSION multisample;
INSERT INTO multisample.definitions (id, name) VALUES ('bench-def', 'bench');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'bench-s' || lpad(i::text, 3, '0'), 'bench-def', 'scenario ' || i, jsonb_build_object('prompt', 'p' || i),
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 100) AS i;
INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million)
SELECT 'bench-m' || i, 1, 5 FROM generate_series(1, 10) AS i;
SQL

/usr/bin/python3 - "$rounds" <<'PY'
import statistics
import sys
import time

import psycopg2

rounds = int(sys.argv[1])
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
    # The run and its selections exist first (the jobs reference them); only
    # the INSERT ... SELECT of the job rows is timed.
    cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES (%s, 'bench-def', '{}')", (run_id,))
    cur.execute("INSERT INTO multisample.run_scenario_selections SELECT %s, unnest(%s::text[])", (run_id, scenarios))
    return timed("""
        INSERT INTO multisample.probe_jobs (run_id, scenario_id, model_id, sample_index, priority, queue_order, max_attempts)
        SELECT %s, s.id, m.id, g.i, 1, g.i::bigint * 1000 + (m.ord - 1) * 100 + (s.ord - 1), 3
          FROM unnest(%s::text[]) WITH ORDINALITY AS m(id, ord),
               unnest(%s::text[]) WITH ORDINALITY AS s(id, ord),
               generate_series(0, 99) AS g(i)""", (run_id, models, scenarios))

def ours(run_id):
    return timed("SELECT job_count FROM multisample.start_run('bench-def', %s, 100, id => %s)", (models, run_id))

def reset():
    cur.execute("DELETE FROM multisample.runs")
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
cur.execute("SELECT count(*) FROM multisample.start_run('bench-def', %s, 100, id => 'check')", (models,))
cur.execute("SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'check'")
assert cur.fetchone()[0] == 100000, "start_run must create 100,000 jobs"
reset()
b, o = statistics.median(base_ms), statistics.median(ours_ms)
ratio = o / b
print("comparison\tbaseline_ms\tours_ms\tratio\ttarget\tmet")
print("start_run 100x10x100 vs INSERT SELECT\t%.1f\t%.1f\t%.2f\t<= 1.5\t%s" % (b, o, ratio, "yes" if ratio <= 1.5 else "no"))
print("# rounds: baseline %s; start_run %s" % (
    " ".join("%.0f" % x for x in base_ms), " ".join("%.0f" % x for x in ours_ms)), file=sys.stderr)
PY

# Claim + complete throughput, 8 workers: a run of 40,000 jobs in a fresh
# database (not one that has just had a million rows inserted and deleted);
# each pgbench transaction claims one job and completes it.
dropdb "$db"
createdb "$db"
q >/dev/null <<'SQL'
CREATE EXTENSION multisample;
INSERT INTO multisample.definitions (id, name) VALUES ('bench-def', 'bench');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'bench-s' || lpad(i::text, 3, '0'), 'bench-def', 'scenario ' || i, jsonb_build_object('prompt', 'p' || i),
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 100) AS i;
INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million)
SELECT 'bench-m' || i, 1, 5 FROM generate_series(1, 10) AS i;
SQL
q -c "SELECT job_count FROM multisample.start_run('bench-def', ARRAY(SELECT 'bench-m' || i FROM generate_series(1, 4) AS i), 100, id => 'tp')" >/dev/null
cat > "$tmp_script" <<'PGB'
SELECT run_id, scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('w' || :client_id, 1) \gset
SELECT outcome FROM multisample.complete_probe_job(':run_id', ':scenario_id', ':model_id', :sample_index, 'w' || :client_id, '{"turns": []}', score => 3, input_tokens => 100, output_tokens => 900, attempt => :attempt)
PGB
seconds=${THROUGHPUT_SECONDS:-10}
pgbench -n -c 8 -j 8 -T "$seconds" -f "$tmp_script" > "$tmp_script.out" 2>&1 || { cat "$tmp_script.out" >&2; exit 1; }
done_jobs=$(q -c "SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'tp' AND state = 'COMPLETED'")
check=$(q -c "SELECT CASE WHEN (SELECT count(*) FROM multisample.transcripts WHERE run_id = 'tp') = $done_jobs
                          AND (SELECT count(*) FROM multisample.probe_results WHERE run_id = 'tp') = $done_jobs
                          AND (SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'tp') = 40000
                          AND NOT EXISTS (SELECT 1 FROM multisample.probe_jobs WHERE run_id = 'tp' AND attempts > 1)
                     THEN 'no job lost or done twice' ELSE 'MISMATCH' END")
printf 'throughput\tworkers\tjobs\tseconds\tjobs_per_s\tcheck\n'
printf 'claim+complete\t8\t%s\t%s\t%s\t%s\n' "$done_jobs" "$seconds" "$((done_jobs / seconds))" "$check"
