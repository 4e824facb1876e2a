#!/usr/bin/env bash
# No memory grows per row: the backend's peak resident set (VmHWM, read by
# the backend itself from /proc/self/status) after variance_stats over 1M
# rows and after 5M rows, each in a fresh session, as a grouped aggregate
# (1000 groups, hash aggregation) and as a moving window frame (inverse
# transitions). Sorts and tuplestores spill past work_mem, so a correct
# aggregate peaks at the same level for both sizes; one that kept a few bytes
# per row would grow by tens of MB. Each query is also run with PostgreSQL's
# stddev_samp in our aggregate's place, and only the growth beyond the
# built-in's counts. A control shows the probe sees growth.
# MULTISAMPLE_LONG=1 adds confidence_interval and 20M rows.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db memory) || { not_ok "create database"; finish; }
q "$db" "SET client_min_messages = error; CREATE EXTENSION multisample" >/dev/null
if ! has_function "$db" variance_stats; then
    skip "memory per row of variance_stats" "statistics not merged yet"; finish
fi

probe=$(mktemp --suffix=.py)
on_exit "rm -f '$probe'"
cat > "$probe" <<'PY'
import os, re, sys
import psycopg2

BOUND_KB = 8 * 1024
failed = 0

def hwm_after(sql):
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute(sql)
    result = cur.fetchone()
    cur.execute("SELECT pg_read_file('/proc/self/status')")
    status = cur.fetchone()[0]
    kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    conn.close()
    return kb, result

def report(ok, text):
    global failed
    print(("ok - " if ok else "not ok - ") + text)
    failed += 0 if ok else 1

base, _ = hwm_after("SELECT 1")
grown, _ = hwm_after("SELECT length(string_agg(i::text, ',')) FROM generate_series(1, 3000000) i")
report(grown - base > 10 * 1024,
       f"control: the probe sees growth (a 20 MB string raised VmHWM by {(grown - base) // 1024} MB)")

# Each shape once with our aggregate and once with PostgreSQL's own
# stddev_samp in its place: the executor's own memory for a shape can change
# with the row count (at 5M rows a hashed GROUP BY whose result is used peaks
# some 55 MB higher, with sum() as with ours), so the bound applies to the
# growth beyond what the built-in aggregate shows in the same query.
shapes = {
    "grouped (1000 groups, hash aggregation)":
        "SELECT count(*), sum({use}) FROM (SELECT {agg}(x) AS v FROM "
        "(SELECT i % 1000 AS g, (i % 97)::float8 AS x FROM generate_series(1, {n}) i) s GROUP BY g) t",
    "moving window (10 rows)":
        "SELECT count(*), sum({use}) FROM (SELECT {agg}(x) OVER (ORDER BY i ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS v FROM "
        "(SELECT i, (i % 97)::float8 AS x FROM generate_series(1, {n}) i) s) t",
}
ours = [("variance_stats", "multisample.variance_stats", "(v).std_dev")]
sizes = (1000000, 5000000)
if os.environ.get("LONG") == "1":
    ours.append(("confidence_interval", "multisample.confidence_interval", "(v).margin"))
    sizes = (1000000, 20000000)
for shape, sql in shapes.items():
    b1, _ = hwm_after(sql.format(agg="stddev_samp", use="v", n=sizes[0]))
    b2, _ = hwm_after(sql.format(agg="stddev_samp", use="v", n=sizes[1]))
    for name, agg, use in ours:
        small, r1 = hwm_after(sql.format(agg=agg, use=use, n=sizes[0]))
        large, r2 = hwm_after(sql.format(agg=agg, use=use, n=sizes[1]))
        extra = (large - small) - (b2 - b1)
        report(r1[0] > 0 and r2[0] > 0 and extra <= BOUND_KB,
               f"{name} {shape}: peak RSS {small // 1024} MB after {sizes[0] // 10**6}M rows, {large // 1024} MB after "
               f"{sizes[1] // 10**6}M; stddev_samp {b1 // 1024} -> {b2 // 1024} MB; growth beyond it {extra} kB "
               f"(bound {BOUND_KB} kB)")
sys.exit(1 if failed else 0)
PY
PGDATABASE="$db" LONG="$LONG" tap_py "$probe"
finish
