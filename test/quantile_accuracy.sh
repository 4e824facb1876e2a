#!/usr/bin/env bash
# Accuracy of t_quantile and normal_quantile against exact values (TAP lines).
#  1. the committed grid test/data/t_quantile_grid.tsv (df 1 .. 1e6 on a log
#     grid plus non-integer df, nine two-sided levels 0.5 .. 0.9999, and the
#     normal quantiles; 50-digit mpmath, see test/gen_t_grid.py): maximum
#     relative error <= 1e-13, worst case printed;
#  2. the grid itself: a random sample of its rows recomputed live with mpmath;
#  3. random (p, df) points off the grid, computed live with mpmath.
# Runs in the cluster of the environment (bin/run-suites, bin/dev-cluster);
# QUANTILE_SEED fixes the random choices (printed, to reproduce a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_quantile_accuracy_$$"
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION multisample'
seed=${QUANTILE_SEED:-$RANDOM}
echo "# seed $seed (QUANTILE_SEED=$seed to repeat)"

failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
    local what=$1
    shift
    if "$@"; then echo "ok - $what"; else echo "not ok - $what"; failed=1; fi
}

# 1. The grid, in SQL. p is stored as the shortest decimal that reads back
# as the exact double; the quantile is the exact value at that double.
grid_report=$(psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 <<'SQL'
CREATE TEMP TABLE grid (kind text, df float8, level float8, p float8, exact text);
\copy grid FROM 'test/data/t_quantile_grid.tsv' WITH (FORMAT csv, DELIMITER E'\t', HEADER true)
WITH e AS (
    SELECT kind, df, level, p, exact::float8 AS exact,
           CASE kind WHEN 't' THEN multisample.t_quantile(p, df)
                     ELSE multisample.normal_quantile(p) END AS computed
      FROM grid)
SELECT kind, count(*), max(abs(computed / exact - 1)),
       (array_agg(format('df=%s level=%s p=%s computed=%s exact=%s', df, level, p, computed, exact)
                  ORDER BY abs(computed / exact - 1) DESC))[1]
  FROM e GROUP BY kind ORDER BY kind;
SQL
)
printf '%s\n' "$grid_report" | sed 's/^/# grid: /'
while read -r kind n worst rest; do
    check "grid $kind: $n quantiles, max relative error $worst <= 1e-13 (worst: $rest)" \
        awk -v w="$worst" -v n="$n" 'BEGIN { exit !(n > 0 && w <= 1e-13) }'
done <<< "$grid_report"
check "grid covers t and normal quantiles" [ "$(printf '%s\n' "$grid_report" | wc -l)" -eq 2 ]

# 2 and 3. Live mpmath recomputation.
SEED=$seed /usr/bin/python3 - <<'PY' || failed=1
import os, random, sys

import mpmath as mp
import psycopg2

sys.path.insert(0, 'test')
from gen_t_grid import LEVELS, normal_quantile, t_quantile  # noqa: E402

rng = random.Random(int(os.environ['SEED']))
conn = psycopg2.connect('')
cur = conn.cursor()
bad = 0


def report(ok, what):
    global bad
    print(('ok - ' if ok else 'not ok - ') + what)
    bad += not ok


# 2. a sample of the committed grid, recomputed
rows = [line.rstrip('\n').split('\t') for line in open('test/data/t_quantile_grid.tsv')][1:]
for kind, df, level, p, exact in rng.sample(rows, 4):
    live = t_quantile(float(p), float(df)) if kind == 't' else normal_quantile(float(p))
    err = abs(live / mp.mpf(exact) - 1)
    report(err < mp.mpf(10) ** -20,
           'grid row %s df=%s level=%s recomputed with mpmath (relative difference %s)'
           % (kind, df or '-', level, mp.nstr(err, 3)))

# 3. random points off the grid: df log-uniform in [1, 1e6], p from a random
# two-sided level in [0.5, 0.9999]
for _ in range(6):
    df = float(mp.nstr(mp.mpf(10) ** rng.uniform(0, 6), 8))
    level = rng.uniform(0.5, 0.9999)
    p = (1.0 + level) / 2.0
    cur.execute('SELECT multisample.t_quantile(%s, %s)', (p, df))
    got = cur.fetchone()[0]
    err = abs(mp.mpf(got) / t_quantile(p, df) - 1)
    report(err <= mp.mpf('1e-13'),
           'random point df=%r p=%r: relative error %s <= 1e-13' % (df, p, mp.nstr(err, 3)))
for _ in range(2):
    p = rng.uniform(0.5, 0.99995)
    cur.execute('SELECT multisample.normal_quantile(%s)', (p,))
    got = cur.fetchone()[0]
    err = abs(mp.mpf(got) / normal_quantile(p) - 1)
    report(err <= mp.mpf('1e-13'), 'random normal p=%r: relative error %s <= 1e-13' % (p, mp.nstr(err, 3)))
sys.exit(1 if bad else 0)
PY

exit $failed
