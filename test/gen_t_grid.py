#!/usr/bin/python3
"""Generates test/data/t_quantile_grid.tsv: exact Student-t and normal
quantiles, computed with mpmath at 50 significant digits (not SciPy, which is
off by up to 5e-9 for large df).

Each row: kind (t or normal), df (empty for normal), level, p and the exact
quantile at p. p = (1 + level) / 2 is computed in float8 arithmetic, exactly
as SQL computes it, and printed as the shortest string that reads back as
that double; the quantile is the exact one at that binary p, so a comparison
measures the algorithm, not the rounding of the decimal level.

    /usr/bin/python3 test/gen_t_grid.py > test/data/t_quantile_grid.tsv
"""
import sys

import mpmath as mp

mp.mp.dps = 50

LEVELS = [0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9999]


def t_upper_tail(t, nu):
    """P(T > t) for t > 0, as half a regularized incomplete beta."""
    x = nu / (nu + t * t)
    return mp.betainc(nu / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2


def t_upper_tail_hyp2f1(t, nu):
    """P(T > t) through the hypergeometric form of the CDF (a cross-check)."""
    c = mp.gamma((nu + 1) / 2) / (mp.sqrt(mp.pi * nu) * mp.gamma(nu / 2))
    return mp.mpf(1) / 2 - t * c * mp.hyp2f1(mp.mpf(1) / 2, (nu + 1) / 2, mp.mpf(3) / 2, -t * t / nu)


def t_quantile(p, df):
    """t with P(T <= t) = p, for p > 1/2 given as an exact double: the root
    of log P(T > t) - log(1 - p), decreasing in u = log t, bracketed and
    then solved by Anderson-Bjorck, and checked."""
    p = mp.mpf(p)
    nu = mp.mpf(df)
    q = 1 - p

    def g(u):
        return mp.log(t_upper_tail(mp.exp(u), nu)) - mp.log(q)

    lo = mp.log(normal_quantile(p))  # the t quantile is larger
    hi = lo + 1
    while g(hi) > 0:
        hi += 2 * (hi - lo)
    u = mp.findroot(g, (lo, hi), solver='anderson', tol=mp.mpf(10) ** -60, verify=False)
    assert abs(g(u)) < mp.mpf(10) ** -40, (df, p)
    return mp.exp(u)


def normal_quantile(p):
    return mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1)


def df_grid():
    """Integers 1..30, a log grid of 8 points per decade up to 1e6, and
    some non-integer values."""
    values = [float(n) for n in range(1, 31)]
    values += [float(mp.nstr(mp.mpf(10) ** (mp.mpf(k) / 8), 6)) for k in range(8, 49)]
    values += [1.5, 2.5, 7.3, 123.45, 3.75, 45.6, 999.9, 12345.678, 654321.5]
    return sorted(set(values))


def main():
    out = sys.stdout
    out.write('kind\tdf\tlevel\tp\tquantile\n')
    for level in LEVELS:
        p = (1.0 + level) / 2.0
        out.write('normal\t\t%r\t%r\t%s\n' % (level, p, mp.nstr(normal_quantile(p), 22)))
    for df in df_grid():
        for level in LEVELS:
            p = (1.0 + level) / 2.0
            t = t_quantile(p, df)
            # the root must satisfy the equation, checked by a second formula
            if df in (1.0, 7.3, 1000.0, 1000000.0):
                q = 1 - mp.mpf(p)
                other = t_upper_tail_hyp2f1(t, mp.mpf(df))
                assert abs(other / q - 1) < mp.mpf(10) ** -30, (df, level, other, q)
            out.write('t\t%r\t%r\t%r\t%s\n' % (df, level, p, mp.nstr(t, 22)))


if __name__ == '__main__':
    main()
