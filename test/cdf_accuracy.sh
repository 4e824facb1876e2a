#!/usr/bin/env bash
# Accuracy of t_cdf and normal_cdf against exact values (TAP lines), SPEC
# 12.4: the smaller tail is computed directly, so relative accuracy holds
# down to p = 1e-300.
#  1. a grid: df 1, 2, 3, 1.5, 2.5, 7.3, 29.9, 30, 31, 100, 1000, 3000.5,
#     1e4, 1e5, 1e6, 2.5e6 + 0.5, 1e7 and Infinity, against |t| from 0 and
#     1e-300 to 1e6 on both sides (t and -t), every point whose exact value
#     is at least 1e-300: maximum relative error <= 1e-12 for t_cdf; points
#     whose exact value lies below 1e-300 must return at most 1e-290;
#  2. random points: df log-uniform in [1, 1e7] (a third rounded to
#     integers), t log-uniform in [1e-3, 1e6] or around sqrt(df) (where the
#     algorithm changes), both signs;
#  3. normal_cdf on z from -38.4 to 38.4 and random points: relative error
#     <= 1e-14;
#  4. the reference itself: a sample of points recomputed by a second,
#     independent formula (test/cdf_reference.py) agrees to 1e-25;
#  5. identities: t_cdf(t, Infinity) = normal_cdf(t), t_cdf(+-Infinity) = 1
#     and 0, t_cdf(0) = 1/2, the round trip t_cdf(t_quantile(p, df), df) = p.
# CDF_SEED fixes the random points (printed, to reproduce a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_cdf_accuracy_$$"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION multisample'
seed=${CDF_SEED:-$RANDOM}
echo "# seed $seed (CDF_SEED=$seed to repeat)"

SEED=$seed /usr/bin/python3 - <<'PY'
import os
import random
import sys

import mpmath as mp
import psycopg2

sys.path.insert(0, 'test')
from cdf_reference import normal_cdf, t_cdf, t_upper, t_upper_hyp  # noqa: E402

rng = random.Random(int(os.environ['SEED']))
conn = psycopg2.connect('')
conn.autocommit = True
cur = conn.cursor()
bad = 0


def report(ok, what):
    global bad
    print(('ok - ' if ok else 'not ok - ') + what)
    sys.stdout.flush()
    bad += not ok


def computed(func, *columns):
    """func(...) over the given columns, in one query."""
    casts = ', '.join('%s::float8[]' for _ in columns)
    names = ', '.join('c%d' % i for i in range(len(columns)))
    cur.execute('SELECT multisample.%s(%s) FROM unnest(%s) WITH ORDINALITY AS u(%s, i) ORDER BY i'
                % (func, names, casts, names), [list(c) for c in columns])
    return [r[0] for r in cur.fetchall()]


def errors(points, got, exact_of):
    """Relative errors of the points whose exact value is >= 1e-300, the
    worst one, and the points below 1e-300 that returned more than 1e-290."""
    worst = (mp.mpf(0), None)
    checked = 0
    underflow_bad = []
    for p, g in zip(points, got):
        e = exact_of(*p)
        if e < mp.mpf('1e-300'):
            if g > 1e-290:
                underflow_bad.append((p, g, e))
            continue
        checked += 1
        err = abs(mp.mpf(g) / e - 1)
        if err > worst[0]:
            worst = (err, (p, g, e))
    return checked, worst, underflow_bad


def describe(worst):
    if worst[1] is None:
        return 'none'
    (p, g, e) = worst[1]
    return '%s at %r: computed %r, exact %s' % (mp.nstr(worst[0], 3), p, g, mp.nstr(e, 17))


INF = float('inf')
# 1. the grid
dfs = [1, 2, 3, 1.5, 2.5, 7.3, 29.9, 30, 31, 100, 1000, 3000.5, 1e4, 1e5, 1e6, 2.5e6 + 0.5, 1e7]
ts = [0, 1e-300, 1e-8, 1e-3, 0.1, 0.5, 1, 1.7, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 10, 15, 20, 30, 37,
      50, 100, 300, 1e3, 1e4, 1e5, 1e6]
grid = [(s * t, df) for df in dfs for t in ts for s in (1, -1)]
got = computed('t_cdf', [p[0] for p in grid], [p[1] for p in grid])
checked, worst, under = errors(grid, got, t_cdf)
report(worst[0] <= mp.mpf('1e-12') and checked > 0,
       't_cdf grid (%d df x %d |t| x both signs): %d points >= 1e-300, max relative error %s <= 1e-12'
       % (len(dfs), len(ts), checked, describe(worst)))
report(not under, 't_cdf grid: %d points below 1e-300 return at most 1e-290%s'
       % (len(grid) - checked, '' if not under else ' (failing: %r)' % under[:3]))
by_df = {}
for (t, df), g in zip(grid, got):
    e = t_cdf(t, df)
    if e >= mp.mpf('1e-300'):
        by_df[df] = max(by_df.get(df, 0), abs(mp.mpf(g) / e - 1))
print('# worst relative error per df: ' + ', '.join('%g: %s' % (d, mp.nstr(by_df[d], 2)) for d in dfs))

# 2. random points
pts = []
for _ in range(1500):
    df = 10 ** rng.uniform(0, 7)
    if rng.random() < 1 / 3:
        df = float(round(df))
    if rng.random() < 0.5:
        t = 10 ** rng.uniform(-3, 6)
    else:
        t = rng.uniform(0, 2) * df ** 0.5
    pts.append((rng.choice((1, -1)) * t, df))
got = computed('t_cdf', [p[0] for p in pts], [p[1] for p in pts])
checked, worst, under = errors(pts, got, t_cdf)
report(worst[0] <= mp.mpf('1e-12') and not under,
       't_cdf at %d random points (%d >= 1e-300): max relative error %s <= 1e-12'
       % (len(pts), checked, describe(worst)))

# 3. normal_cdf
zs = [s * z for z in [0, 1e-300, 1e-8, 0.1, 0.5, 0.66291, 0.7, 1, 1.5, 2, 3, 4, 5, 5.656854, 5.66, 6,
                      8, 10, 15, 20, 25, 30, 35, 37, 37.5, 38, 38.4] for s in (1, -1)]
zs += [rng.uniform(-38.4, 38.4) for _ in range(500)]
got = computed('normal_cdf', zs)
checked, worst, under = errors([(z,) for z in zs], got, normal_cdf)
report(worst[0] <= mp.mpf('1e-14') and not under,
       'normal_cdf at %d points (%d >= 1e-300): max relative error %s <= 1e-14'
       % (len(zs), checked, describe(worst)))

# 4. the reference against its independent form
sample = rng.sample([p for p in grid + pts if p[0] > 0 and t_upper(p[0], p[1]) > 0], 40)
diff = max(abs(t_upper(t, df) / t_upper_hyp(t, df) - 1) for t, df in sample)
report(diff <= mp.mpf('1e-25'),
       'reference: the incomplete beta and the hypergeometric forms agree on %d points to %s'
       % (len(sample), mp.nstr(diff, 3)))

# 5. identities
cur.execute("""SELECT bool_and(multisample.t_cdf(t, 'Infinity') = multisample.normal_cdf(t))
                 FROM unnest('{-40,-37.5,-5,-1,0,0.3,2,8.3,40}'::float8[]) AS t""")
report(cur.fetchone()[0], 't_cdf(t, Infinity) equals normal_cdf(t)')
cur.execute("""SELECT bool_and(multisample.t_cdf('Infinity', df) = 1 AND multisample.t_cdf('-Infinity', df) = 0
                               AND multisample.t_cdf(0, df) = 0.5)
                 FROM unnest('{0.001,1,2,3.5,1e6,1e300,Infinity}'::float8[]) AS df""")
report(cur.fetchone()[0], 't_cdf(+-Infinity, df) is 1 and 0 and t_cdf(0, df) is 1/2 for every df')
cur.execute("""SELECT max(abs(multisample.t_cdf(multisample.t_quantile(p, df), df) / p - 1))
                 FROM unnest('{1,2,3,7.5,30,1000,1e6}'::float8[]) AS df,
                      unnest('{1e-10,0.001,0.025,0.3,0.5,0.8,0.975}'::float8[]) AS p""")
rt = cur.fetchone()[0]
report(rt <= 1e-12, 't_cdf(t_quantile(p, df), df) = p within %.2g (<= 1e-12)' % rt)
sys.exit(1 if bad else 0)
PY
