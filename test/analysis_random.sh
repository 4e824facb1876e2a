#!/usr/bin/env bash
# Randomised cross-check of the analysis: runs with random models, scenarios,
# sample counts (short, complete and extra pairs, unscored and deleted
# samples) and score scales are written to the database, and every figure of
# scenario_variance, scenario_variance_overall, model_variance and
# analysis_json is compared with an independent computation in Python (exact
# fractions; mpmath for square roots and Student t quantiles).
# Fixed seeds, so a failure can be replayed: MULTISAMPLE_SEEDS="7 8" test/analysis_random.sh
# Prints TAP lines; needs PGHOST/PGPORT/PGUSER from the cluster environment.
set -uo pipefail
cd "$(dirname "$0")/.."

db="ms_analysis_random_$$"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1' EXIT
export PGDATABASE="$db"
createdb "$db" || { echo "not ok - createdb $db"; exit 1; }
psql -XqAt -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION multisample' || { echo "not ok - create extension"; exit 1; }

seeds=${MULTISAMPLE_SEEDS:-"1 2 3 4 5 6 7 8 9 10 11 12"}
[ "${MULTISAMPLE_LONG:-0}" = 1 ] && seeds=$(seq 1 200)

/usr/bin/python3 - $seeds <<'PY'
import json, random, sys
from fractions import Fraction as F
import mpmath as mp
import psycopg2

mp.mp.dps = 40
conn = psycopg2.connect('')
conn.autocommit = True
cur = conn.cursor()
cur.execute("INSERT INTO multisample.definitions (id, name) VALUES ('rd', 'random')")
failed = 0


def mpf(q):
    return mp.mpf(q.numerator) / q.denominator


def t_quantile(p, df):
    f = lambda x: 1 - mp.betainc(mp.mpf(df) / 2, mp.mpf(1) / 2, 0, df / (df + x * x), regularized=True) / 2 - p
    return mp.findroot(f, 2)


def close(a, b, rel=1e-11):
    if a is None or b is None:
        return a is None and b is None
    a, b = mp.mpf(a), mp.mpf(b)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1)


def var(xs):
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else None


def one_run(seed):
    rnd = random.Random(seed)
    run = 'rr-%d' % seed
    models = ['m%d' % i for i in range(rnd.randint(1, 4))]
    scenarios = ['rd-%d-s%02d' % (seed, i) for i in range(rnd.randint(1, 12))]
    requested = rnd.randint(1, 5)
    lo = rnd.choice([0, 1, -2])
    hi = lo + rnd.choice([1, 4, 9])
    config = {'models': models, 'samplesPerScenario': requested, 'scoreScale': {'min': lo, 'max': hi}}
    cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES (%s, 'rd', %s)", (run, json.dumps(config)))
    for s in scenarios:
        cur.execute("INSERT INTO multisample.scenarios (id, definition_id, name) VALUES (%s, 'rd', %s)", (s, 'name ' + s))
        cur.execute("INSERT INTO multisample.run_scenario_selections VALUES (%s, %s)", (run, s))
    scored = {}
    for m in models:
        for s in scenarios:
            count = rnd.choice([requested] * 4 + [0, max(requested - 1, 0), requested + 1])
            xs = []
            for i in range(count):
                unscored = rnd.random() < 0.1
                # Scores on the scale: integers or binary fractions, and ties.
                x = rnd.choice([F(rnd.randint(lo, hi)), F(rnd.randint(lo * 4, hi * 4), 4)])
                cur.execute("INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score) "
                            "VALUES (%s, %s, %s, %s, %s)", (run, s, m, i, None if unscored else float(x)))
                if rnd.random() < 0.1:   # a deleted earlier attempt with another score
                    cur.execute("INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, deleted_at) "
                                "VALUES (%s, %s, %s, %s, %s, now())", (run, s, m, i, float(hi)))
                if not unscored:
                    xs.append(x)
            if xs:
                scored[(m, s)] = xs
    return run, models, scenarios, requested, (lo, hi), scored


def check(seed):
    global failed
    run, models, scenarios, requested, (lo, hi), scored = one_run(seed)
    problems = []

    def expect(what, got, want, rel=1e-11):
        if isinstance(want, (int, str, bool, list, tuple)) or want is None and not isinstance(got, float):
            ok = got == want
        else:
            ok = close(got, want, rel)
        if not ok:
            problems.append('%s: got %r, expected %r' % (what, got, mp.nstr(want, 17) if isinstance(want, mp.mpf) else want))

    # Pairs.
    cur.execute("SELECT scenario_id, model_id, sample_count, mean, std_dev, variance, min, max, range, variance_rank "
                "FROM multisample.scenario_variance WHERE run_id = %s", (run,))
    rows = {(r[1], r[0]): r for r in cur.fetchall()}
    expect('pair set', sorted(rows), sorted(scored))
    pv = {k: var(xs) for k, xs in scored.items()}
    for k, xs in scored.items():
        if k not in rows:
            continue
        r = rows[k]
        v = pv[k]
        expect('%s count' % (k,), r[2], len(xs))
        expect('%s mean' % (k,), r[3], mpf(sum(xs) / len(xs)))
        expect('%s variance' % (k,), r[5], None if v is None else mpf(v))
        expect('%s std_dev' % (k,), r[4], None if v is None else mp.sqrt(mpf(v)))
        expect('%s min/max/range' % (k,), (r[6], r[7], r[8]), (float(min(xs)), float(max(xs)), float(max(xs) - min(xs))))
        rank = None if v is None else 1 + sum(1 for w in pv.values() if w is not None and w > v)
        expect('%s rank' % (k,), r[9], rank)

    # Scenarios.
    mean_var = {}
    for s in scenarios:
        vs = [pv[(m, s)] for m in models if (m, s) in pv and pv[(m, s)] is not None]
        if any((m, s) in scored for m in models):
            mean_var[s] = sum(vs) / len(vs) if vs else None
    cur.execute("SELECT scenario_id, model_count, sample_count, mean_variance, variance_rank, per_model "
                "FROM multisample.scenario_variance_overall WHERE run_id = %s", (run,))
    srows = {r[0]: r for r in cur.fetchall()}
    expect('scenario set', sorted(srows), sorted(mean_var))
    for s, mv in mean_var.items():
        if s not in srows:
            continue
        r = srows[s]
        expect('%s model_count' % s, r[1], sum(1 for m in models if (m, s) in scored))
        expect('%s sample_count' % s, r[2], sum(len(scored[(m, s)]) for m in models if (m, s) in scored))
        expect('%s mean_variance' % s, r[3], None if mv is None else mpf(mv))
        rank = None if mv is None else 1 + sum(1 for w in mean_var.values() if w is not None and w > mv)
        expect('%s rank' % s, r[4], rank)
        for m in models:
            if (m, s) in scored:
                expect('%s per_model %s sampleCount' % (s, m), r[5][m]['sampleCount'], len(scored[(m, s)]))

    # Models.
    cur.execute("SELECT model_id, scored_samples, scenario_count, samples_per_scenario, mean, std_dev, variance, min, max, "
                "pairs_with_variance, avg_within_scenario_variance, max_within_scenario_variance, within_scenario_std_dev, "
                "scenario_mean, ci_lower, ci_upper, ci_level, consistency_score "
                "FROM multisample.model_variance WHERE run_id = %s", (run,))
    mrows = {r[0]: r for r in cur.fetchall()}
    doc = None
    cur.execute("SELECT multisample.analysis_json(%s)", (run,))
    doc = cur.fetchone()[0]
    expected_models = sorted({m for m, _ in scored})
    expect('model set', sorted(mrows), expected_models)
    expect('perModel set', sorted(doc['perModel']), expected_models)
    multi = requested > 1 or any(len(xs) > 1 for xs in scored.values())
    expect('isMultiSample', doc['isMultiSample'], multi)
    expect('samplesPerScenario', doc['samplesPerScenario'], requested)
    expect('sampleCount', doc['sampleCount'], sum(len(xs) for xs in scored.values()))
    for m in expected_models:
        pairs = {s: xs for (mm, s), xs in scored.items() if mm == m}
        allx = [x for xs in pairs.values() for x in xs]
        v = var(allx)
        means = [sum(xs) / len(xs) for xs in pairs.values()]
        k = len(means)
        vw = [pv[(m, s)] for s in pairs if pv[(m, s)] is not None]
        pops = [pv[(m, s)] * (len(xs) - 1) / len(xs) for s, xs in pairs.items() if pv[(m, s)] is not None]
        want = {
            'scored_samples': len(allx), 'scenario_count': k, 'samples_per_scenario': requested,
            'mean': mpf(sum(allx) / len(allx)), 'variance': None if v is None else mpf(v),
            'std_dev': None if v is None else mp.sqrt(mpf(v)),
            'min': float(min(allx)), 'max': float(max(allx)), 'pairs_with_variance': len(vw),
            'avg_within': mpf(sum(vw) / len(vw)) if vw else None, 'max_within': mpf(max(vw)) if vw else None,
            'within_sd': mp.sqrt(mpf(sum(vw) / len(vw))) if vw else None,
            'scenario_mean': mpf(sum(means) / k),
            'consistency': mpf(1 - (sum(pops) / len(pops)) / F((hi - lo) ** 2, 4)) if pops else None,
        }
        if k > 1:
            se = mp.sqrt(mpf(var(means)) / k)
            t = t_quantile(mp.mpf('0.975'), k - 1)
            want['ci_lower'] = mpf(sum(means) / k) - t * se
            want['ci_upper'] = mpf(sum(means) / k) + t * se
        else:
            want['ci_lower'] = want['ci_upper'] = None
        r = mrows.get(m)
        j = doc['perModel'].get(m, {})
        got_view = dict(zip(['scored_samples', 'scenario_count', 'samples_per_scenario', 'mean', 'std_dev', 'variance',
                             'min', 'max', 'pairs_with_variance', 'avg_within', 'max_within', 'within_sd',
                             'scenario_mean', 'ci_lower', 'ci_upper', 'ci_level', 'consistency'], r[1:])) if r else {}
        ci = j.get('confidenceInterval') or {}
        within = j.get('withinScenario') or {}
        got_json = {'scored_samples': j.get('sampleCount'), 'scenario_count': j.get('scenarioCount'),
                    'samples_per_scenario': doc['samplesPerScenario'], 'mean': j.get('mean'), 'std_dev': j.get('stdDev'),
                    'variance': j.get('variance'), 'min': j.get('min'), 'max': j.get('max'),
                    'pairs_with_variance': within.get('pairsWithVariance'),
                    'avg_within': within.get('meanVariance'), 'max_within': within.get('maxVariance'),
                    'within_sd': within.get('stdDev'), 'scenario_mean': ci.get('mean'),
                    'ci_lower': ci.get('lower'), 'ci_upper': ci.get('upper'), 'consistency': j.get('consistencyScore')}
        if not multi:
            expect('analysis_json %s: no variance block when single-sample' % m,
                   ['withinScenario' in j, 'consistencyScore' in j], [False, False])
        for key, w in want.items():
            rel = 1e-9 if key.startswith('ci_') else 1e-11
            expect('model_variance %s %s' % (m, key), got_view.get(key), w, rel)
            if not multi and key in ('pairs_with_variance', 'avg_within', 'max_within', 'within_sd', 'consistency'):
                continue
            if key == 'scenario_mean' and k == 1:
                # One scenario: no interval, so no confidenceInterval object.
                expect('analysis_json %s confidenceInterval with one scenario' % m, j.get('confidenceInterval'), None)
                continue
            expect('analysis_json %s %s' % (m, key), got_json.get(key), w, rel)
        if k > 1:
            expect('ci level %s' % m, got_view.get('ci_level'), 0.95)

    # Ranking lists of analysis_json.
    ranked = sorted((s for s, mv in mean_var.items() if mv is not None), key=lambda s: (-mean_var[s], s.encode()))
    n = len(ranked)
    expect('scenarioVariance order', [e['scenarioId'] for e in doc['scenarioVariance']],
           ranked + sorted((s for s, mv in mean_var.items() if mv is None), key=str.encode))
    expect('mostVariableScenarios', [e['scenarioId'] for e in doc['mostVariableScenarios']], ranked[:min(5, (n + 1) // 2)])
    expect('leastVariableScenarios', [e['scenarioId'] for e in doc['leastVariableScenarios']], ranked[::-1][:min(5, n // 2)])
    overlap = {e['scenarioId'] for e in doc['mostVariableScenarios']} & {e['scenarioId'] for e in doc['leastVariableScenarios']}
    expect('most/least overlap', sorted(overlap), [])

    # Warnings: every short pair named, with its scored count.
    short = sorted(((m, s, len(scored.get((m, s), []))) for m in models for s in scenarios
                    if len(scored.get((m, s), [])) < requested), key=lambda p: (p[0].encode(), p[1].encode()))
    extra = sorted(((m, s, len(xs)) for (m, s), xs in scored.items() if len(xs) > requested),
                   key=lambda p: (p[0].encode(), p[1].encode()))
    by_code = {w['code']: w for w in doc['warnings']}
    expect('SHORT_PAIRS pairs', [(p['modelId'], p['scenarioId'], p['scoredSamples']) for p in by_code.get('SHORT_PAIRS', {}).get('pairs', [])], short)
    expect('EXTRA_SAMPLES pairs', [(p['modelId'], p['scenarioId'], p['scoredSamples']) for p in by_code.get('EXTRA_SAMPLES', {}).get('pairs', [])], extra)
    expect('warning codes', sorted(by_code), sorted((['SHORT_PAIRS'] if short else []) + (['EXTRA_SAMPLES'] if extra else [])
                                                    + (['NO_SCORED_SAMPLES'] if not scored else [])))

    desc = 'seed %d: %d models x %d scenarios, %d requested, %d scored samples, scale %d..%d' % (
        seed, len(models), len(scenarios), requested, sum(len(x) for x in scored.values()), lo, hi)
    if problems:
        failed += 1
        print('not ok - ' + desc)
        for p in problems[:10]:
            print('#   ' + p)
    else:
        print('ok - ' + desc)


for seed in sys.argv[1:]:
    check(int(seed))
sys.exit(1 if failed else 0)
PY
