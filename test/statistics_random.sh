#!/usr/bin/env bash
# Randomised check of variance_stats on hostile data against exact rational
# arithmetic (TAP lines): large offsets, magnitudes over 20 decades with both
# signs, near-duplicates one ulp apart, constants, cancelling means. Each
# dataset is aggregated serially, by a parallel plan, through random combine
# trees of partial states (moments_accum / moments_combine called as the
# executor would), and in sliding window frames; every result is compared
# with the exact mean and sample variance (Python fractions).
# STATS_SEED fixes the data (printed, to reproduce a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_statistics_random_$$"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION multisample'
seed=${STATS_SEED:-$RANDOM}
echo "# seed $seed (STATS_SEED=$seed to repeat)"

SEED=$seed /usr/bin/python3 - <<'PY'
import os
import random
import sys
from fractions import Fraction

import psycopg2

rng = random.Random(int(os.environ['SEED']))
conn = psycopg2.connect('')
conn.autocommit = True
cur = conn.cursor()
cur.execute("""CREATE AGGREGATE pg_temp.moments(float8) (SFUNC = multisample.moments_accum,
               STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0}')""")
failures = 0


def datasets():
    n = 2000
    yield 'offset 1e12 + U(0,1)', [1e12 + rng.random() for _ in range(n)]
    yield 'offset -3e15 + integers', [-3e15 + rng.randrange(1000) for _ in range(n)]
    yield '20 decades, both signs', [rng.choice((-1, 1)) * 10 ** rng.uniform(-10, 10) for _ in range(n)]
    yield 'near-duplicates one ulp apart', [1.0 + rng.randrange(4) * 2.0 ** -52 for _ in range(n)]
    yield 'constant', [7.25] * n
    yield 'cancelling mean, +-1e15 + small', [rng.choice((-1e15, 1e15)) + rng.random() for _ in range(n)]
    yield 'outlier first then offset data', [1e150] + [5e8 + rng.random() for _ in range(n)]


def exact(values):
    xs = [Fraction(v) for v in values]
    n = len(xs)
    mean = sum(xs) / n
    var = sum((x - mean) ** 2 for x in xs) / (n - 1) if n > 1 else None
    return n, mean, var


def check(label, values, got):
    """got = (count, mean, variance, min, max) from SQL."""
    global failures
    n, mean, var = exact(values)
    scale = max(abs(Fraction(v)) for v in values) or Fraction(1)
    problems = []
    if got[0] != n:
        problems.append('count %s != %s' % (got[0], n))
    if abs(Fraction(got[1]) - mean) > Fraction(1, 10 ** 15) * scale:
        problems.append('mean %r vs exact %r' % (got[1], float(mean)))
    if var == 0:
        if got[2] != 0:
            problems.append('variance %r, exact 0' % got[2])
    elif var is not None and abs(Fraction(got[2]) / var - 1) > Fraction(1, 10 ** 12):
        problems.append('variance %r vs exact %r (relative %.2e)'
                        % (got[2], float(var), float(abs(Fraction(got[2]) / var - 1))))
    if got[3] != min(values) or got[4] != max(values):
        problems.append('min/max %r %r' % (got[3], got[4]))
    if problems:
        failures += 1
        print('not ok - %s: %s' % (label, '; '.join(problems)))
    return not problems


FIELDS = '(s).sample_count, (s).mean, (s).variance, (s).min, (s).max'

for name, values in datasets():
    if not name.startswith('outlier'):
        rng.shuffle(values)
    cur.execute('DROP TABLE IF EXISTS d')
    cur.execute('CREATE TABLE d (i integer, x float8) WITH (parallel_workers = 2)')
    cur.executemany('INSERT INTO d VALUES (%s, %s)', list(enumerate(values)))
    cur.execute('ANALYZE d')
    ok = True

    cur.execute('SET max_parallel_workers_per_gather = 0')
    cur.execute('SELECT %s FROM (SELECT multisample.variance_stats(x) AS s FROM d) q' % FIELDS)
    ok &= check(name + ', serial', values, cur.fetchone())

    cur.execute('SET max_parallel_workers_per_gather = 2')
    cur.execute('SET parallel_setup_cost = 0')
    cur.execute('SET parallel_tuple_cost = 0')
    cur.execute('SET min_parallel_table_scan_size = 0')
    cur.execute('EXPLAIN (COSTS OFF) SELECT multisample.variance_stats(x) FROM d')
    plan = ' '.join(r[0] for r in cur.fetchall())
    cur.execute('SELECT %s FROM (SELECT multisample.variance_stats(x) AS s FROM d) q' % FIELDS)
    ok &= check(name + ', parallel', values, cur.fetchone())
    if 'Partial Aggregate' not in plan:
        ok = False
        print('not ok - %s: no parallel plan (%s)' % (name, plan))
    for setting in ('max_parallel_workers_per_gather', 'parallel_setup_cost',
                    'parallel_tuple_cost', 'min_parallel_table_scan_size'):
        cur.execute('RESET ' + setting)

    # Random chunks, each a partial state, merged in a random tree.
    cuts = sorted(rng.sample(range(1, len(values)), 12))
    bounds = list(zip([0] + cuts, cuts + [len(values)]))
    states = []
    for lo, hi in bounds:
        cur.execute('SELECT pg_temp.moments(x) FROM d WHERE i >= %s AND i < %s', (lo, hi))
        states.append(cur.fetchone()[0])
    states.append('{0,0,0,0,0,0,0}')          # an empty partial state too
    while len(states) > 1:
        a = states.pop(rng.randrange(len(states)))
        b = states.pop(rng.randrange(len(states)))
        cur.execute('SELECT multisample.moments_combine(%s::float8[], %s::float8[])', (a, b))
        states.append(cur.fetchone()[0])
    cur.execute('SELECT %s FROM (SELECT multisample.variance_stats_final(%%s::float8[]) AS s) q' % FIELDS,
                (states[0],))
    ok &= check(name + ', random combine tree of 13 partial states', values, cur.fetchone())

    # Sliding frames of 25 rows over the first 400 rows.
    w = 25
    cur.execute("""SELECT i, %s FROM (SELECT i, multisample.variance_stats(x) OVER
                       (ORDER BY i ROWS BETWEEN %d PRECEDING AND CURRENT ROW) AS s
                     FROM d WHERE i < 400) q ORDER BY i""" % (FIELDS, w - 1))
    frames_ok = True
    for row in cur.fetchall():
        i = row[0]
        frame = values[max(0, i - w + 1):i + 1]
        if len(frame) > 1:
            frames_ok &= check('%s, window frame ending at row %d' % (name, i), frame, row[1:])
    ok &= frames_ok
    if ok:
        print('ok - %s: serial, parallel, combine tree and 400 window frames match exact arithmetic' % name)

sys.exit(1 if failures else 0)
PY
