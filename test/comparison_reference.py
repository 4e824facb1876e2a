"""Independent reference for the model comparison (SPEC 12.4), used by
test/comparison_random.sh and to derive the figures of sql/comparison.sql:
exact rational arithmetic (fractions) for every mean, variance and
co-moment, mpmath (40 digits) for square roots, the t and normal
distributions and their quantiles. Nothing here calls the extension.

paired(a, b, level)      the fields of multisample.paired_comparison
wilson(s, n, level)      (estimate, lower, upper)
holm(ps)                 Holm-Bonferroni adjusted p-values (None stays None)
scenarios_needed(...), minimum_detectable_difference(...)
pass_at_k(n, c, k), pass_hat_k(n, c, k)
model_comparison(samples)        rows of the view, from {(model, scenario): [scores]}
model_pass_at_k(samples, threshold, samples_per_scenario)"""
from fractions import Fraction
from math import comb

import mpmath as mp

from cdf_reference import t_upper

mp.mp.dps = 40
TIE = Fraction(1, 10 ** 12)


def mpf(x):
    if isinstance(x, Fraction):
        return mp.mpf(x.numerator) / x.denominator
    return mp.mpf(x)


def z_quantile(p):
    """z with P(Z <= z) = p (p an mpf or an exact float)."""
    return mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1)


def t_quantile(p, df):
    """t with P(T <= t) = p > 1/2."""
    p = mp.mpf(p)
    z = z_quantile(p)
    lo, hi = z, z + 1
    while 1 - t_upper(hi, df) < p:
        hi = 2 * hi
    return mp.findroot(lambda t: (1 - t_upper(t, df)) - p, (lo, hi), solver='anderson')


def paired(a, b, level=0.95, float_differences=False):
    """The paired comparison of equal-length lists of exact values. With
    float_differences, the differences are a - b rounded to a double, as
    the aggregate (like any float8 expression) forms them; they are exact
    whenever a and b are within a factor 2 of each other or of few digits."""
    n = len(a)
    if n == 0:
        return None
    fa = [Fraction(x) for x in a]
    fb = [Fraction(x) for x in b]
    if float_differences:
        d = [Fraction(float(x) - float(y)) for x, y in zip(a, b)]
    else:
        d = [x - y for x, y in zip(fa, fb)]
    ma, mb, md = sum(fa) / n, sum(fb) / n, sum(d) / n
    r = dict(pairs=n, mean_a=ma, mean_b=mb, mean_difference=md, std_error=None, lower=None,
             upper=None, level=None, t_statistic=None, df=None, p_value=None, effect_size=None,
             correlation=None)
    if n < 2:
        return r
    vd = sum((x - md) ** 2 for x in d) / (n - 1)
    sd = mp.sqrt(mpf(vd))
    se = sd / mp.sqrt(n)
    tq = t_quantile((1.0 + level) / 2.0, n - 1)   # the float8 (1 + level) / 2, as SQL has it
    r.update(std_error=se, lower=mpf(md) - tq * se, upper=mpf(md) + tq * se, level=level, df=n - 1)
    if vd != 0:
        t = mpf(md) / se
        r.update(t_statistic=t, p_value=2 * t_upper(abs(t), n - 1), effect_size=mpf(md) / sd)
    saa = sum((x - ma) ** 2 for x in fa)
    sbb = sum((y - mb) ** 2 for y in fb)
    sab = sum((x - ma) * (y - mb) for x, y in zip(fa, fb))
    if saa != 0 and sbb != 0:
        r['correlation'] = mpf(sab) / mp.sqrt(mpf(saa) * mpf(sbb))
    return r


def wilson(s, n, level=0.95):
    z = z_quantile((1 + mp.mpf(level)) / 2)
    s, n = mpf(s), mpf(n)
    centre = (s + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * mp.sqrt(s * (n - s) / n + z * z / 4)
    return s / n, max(centre - half, 0), min(centre + half, 1)


def holm(ps):
    idx = sorted((i for i, p in enumerate(ps) if p is not None), key=lambda i: (ps[i], i))
    m = len(idx)
    out = list(ps)
    running = 0
    for j, i in enumerate(idx):
        running = max(running, min(1, (m - j) * ps[i]))
        out[i] = running
    return out


def _variance(between, wa, wb, ka, kb):
    return mpf(between) + mpf(wa) / mpf(ka) + mpf(wb) / mpf(kb)


def _zsum(alpha, power):
    return z_quantile(1 - mp.mpf(alpha) / 2) + z_quantile(mp.mpf(power))


def scenarios_needed(diff, between, wa, wb, ka, kb, alpha=0.05, power=0.8):
    return mp.ceil(_zsum(alpha, power) ** 2 * _variance(between, wa, wb, ka, kb) / mpf(diff) ** 2)


def minimum_detectable_difference(n, between, wa, wb, ka, kb, alpha=0.05, power=0.8):
    return _zsum(alpha, power) * mp.sqrt(_variance(between, wa, wb, ka, kb) / n)


def pass_at_k(n, c, k):
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def pass_hat_k(n, c, k):
    return Fraction(comb(c, k), comb(n, k))


def _pair_stats(scores):
    k = len(scores)
    m = sum(Fraction(s) for s in scores) / k
    v = sum((Fraction(s) - m) ** 2 for s in scores) / (k - 1) if k > 1 else None
    return k, m, v


def model_comparison(samples):
    """Rows of model_comparison for one run: samples maps (model, scenario)
    to the list of scored samples (exact values)."""
    stats = {key: _pair_stats(v) for key, v in samples.items() if v}
    models = sorted({m for m, _ in stats})
    rows = []
    for i, ma in enumerate(models):
        for mb in models[i + 1:]:
            shared = sorted(s for (m, s) in stats if m == ma and (mb, s) in stats)
            if not shared:
                continue
            A = [stats[(ma, s)] for s in shared]
            B = [stats[(mb, s)] for s in shared]
            r = paired([x[1] for x in A], [y[1] for y in B])
            n = len(shared)
            wins = sum(1 for x, y in zip(A, B) if x[1] - y[1] > TIE * max(abs(x[1]), abs(y[1])))
            losses = sum(1 for x, y in zip(A, B) if y[1] - x[1] > TIE * max(abs(x[1]), abs(y[1])))
            ties = n - wins - losses
            va = [x[2] for x in A if x[2] is not None]
            vb = [y[2] for y in B if y[2] is not None]
            noise_terms = [x[2] / x[0] + y[2] / y[0] for x, y in zip(A, B)
                           if x[2] is not None and y[2] is not None]
            wa = sum(va) / len(va) if va else None
            wb = sum(vb) / len(vb) if vb else None
            ka = Fraction(sum(x[0] for x in A), n)
            kb = Fraction(sum(y[0] for y in B), n)
            dvar = None
            if n >= 2:
                md = r['mean_difference']
                dvar = sum((x[1] - y[1] - md) ** 2 for x, y in zip(A, B)) / (n - 1)
            between = None
            if dvar is not None and noise_terms:
                between = max(Fraction(0), dvar - sum(noise_terms) / len(noise_terms))
            if between is not None:
                sizing = (between, wa, wb, ka, kb)
            elif dvar is not None:
                sizing = (dvar, 0, 0, 1, 1)
            else:
                sizing = None
            decided = wins + losses
            w = wilson(wins, decided) if decided else (None, None, None)
            rows.append(dict(
                model_a=ma, model_b=mb, scenarios=n, mean_a=r['mean_a'], mean_b=r['mean_b'],
                mean_difference=r['mean_difference'], std_error=r['std_error'], ci_lower=r['lower'],
                ci_upper=r['upper'], ci_level=r['level'], t_statistic=r['t_statistic'],
                p_value=r['p_value'], effect_size=r['effect_size'], wins=wins, ties=ties,
                losses=losses, win_rate=Fraction(wins, decided) if decided else None,
                win_rate_lower=w[1], win_rate_upper=w[2], correlation=r['correlation'],
                between_variance=between, within_variance_a=wa, within_variance_b=wb,
                samples_a=ka, samples_b=kb,
                minimum_detectable_difference=(minimum_detectable_difference(n, *sizing)
                                               if sizing else None),
                scenarios_needed=(scenarios_needed(abs(r['mean_difference']), *sizing)
                                  if sizing and r['mean_difference'] != 0 else None)))
    adjusted = holm([row['p_value'] for row in rows])
    for row, h in zip(rows, adjusted):
        row['p_value_holm'] = h
    return rows


def model_pass_at_k(samples, threshold, samples_per_scenario):
    """Rows of model_pass_at_k for one run: (model, k) -> (scenarios,
    pass@k, pass^k)."""
    out = {}
    for model in sorted({m for m, _ in samples}):
        pairs = [(len(v), sum(1 for s in v if s >= threshold)) for (m, _), v in samples.items()
                 if m == model and v]
        kmax = max(min(n, samples_per_scenario) for n, _ in pairs)
        for k in range(1, kmax + 1):
            used = [(n, c) for n, c in pairs if min(n, samples_per_scenario) >= k]
            out[(model, k)] = (len(used),
                               sum(pass_at_k(n, c, k) for n, c in used) / len(used),
                               sum(pass_hat_k(n, c, k) for n, c in used) / len(used))
    return out
