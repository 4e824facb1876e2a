#!/usr/bin/python3
"""Independent reference figures for sql/analysis.sql.

Exact arithmetic (fractions) for means and variances, mpmath at 40 digits for
square roots and Student t quantiles. Nothing here calls PostgreSQL: it
recomputes from the scores written in sql/analysis.sql, so the expected
output of that test can be checked against these numbers.
    /usr/bin/python3 test/analysis_reference.py
"""
from fractions import Fraction as F
import mpmath as mp

mp.mp.dps = 40

# run an-multi: samplesPerScenario 3, scoreScale 1..5; m-b/an-s3 has only two
# scored samples (its third is unscored, a deleted one is ignored).
MULTI = {
    ('m-a', 'an-s1'): [1, 2, 3], ('m-a', 'an-s2'): [4, 4, 4], ('m-a', 'an-s3'): [2, 4, 5],
    ('m-b', 'an-s1'): [5, 5, 3], ('m-b', 'an-s2'): [1, 3, 5], ('m-b', 'an-s3'): [2, 3],
}
# run an-single: one sample per pair (samplesPerScenario absent).
SINGLE = {
    ('m-a', 'an-s1'): [2], ('m-a', 'an-s2'): [3], ('m-a', 'an-s3'): [5],
    ('m-b', 'an-s1'): [4], ('m-b', 'an-s2'): [4], ('m-b', 'an-s3'): [1],
}


def mean(xs):
    return F(sum(xs), len(xs))


def var(xs):            # sample variance, n - 1
    m = mean(xs)
    return sum((F(x) - m) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else None


def t_quantile(p, df):  # Student t quantile by inverting the regularized incomplete beta
    f = lambda x: 1 - mp.betainc(mp.mpf(df) / 2, mp.mpf(1) / 2, 0, df / (df + x * x), regularized=True) / 2 - p
    return mp.findroot(f, 2)


def show(label, value):
    if value is None:
        print('%-52s NULL' % label)
    elif isinstance(value, F):
        print('%-52s %-12s = %s' % (label, value, mp.nstr(mp.mpf(value.numerator) / value.denominator, 17)))
    else:
        print('%-52s %s' % (label, mp.nstr(value, 17)))


def report(name, data, scale=(1, 5)):
    print('== run %s' % name)
    for (model, scenario), xs in sorted(data.items()):
        show('pair %s/%s mean' % (model, scenario), mean(xs))
        show('pair %s/%s variance' % (model, scenario), var(xs))
    scen = sorted({s for _, s in data})
    mean_var = {}
    for s in scen:
        vs = [var(xs) for (m, s2), xs in data.items() if s2 == s and var(xs) is not None]
        mean_var[s] = sum(vs) / len(vs) if vs else None
        show('scenario %s mean of per-model variances' % s, mean_var[s])
    ranked = sorted((s for s in scen if mean_var[s] is not None), key=lambda s: (-mean_var[s], s))
    k = len(ranked)
    print('%-52s %s' % ('scenarios by mean variance, most variable first', ranked))
    print('%-52s %s' % ('mostVariable (first min(5, ceil(k/2)))', ranked[:min(5, (k + 1) // 2)]))
    print('%-52s %s' % ('leastVariable (last min(5, floor(k/2)), least first)', ranked[::-1][:min(5, k // 2)]))
    for model in sorted({m for m, _ in data}):
        pairs = {s: xs for (m, s), xs in data.items() if m == model}
        allx = [x for xs in pairs.values() for x in xs]
        show('model %s sample count' % model, F(len(allx)))
        show('model %s mean' % model, mean(allx))
        show('model %s variance (all samples)' % model, var(allx))
        show('model %s std_dev' % model, mp.sqrt(mp.mpf(var(allx).numerator) / var(allx).denominator))
        show('model %s min / max' % model, None if not allx else F(min(allx)))
        show('', F(max(allx)))
        means = [mean(xs) for xs in pairs.values()]
        n = len(means)
        mm = mp.mpf(mean(means).numerator) / mean(means).denominator
        se = mp.sqrt(mp.mpf(var(means).numerator) / var(means).denominator / n)
        t = t_quantile(mp.mpf('0.975'), n - 1)
        show('model %s t(0.975, df=%d)' % (model, n - 1), t)
        show('model %s CI lower (scenario means)' % model, mm - t * se)
        show('model %s CI upper' % model, mm + t * se)
        vs = [var(xs) for xs in pairs.values() if var(xs) is not None]
        if vs:
            w = sum(vs) / len(vs)
            show('model %s mean within-scenario variance' % model, w)
            show('model %s max within-scenario variance' % model, max(vs))
            show('model %s within-scenario std_dev' % model, mp.sqrt(mp.mpf(w.numerator) / w.denominator))
            pops = [var(xs) * (len(xs) - 1) / len(xs) for xs in pairs.values() if var(xs) is not None]
            pop = sum(pops) / len(pops)
            show('model %s mean within-scenario population variance' % model, pop)
            show('model %s consistency 1 - pop / ((max-min)^2/4)' % model, 1 - pop / F((scale[1] - scale[0]) ** 2, 4))
        else:
            show('model %s within-scenario figures' % model, None)


report('an-multi', MULTI)
report('an-single', SINGLE)

# runs an-wide (12 scenarios) and an-seven (the first 7 of them): one model,
# two samples per scenario, 1 and 1 + d; the sample variance is d^2 / 2.
D = {'w01': 0, 'w02': 0.5, 'w03': 1, 'w04': 1.5, 'w05': 2, 'w06': 2.5, 'w07': 3,
     'w08': 3.5, 'w09': 4, 'w10': 4, 'w11': 0.25, 'w12': 1.75}
for name, ids in (('an-wide', sorted(D)), ('an-seven', sorted(D)[:7])):
    data = {('m', s): [F(1), 1 + F(D[s])] for s in ids}
    print('== run %s' % name)
    mv = {s: var(xs) for (_, s), xs in data.items()}
    ranked = sorted(mv, key=lambda s: (-mv[s], s))
    k = len(ranked)
    print('%-52s %s' % ('ranked', [(s, str(mv[s])) for s in ranked]))
    print('%-52s %s' % ('mostVariable', ranked[:min(5, (k + 1) // 2)]))
    print('%-52s %s' % ('leastVariable', ranked[::-1][:min(5, k // 2)]))
