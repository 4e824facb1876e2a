"""Compares query results of a Citus cluster with those of a single node
(test/citus.sh). Usage:

    citus_compare.py CITUS_DSN SINGLE_DSN QUERIES_FILE

QUERIES_FILE holds one check per block: a first line "-- NAME" and the SQL
below it, blocks separated by blank lines. Each query runs on both servers
and must return the same columns and the same rows in the same order: text,
integers, numerics, booleans and timestamps exactly; float8 values equal to
1e-12 relative (the summation order of an aggregate may differ across
shards, SPEC 12.2); json/jsonb documents with the same structure and values
(numbers to 1e-12 relative), the key computedAt left out. One TAP line per
check."""

import json
import math
import sys
from decimal import Decimal

import psycopg2.extras

from mstest import Tap, connect

REL = 1e-12


def close(a, b):
    if a == b:
        return True
    if math.isnan(a) and math.isnan(b):
        return True
    if math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= REL * max(abs(a), abs(b))


def differences(a, b, path="$"):
    """Where two values differ (empty when they agree), as messages."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)) \
                and not isinstance(a, bool) and not isinstance(b, bool) and close(float(a), float(b)):
            return []
        return ["%s: %r vs %r" % (path, a, b)]
    if isinstance(a, dict) and isinstance(b, dict):
        a = {k: v for k, v in a.items() if k != "computedAt"}
        b = {k: v for k, v in b.items() if k != "computedAt"}
        if list(a) != list(b):
            return ["%s: keys %s vs %s" % (path, list(a), list(b))]
        out = []
        for k in a:
            out += differences(a[k], b[k], "%s.%s" % (path, k))
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return ["%s: %d items vs %d" % (path, len(a), len(b))]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, "%s[%d]" % (path, i))
        return out
    if type(a) is not type(b) or a != b:
        return ["%s: %r vs %r" % (path, a, b)]
    return []


def read_checks(path):
    checks = []
    for block in open(path).read().split("\n\n"):
        lines = [l for l in block.strip().splitlines()]
        if not lines:
            continue
        if not lines[0].startswith("-- "):
            sys.exit("%s: a block must start with '-- NAME': %s" % (path, lines[0]))
        checks.append((lines[0][3:].strip(), "\n".join(lines[1:])))
    return checks


def run(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        # Numbers inside json come back as float or int; keep float8 exact.
        return [c.name for c in cur.description], cur.fetchall()


def main():
    citus_dsn, single_dsn, path = sys.argv[1:4]
    tap = Tap()
    # json and jsonb as Python objects on both sides, floats as floats.
    psycopg2.extras.register_default_json(globally=True, loads=json.loads)
    psycopg2.extras.register_default_jsonb(globally=True, loads=json.loads)
    citus = connect(None, dsn=citus_dsn)
    single = connect(None, dsn=single_dsn)
    for name, sql in read_checks(path):
        try:
            cols_c, rows_c = run(citus, sql)
        except psycopg2.Error as e:
            tap.ok(False, name, "on Citus: %s %s" % (e.pgcode, (e.pgerror or str(e)).strip()))
            continue
        cols_s, rows_s = run(single, sql)
        diffs = []
        if cols_c != cols_s:
            diffs.append("columns %s vs %s" % (cols_c, cols_s))
        else:
            diffs = differences(rows_c, rows_s)
        tap.ok(not diffs and len(rows_c) > 0,
               "%s: Citus equals one node (%d rows)" % (name, len(rows_c)),
               *(diffs[:10] or ["no rows: the check would compare nothing"]))
    tap.exit()


if __name__ == "__main__":
    main()
