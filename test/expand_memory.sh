#!/usr/bin/env bash
# expand_run_jobs streams: pushing 10 million jobs through it leaves the
# backend's memory where 1 million left it.
#
# What is measured: the backend's peak resident set (VmHWM in
# /proc/<pid>/status) after a 1M-job warm-up and again after 10M jobs, in
# one session, for both ways of calling the function:
#   - FROM clause: PostgreSQL collects a FROM-clause SRF's rows in a
#     tuplestore, which keeps at most work_mem in memory and spills the rest
#     to a temporary file; so the peak is bounded by work_mem plus the
#     function's own per-call state, whatever the row count.
#   - SELECT list: ProjectSet takes one row per call and passes it on; no
#     tuplestore, nothing is kept.
# A function that leaked even a few bytes per row (a tuple, a text copy)
# would add tens of MB between 1M and 10M jobs; the bound below is 4 MB.
# A first check shows that the probe does see growth when there is some.
# MULTISAMPLE_LONG=1 also pushes 100M jobs through the SELECT-list form.
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_expand_memory_$$"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -X -q -d "$db" -c 'CREATE EXTENSION multisample'

PGDATABASE="$db" /usr/bin/python3 - <<'PY'
import os, sys
import psycopg2

BOUND_KB = 4 * 1024
status = 0

def report(ok, text):
    global status
    print(("ok - " if ok else "not ok - ") + text)
    status |= 0 if ok else 1

def session():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    # The planner knows the job count, so only the 10M query would cross
    # jit_above_cost and load LLVM (some 50 MB, once per backend, whatever
    # the row count). JIT every query alike, so that 1M and 10M compare
    # like with like.
    cur.execute("SET jit_above_cost = 0; SET jit_optimize_above_cost = 0; SET jit_inline_above_cost = 0")
    cur.execute("SELECT pg_backend_pid()")
    return conn, cur, cur.fetchone()[0]

def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")

def ids(prefix, n):
    return [f"{prefix}-{i:06d}" for i in range(n)]

# The same 10,000 scenario ids every time, so that only the number of rows
# changes between the measurements: 1M and 10M jobs differ in the samples
# per scenario (10, 100); 100M jobs use 100 models.
SCENARIOS = ids("scenario", 10000)
FORMS = {
    "FROM clause": "SELECT count(*), max(sample_index), min(scenario_id) FROM multisample.expand_run_jobs(%s, %s, %s)",
    "SELECT list": "SELECT count(*), max((j).sample_index), min((j).scenario_id) FROM (SELECT multisample.expand_run_jobs(%s, %s, %s) AS j) AS x",
}

# The probe sees growth: a 64 MB value raises the peak by at least 60 MB.
conn, cur, pid = session()
before = hwm_kb(pid)
cur.execute("SELECT length(repeat('x', 64 * 1024 * 1024) || 'y')")
after = hwm_kb(pid)
report(after - before >= 60 * 1024,
       f"the probe sees memory growth: a 64 MB value raised VmHWM by {(after - before) // 1024} MB")
conn.close()

runs = [("1M", 10, 10), ("10M", 10, 100)]
if os.environ.get("MULTISAMPLE_LONG") == "1":
    runs.append(("100M", 100, 100))
for form, query in FORMS.items():
    conn, cur, pid = session()
    peaks = {}
    for label, nmodels, samples in runs:
        if label == "100M" and form != "SELECT list":
            continue
        cur.execute(query, (SCENARIOS, ids("model", nmodels), samples))
        count, max_index, min_scenario = cur.fetchone()
        expected = len(SCENARIOS) * nmodels * samples
        report(count == expected and max_index == samples - 1 and min_scenario == "scenario-000000",
               f"{form}: {label} jobs counted ({count} rows, sample_index up to {max_index})")
        peaks[label] = hwm_kb(pid)
    for label in peaks:
        if label == "1M":
            continue
        growth = peaks[label] - peaks["1M"]
        report(growth < BOUND_KB,
               f"{form}: peak RSS {peaks['1M'] // 1024} MB after 1M jobs, {peaks[label] // 1024} MB after {label} "
               f"(growth {growth} kB, bound {BOUND_KB} kB)")
    conn.close()
sys.exit(status)
PY
