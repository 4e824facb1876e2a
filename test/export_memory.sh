#!/usr/bin/env bash
# The exports stream: export_run_json and export_run_csv (both layouts) of a
# run of 100,000 transcripts leave the backend's peak memory where a run of
# 10,000 left it.
#
# What is measured: the backend's private memory (RssAnon in
# /proc/<pid>/status; its total resident set would also count the shared
# buffers the large run touches) while each export is read through a
# server-side cursor, 5,000 rows at a time (so the client never holds the
# result either): the largest value seen, first for the small run, then for
# the large one, in one session. The function has run to its end when the
# first rows arrive, so whatever it kept is still held then. The functions return their rows
# through PostgreSQL's tuplestore and sort, which keep at most work_mem in
# memory and spill the rest to temporary files; each transcript carries
# about 1 kB of dialogue, so the large run's export is over 100 MB: anything
# kept per row would raise it by far more than the 16 MB bound. A first
# check shows that the probe sees growth when there is some.
# MULTISAMPLE_LONG=1 makes the large run 1,000,000 transcripts.
set -uo pipefail
cd "$(dirname "$0")/.."
source test/lib/common.sh

db=$(new_db export_memory) || { not_ok "createdb"; finish; }
q "$db" 'CREATE EXTENSION multisample' >/dev/null || { not_ok "create extension"; finish; }
large=100000
[ "$LONG" = 1 ] && large=1000000

PGDATABASE="$db" LARGE=$large $PY - <<'PY'
import os, sys
import psycopg2
import psycopg2.extras

# Holding the large run's rows would cost over 100 MB; the allocator and the
# sorts' spill buffers move the private size by a few MB from one query to the
# next whatever the row count (+6 MB after 300,000 rows, +8 MB after 100,000).
BOUND_KB = 16 * 1024
large = int(os.environ['LARGE'])
status = 0

def report(ok, text):
    global status
    print(("ok - " if ok else "not ok - ") + text)
    status |= 0 if ok else 1

conn = psycopg2.connect('')
conn.autocommit = True
cur = conn.cursor()
cur.execute("INSERT INTO multisample.definitions (id, name) VALUES ('mem-def', 'memory')")
cur.execute("INSERT INTO multisample.scenarios (id, definition_id, name, content)"
            " SELECT 'mem-s' || i, 'mem-def', 's' || i, jsonb_build_object('dimensions', jsonb_build_object('a', i, 'b', i / 7.0))"
            " FROM generate_series(1, 100) AS i")
for run, n in (('mem-small', 10000), ('mem-large', large)):
    cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES (%s, 'mem-def', '{}')", (run,))
    # 100 scenarios x 10 models x n / 1000 samples; about 1 kB of dialogue each.
    cur.execute("INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, sample_index, score,"
                " decision_code, decision_text, content)"
                " SELECT %s, 't' || g, 'mem-s' || (1 + g %% 100), 'provider:model-' || (g / 100 %% 10),"
                " g / 1000, 1 + g %% 5, 'code', 'text, \"quoted\" ' || g,"
                " jsonb_build_object('turns', jsonb_build_array("
                "   jsonb_build_object('probePrompt', repeat('p', 400), 'targetResponse', repeat('r', 500) || g)))"
                " FROM generate_series(0, %s - 1) AS g", (run, n))
cur.execute("ANALYZE multisample.transcripts")

def session():
    c = psycopg2.connect('')
    psycopg2.extras.register_default_json(c, loads=lambda text: text)   # rows as the text sent
    k = c.cursor()
    # Only the large run's queries would cross jit_above_cost and load LLVM
    # (tens of MB, once per backend, whatever the row count): JIT every
    # query alike, so that the two runs compare like with like.
    k.execute("SET jit_above_cost = 0; SET jit_optimize_above_cost = 0; SET jit_inline_above_cost = 0")
    k.execute("SELECT pg_backend_pid()")
    return c, k, k.fetchone()[0]

def anon_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('RssAnon:'):
                return int(line.split()[1])
    raise RuntimeError('no RssAnon')

def largest_while_reading(c, pid, sql, run):
    cursor = c.cursor(name='export_cursor')
    cursor.execute(sql, (run,))
    rows = size = 0
    peak = anon_kb(pid)
    while True:
        batch = cursor.fetchmany(5000)
        peak = max(peak, anon_kb(pid))
        if not batch:
            break
        rows += len(batch)
        size += sum(len(line) for (line,) in batch)
    cursor.close()
    c.commit()
    return peak, rows, size

# The probe sees growth: a function result held in memory (an array of
# 64 MB, kept by the cursor) raises RssAnon by at least 60 MB.
c, k, pid = session()
idle = anon_kb(pid)
held = largest_while_reading(c, pid, "SELECT array_agg(repeat('x', 1000) || g) FROM generate_series(1, %s) AS g", 65536)[0]
report(held - idle >= 60 * 1024,
       'the probe sees memory growth: a 64 MB value held by the cursor raised RssAnon by %d MB' % ((held - idle) // 1024))
c.close()

EXPORTS = {
    'export_run_json': "SELECT * FROM multisample.export_run_json(%s)",
    'export_run_csv': "SELECT * FROM multisample.export_run_csv(%s)",
    'export_run_csv reference layout': "SELECT * FROM multisample.export_run_csv(%s, reference_layout => true)",
}
for name, sql in EXPORTS.items():
    c, k, pid = session()
    peaks = {}
    for run in ('mem-small', 'mem-large'):
        peaks[run] = largest_while_reading(c, pid, sql, run)
    small, large_peak = peaks['mem-small'], peaks['mem-large']
    expected_rows = large + (0 if name == 'export_run_json' else 1)
    report(large_peak[1] == expected_rows and large_peak[0] - small[0] <= BOUND_KB,
           '%s streams: %d rows (%d MB) after %d rows leave the peak at %d MB (was %d MB; bound +%d MB)'
           % (name, large_peak[1], large_peak[2] // 2**20, small[1], large_peak[0] // 1024, small[0] // 1024,
              BOUND_KB // 1024))
    c.close()
sys.exit(status)
PY
status=$?
echo "# exit $status"
[ "$status" -eq 0 ]
