#!/usr/bin/env bash
# Randomised checks of model comparison (SPEC 12.4) against exact arithmetic
# (TAP lines):
#  1. paired_comparison on hostile pairs (large offsets on a, on b and on
#     a - b, 20 decades with both signs, near-duplicates, constant
#     differences, an outlier first, cancelling means), each aggregated
#     serially, by a parallel plan, through a random combine tree of partial
#     states (paired_accum / paired_combine called as the executor would)
#     and in sliding window frames, against exact rational arithmetic
#     (test/comparison_reference.py) on the values and on the differences
#     a - b as float8 forms them (rounded where they need more than 53 bits,
#     as in the cancelling set);
#  2. the views model_comparison and model_pass_at_k on random runs (3-5
#     models, unequal samples per pair, missing pairs, unscored and deleted
#     transcripts), every column against the reference computed from the
#     raw scores.
# COMPARISON_SEED fixes the data (printed, to reproduce a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_comparison_random_$$"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION multisample'
seed=${COMPARISON_SEED:-$RANDOM}
echo "# seed $seed (COMPARISON_SEED=$seed to repeat)"

SEED=$seed /usr/bin/python3 - <<'PY'
import os
import random
import sys
from fractions import Fraction

import mpmath as mp
import psycopg2

sys.path.insert(0, 'test')
import comparison_reference as ref  # noqa: E402

rng = random.Random(int(os.environ['SEED']))
conn = psycopg2.connect('')
conn.autocommit = True
cur = conn.cursor()
cur.execute("""CREATE AGGREGATE pg_temp.paired_state(float8, float8) (SFUNC = multisample.paired_accum,
               STYPE = float8[], INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}')""")
failures = 0
EMPTY = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
FIELDS = ['pairs', 'mean_a', 'mean_b', 'mean_difference', 'std_error', 'lower', 'upper', 'level',
          't_statistic', 'df', 'p_value', 'effect_size', 'correlation']
SQL_FIELDS = ', '.join('(p).%s' % f for f in FIELDS)


def datasets():
    n = 1500
    a = [1e12 + rng.random() for _ in range(n)]
    yield 'both on 1e12 + U(0,1), b = a + noise', a, [x + rng.random() * 0.5 for x in a]
    a = [1e9 + rng.randrange(5000) / 8 for _ in range(n)]
    yield 'a on 2e9, b on 1e9: the differences on an offset', [x + 1e9 for x in a], \
        [x + rng.randrange(-40, 40) / 16 for x in a]
    yield '20 decades, both signs', [rng.choice((-1, 1)) * 10 ** rng.uniform(-10, 10) for _ in range(n)], \
        [rng.choice((-1, 1)) * 10 ** rng.uniform(-10, 10) for _ in range(n)]
    a = [1.0 + rng.randrange(4) * 2.0 ** -52 for _ in range(n)]
    yield 'near-duplicates one ulp apart', a, [x - rng.randrange(3) * 2.0 ** -52 for x in a]
    a = [rng.randrange(1, 6) + rng.randrange(8) / 8 for _ in range(n)]
    yield 'constant difference (sd 0)', a, [x - 0.75 for x in a]
    yield 'outlier first, then scores', [1e8] + [rng.randrange(8, 41) / 8 for _ in range(n)], \
        [3.0] + [rng.randrange(8, 41) / 8 for _ in range(n)]
    yield 'cancelling means, +-1e9 + small', [rng.choice((-1e9, 1e9)) + rng.random() for _ in range(n)], \
        [rng.random() * 4 for _ in range(n)]


def close(got, exact, rel, scale=None):
    if exact is None or got is None:
        return got is None and exact is None
    exact = ref.mpf(exact)
    scale = ref.mpf(scale or 0)
    if exact == 0:
        return abs(got) <= scale * rel
    return abs(mp.mpf(got) - exact) <= rel * max(abs(exact), scale)


def check(label, a, b, got):
    """got: the fields of paired_comparison in FIELDS order."""
    global failures
    e = ref.paired(a, b, float_differences=True)
    scale_a = max(abs(Fraction(x)) for x in a)
    scale_b = max(abs(Fraction(x)) for x in b)
    scale_d = max(abs(Fraction(x) - Fraction(y)) for x, y in zip(a, b))
    g = dict(zip(FIELDS, got))
    problems = []
    if g['pairs'] != e['pairs']:
        problems.append('pairs %s != %s' % (g['pairs'], e['pairs']))
    for f, scale in (('mean_a', scale_a), ('mean_b', scale_b), ('mean_difference', scale_d)):
        if not close(g[f], e[f], 1e-15, scale):
            problems.append('%s %r vs exact %s' % (f, g[f], mp.nstr(ref.mpf(e[f]), 17)))
    # t and d_z inherit the mean difference's error, which is relative to
    # the scale of the differences (a mean near 0 amid large differences).
    sd = None if e['std_error'] is None else e['std_error'] * mp.sqrt(e['pairs'])
    for f, scale in (('std_error', None),
                     ('t_statistic', None if not e['std_error'] else ref.mpf(scale_d) / e['std_error'] * 1e-4),
                     ('effect_size', None if not sd else ref.mpf(scale_d) / sd * 1e-4)):
        if not close(g[f], e[f], 1e-11, scale):
            problems.append('%s %r vs exact %s' % (f, g[f], e[f] if e[f] is None else mp.nstr(e[f], 17)))
    # Below the normal range (2.2e-308) a float8 holds fewer digits: there a
    # p-value is judged to that absolute precision.
    if not close(g['p_value'], e['p_value'], 1e-10, 2.2250738585072014e-298):
        problems.append('p_value %r vs exact %s' % (g['p_value'], e['p_value']))
    if (g['correlation'] is None) != (e['correlation'] is None) or \
            (g['correlation'] is not None and abs(g['correlation'] - e['correlation']) > 1e-12):
        problems.append('correlation %r vs exact %s' % (g['correlation'], e['correlation']))
    if problems:
        failures += 1
        print('not ok - %s: %s' % (label, '; '.join(problems)))
    return not problems


for name, a, b in datasets():
    cur.execute('DROP TABLE IF EXISTS d')
    cur.execute('CREATE TABLE d (i integer, a float8, b float8) WITH (parallel_workers = 2)')
    cur.executemany('INSERT INTO d VALUES (%s, %s, %s)', [(i, x, y) for i, (x, y) in enumerate(zip(a, b))])
    cur.execute('ANALYZE d')
    ok = True
    cur.execute('SET max_parallel_workers_per_gather = 0')
    cur.execute('SELECT %s FROM (SELECT multisample.paired_comparison(a, b) AS p FROM d) q' % SQL_FIELDS)
    ok &= check(name + ', serial', a, b, cur.fetchone())

    for setting in ('max_parallel_workers_per_gather = 2', 'parallel_setup_cost = 0',
                    'parallel_tuple_cost = 0', 'min_parallel_table_scan_size = 0'):
        cur.execute('SET ' + setting)
    cur.execute('EXPLAIN (COSTS OFF) SELECT multisample.paired_comparison(a, b) FROM d')
    plan = ' '.join(r[0] for r in cur.fetchall())
    cur.execute('SELECT %s FROM (SELECT multisample.paired_comparison(a, b) AS p FROM d) q' % SQL_FIELDS)
    ok &= check(name + ', parallel', a, b, cur.fetchone())
    if 'Partial Aggregate' not in plan:
        ok = False
        failures += 1
        print('not ok - %s: no parallel plan (%s)' % (name, plan))
    cur.execute('RESET ALL')

    cuts = sorted(rng.sample(range(1, len(a)), 12))
    states = []
    for lo, hi in zip([0] + cuts, cuts + [len(a)]):
        cur.execute('SELECT pg_temp.paired_state(a, b) FROM d WHERE i >= %s AND i < %s', (lo, hi))
        states.append(cur.fetchone()[0])
    states.append(EMPTY)
    while len(states) > 1:
        x = states.pop(rng.randrange(len(states)))
        y = states.pop(rng.randrange(len(states)))
        cur.execute('SELECT multisample.paired_combine(%s::float8[], %s::float8[])', (x, y))
        states.append(cur.fetchone()[0])
    cur.execute('SELECT %s FROM (SELECT multisample.paired_comparison_final(%%s::float8[]) AS p) q' % SQL_FIELDS,
                (states[0],))
    ok &= check(name + ', random combine tree of 13 partial states', a, b, cur.fetchone())

    w = 25
    cur.execute("""SELECT i, %s FROM (SELECT i, multisample.paired_comparison(a, b) OVER
                       (ORDER BY i ROWS BETWEEN %d PRECEDING AND CURRENT ROW) AS p
                     FROM d WHERE i < 300) q ORDER BY i""" % (SQL_FIELDS, w - 1))
    for row in cur.fetchall():
        i = row[0]
        lo = max(0, i - w + 1)
        if i - lo >= 1:
            ok &= check('%s, window frame ending at row %d' % (name, i), a[lo:i + 1], b[lo:i + 1], row[1:])
    if ok:
        print('ok - paired_comparison, %s: serial, parallel, combine tree and 300 window frames match exact arithmetic' % name)
    sys.stdout.flush()

# 2. The views on random runs.
cur.execute("INSERT INTO multisample.definitions (id, name) VALUES ('rnd-def', 'random')")
cur.execute("""INSERT INTO multisample.scenarios (id, definition_id, name)
               SELECT 'rs' || i, 'rnd-def', 'scenario ' || i FROM generate_series(1, 40) i""")
VIEW_FIELDS = ['scenarios', 'mean_a', 'mean_b', 'mean_difference', 'std_error', 'ci_lower', 'ci_upper',
               'ci_level', 't_statistic', 'p_value', 'p_value_holm', 'effect_size', 'wins', 'ties', 'losses',
               'win_rate', 'win_rate_lower', 'win_rate_upper', 'correlation', 'between_variance',
               'within_variance_a', 'within_variance_b', 'samples_a', 'samples_b',
               'minimum_detectable_difference', 'scenarios_needed']
for run in range(4):
    run_id = 'rnd-run-%d' % run
    models = ['m%d' % i for i in range(rng.randrange(3, 6))]
    scenarios = ['rs%d' % i for i in range(1, rng.randrange(3, 41))]
    k = rng.randrange(1, 6)
    threshold = rng.choice([3, 3.5, 2])
    integer_scores = rng.random() < 0.5
    cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES (%s, 'rnd-def', %s)",
                (run_id, '{"samplesPerScenario": %d, "successThreshold": %s}' % (k, threshold)))
    samples = {}
    rows = []
    for m in models:
        skill = rng.uniform(-1, 1)
        for s in scenarios:
            if rng.random() < 0.1:
                continue
            hardness = rng.gauss(0, 1)
            scores = []
            for j in range(rng.choice([k, k, k, max(1, k - 1), k + 1])):
                v = 3 + skill - hardness + rng.gauss(0, 0.7)
                v = float(min(5, max(1, round(v)))) if integer_scores else round(v * 16) / 16
                if rng.random() < 0.05:
                    rows.append((run_id, s, m, j, v, True))     # deleted: not counted
                    v = round(v + 1)
                scores.append(v)
                rows.append((run_id, s, m, j, v, False))
            if rng.random() < 0.05:
                rows.append((run_id, s, m, 99, None, False))    # unscored: not counted
            samples[(m, s)] = scores
    for r in rows:
        cur.execute("""INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, deleted_at)
                       VALUES (%s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)""", r)
    expected = ref.model_comparison(samples)
    cur.execute('SELECT model_a, model_b, %s FROM multisample.model_comparison WHERE run_id = %%s ORDER BY 1, 2'
                % ', '.join(VIEW_FIELDS), (run_id,))
    got = cur.fetchall()
    problems = []
    if len(got) != len(expected):
        problems.append('%d rows, expected %d' % (len(got), len(expected)))
    for g, e in zip(got, expected):
        if (g[0], g[1]) != (e['model_a'], e['model_b']):
            problems.append('pair %s/%s, expected %s/%s' % (g[0], g[1], e['model_a'], e['model_b']))
            continue
        for f, v in zip(VIEW_FIELDS, g[2:]):
            want = e[f]
            tol = 1e-10 if f in ('p_value', 'p_value_holm') else 1e-12
            if f == 'ci_level':
                good = (v is None and want is None) or v == want
            elif f == 'scenarios_needed':
                good = (v is None and want is None) or (v is not None and want is not None and v == want)
            elif f in ('between_variance', 'minimum_detectable_difference') and want is not None and want == 0:
                good = v is not None and abs(v) <= 1e-12
            elif f == 'correlation' and want is not None and want == 0:
                # An exact zero is a cancellation of co-moment terms: its
                # rounding is relative to the correlation's scale, 1.
                good = v is not None and abs(v) <= 1e-12
            else:
                good = close(v, want, tol, 1e-300 if want is not None and want == 0 else None)
            if not good:
                problems.append('%s/%s %s: %r, expected %s' % (e['model_a'], e['model_b'], f, v,
                                                            want if want is None else mp.nstr(ref.mpf(want), 17)))
    ok = not problems
    failures += not ok
    print(('ok - ' if ok else 'not ok - ')
          + 'model_comparison, run of %d models x %d scenarios x ~%d samples (%s scores): %d pairs, every column matches the reference'
          % (len(models), len(scenarios), k, 'integer' if integer_scores else 'real', len(expected)))
    for p in problems[:8]:
        print('#   ' + p)
    exp_k = ref.model_pass_at_k(samples, threshold, k)
    cur.execute('SELECT model_id, k, scenarios, pass_at_k, pass_hat_k, success_threshold FROM multisample.model_pass_at_k '
                'WHERE run_id = %s ORDER BY 1, 2', (run_id,))
    got = cur.fetchall()
    problems = []
    if [(g[0], g[1]) for g in got] != sorted(exp_k):
        problems.append('rows %s, expected %s' % ([(g[0], g[1]) for g in got], sorted(exp_k)))
    for model, kk, n, pk, ph, th in got:
        e = exp_k.get((model, kk))
        if e is None:
            continue
        if n != e[0] or not close(pk, e[1], 1e-14, 1e-300) or not close(ph, e[2], 1e-14, 1e-300) or th != threshold:
            problems.append('%s k=%d: %s %r %r, expected %s %s %s' % (model, kk, n, pk, ph, e[0], float(e[1]), float(e[2])))
    ok = not problems
    failures += not ok
    print(('ok - ' if ok else 'not ok - ') + 'model_pass_at_k, same run, threshold %s: %d rows match the reference'
          % (threshold, len(got)))
    for p in problems[:8]:
        print('#   ' + p)
    sys.stdout.flush()
sys.exit(1 if failures else 0)
PY
