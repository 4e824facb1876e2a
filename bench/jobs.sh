#!/usr/bin/env bash
# Benchmark of expand_run_jobs (SPEC 10): 1M jobs against the plain-SQL
# cross join of the same ids, and the backend's peak memory for 10M jobs.
#   bin/dev-cluster bench/jobs.sh      (or through bench/run)
# BENCH_ROUNDS timed rounds (default 7), BENCH_SCALE scales the number of
# scenarios (default 1: 1000 scenarios x 10 models x 100 samples = 1M jobs).
#
# Output: one TSV line per comparison,
#   comparison  baseline_ms  ours_ms  ratio  target  met
# with medians over the interleaved rounds (after one warm-up round); the
# informational comparisons have "-" as target and met. Then one TSV line per
# memory measurement,
#   memory  form  jobs  peak_rss_kB
#
# The baseline that produces the same rows in the same order is
#   SELECT s.id, m.id, i
#     FROM unnest(models) WITH ORDINALITY m (id, mo),
#          unnest(selected) WITH ORDINALITY s (id, so),
#          generate_series(0, n - 1) i
#    ORDER BY mo, so, i
# (without ORDER BY the planner picks the nesting, and on this data it puts
# the scenarios outermost: not the job order). That is the target
# comparison. The cross join without ORDER BY is reported too, marked
# informational: it yields the same rows in another order, and PostgreSQL
# streams a nested loop while it collects a FROM-clause SRF's rows in a
# tuplestore (work_mem, then a temporary file) before reading them.
# Every query reads all three columns (count(col) of each) so that both sides
# produce them; the client only receives one row.
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_bench_jobs_$$"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -X -q -d "$db" -c 'CREATE EXTENSION multisample'

PGDATABASE="$db" ROUNDS="${BENCH_ROUNDS:-7}" SCALE="${BENCH_SCALE:-1}" /usr/bin/python3 - <<'PY'
import os, statistics, time
import psycopg2

rounds = int(os.environ["ROUNDS"])
n_scen = max(1, round(1000 * float(os.environ["SCALE"])))
jobs = n_scen * 10 * 100
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()

def ids(prefix, n):
    return [f"{prefix}-{i:05d}" for i in range(n)]

models = ids("model", 10)
all_scenarios = ids("scenario", n_scen)
pool = ids("scenario", 2 * n_scen)
cur.execute("SELECT multisample.select_scenarios(%s, 50, 'bench-def')", (pool,))
half = cur.fetchone()[0]
assert len(half) == n_scen

CONSUME = "SELECT count(scenario_id), count(model_id), count(sample_index) FROM ({}) AS q"
def ours_from(scen, pct):
    return CONSUME.format(cur.mogrify(
        "SELECT scenario_id, model_id, sample_index FROM multisample.expand_run_jobs(%s, %s, 100, %s, NULL, 'bench-def')",
        (scen, models, pct)).decode())
def ours_list(scen, pct):
    return CONSUME.format(cur.mogrify(
        "SELECT (j).scenario_id, (j).model_id, (j).sample_index FROM (SELECT multisample.expand_run_jobs(%s, %s, 100, %s, NULL, 'bench-def') AS j) AS x",
        (scen, models, pct)).decode())
def cross(selected, ordered):
    q = cur.mogrify(
        "SELECT s.id AS scenario_id, m.id AS model_id, i AS sample_index"
        "  FROM unnest(%s::text[]) WITH ORDINALITY AS m (id, mo),"
        "       unnest(%s::text[]) WITH ORDINALITY AS s (id, so),"
        "       generate_series(0, 99) AS i", (models, selected)).decode()
    return CONSUME.format(q + (" ORDER BY mo, so, i" if ordered else ""))

queries = {
    "ours_from": ours_from(all_scenarios, 100),
    "ours_list": ours_list(all_scenarios, 100),
    "ours_from_half": ours_from(pool, 50),
    "cross_ordered": cross(all_scenarios, True),
    "cross_ordered_half": cross(half, True),
    "cross_unordered": cross(all_scenarios, False),
}

# Same rows in the same order, checked once before timing.
cur.execute("""SELECT count(*) FROM (
    SELECT row_number() OVER () AS k, * FROM multisample.expand_run_jobs(%s, %s, 100)) AS o
  FULL JOIN (
    SELECT row_number() OVER (ORDER BY mo, so, i) AS k, s.id AS scenario_id, m.id AS model_id, i AS sample_index
      FROM unnest(%s::text[]) WITH ORDINALITY AS m (id, mo), unnest(%s::text[]) WITH ORDINALITY AS s (id, so),
           generate_series(0, 99) AS i) AS b USING (k)
  WHERE o.scenario_id IS DISTINCT FROM b.scenario_id OR o.model_id IS DISTINCT FROM b.model_id
     OR o.sample_index IS DISTINCT FROM b.sample_index""", (all_scenarios[:50], models, models, all_scenarios[:50]))
assert cur.fetchone()[0] == 0, "expand_run_jobs and the ordered cross join differ"

times = {k: [] for k in queries}
for r in range(rounds + 1):
    for name, q in queries.items():
        t0 = time.perf_counter()
        cur.execute(q)
        row = cur.fetchone()
        ms = (time.perf_counter() - t0) * 1000
        assert row == (jobs, jobs, jobs), (name, row)
        if r > 0:
            times[name].append(ms)
med = {k: statistics.median(v) for k, v in times.items()}

def line(label, base, ours, target):
    ratio = med[ours] / med[base]
    met = "-" if target is None else ("yes" if ratio <= target else "no")
    print(f"{label}\t{med[base]:.1f}\t{med[ours]:.1f}\t{ratio:.3f}\t{'-' if target is None else f'<={target:.1f}'}\t{met}")

print("comparison\tbaseline_ms\tours_ms\tratio\ttarget\tmet")
line(f"expand_run_jobs (FROM) vs cross join ORDER BY ordinality, {jobs // 1000}k jobs", "cross_ordered", "ours_from", 1.0)
line(f"expand_run_jobs (SELECT list) vs cross join ORDER BY ordinality, {jobs // 1000}k jobs", "cross_ordered", "ours_list", 1.0)
line(f"expand_run_jobs 50% of {2 * n_scen} ids (selection included) vs cross join ORDER BY of the selected ids, {jobs // 1000}k jobs", "cross_ordered_half", "ours_from_half", 1.0)
line(f"informational: expand_run_jobs (FROM) vs cross join without ORDER BY (other row order), {jobs // 1000}k jobs", "cross_unordered", "ours_from", None)
line(f"informational: expand_run_jobs (SELECT list) vs cross join without ORDER BY (other row order), {jobs // 1000}k jobs", "cross_unordered", "ours_list", None)

# Peak resident memory of a fresh backend after 10M jobs, for each form,
# with the server's settings and with JIT off: the planner knows the job
# count, so a 10M-job query crosses jit_above_cost, and loading LLVM adds
# some 50 MB to the backend once, whatever the row count.
def peak_after(query, jit):
    c = psycopg2.connect("")
    k = c.cursor()
    if not jit:
        k.execute("SET jit = off")
    k.execute("SELECT pg_backend_pid()")
    pid = k.fetchone()[0]
    k.execute(query)
    assert k.fetchone()[0] == 10000000
    with open(f"/proc/{pid}/status") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    c.close()
    return kb

ten = ids("scenario", 10000)
print("memory\tform\tjobs\tpeak_rss_kB")
for jit in (True, False):
    note = "" if jit else ", jit off"
    print(f"memory\tFROM clause{note}\t10000000\t{peak_after(ours_from(ten, 100), jit)}")
    print(f"memory\tSELECT list{note}\t10000000\t{peak_after(ours_list(ten, 100), jit)}")
    print(f"memory\tcross join ORDER BY (baseline){note}\t10000000\t{peak_after(cross(ten, True), jit)}")
PY
