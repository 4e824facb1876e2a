"""Exact values of the Student-t and normal distribution functions, for
test/cdf_accuracy.sh: mpmath at 40 significant digits, working precision
raised by the digits a subtraction cancels.

P(T > t) for t > 0 is half a regularized incomplete beta function,
I_x(df/2, 1/2) / 2 with x = df / (df + t^2). Two independent forms:
  t_upper      the incomplete beta: its lower part from 0 to x when x < 1/2,
               else 1 - I_y(1/2, df/2) with y = 1 - x;
  t_upper_hyp  1/2 - t c 2F1(1/2, (df+1)/2; 3/2; -t^2/df) with
               c = Gamma((df+1)/2) / (sqrt(pi df) Gamma(df/2)).
Both subtract from 1/2 or 1 in the tail; the working precision is raised by
the number of digits of the tail, estimated from the log density at t.
(mpmath's betainc from 0 to x fails to converge for x near 1 and large df,
and numerical quadrature is only good to about 1e-12 in the far tail: neither
is used.)"""
import mpmath as mp

mp.mp.dps = 40
HALF = mp.mpf(1) / 2


def log_density(t, df):
    return (mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2) - mp.log(df * mp.pi) / 2
            - (df + 1) / 2 * mp.log1p(t * t / df))


def _digits(t, df):
    """Working digits: 50 plus the decimal digits of the tail."""
    return max(50, int(-log_density(mp.mpf(t), mp.mpf(df)) / mp.log(10)) + 50)


def t_upper(t, df):
    """P(T > t) for t > 0 and finite df > 0; 0 below 1e-340."""
    t = mp.mpf(t)
    df = mp.mpf(df)
    if log_density(t, df) < -800:
        return mp.mpf(0)
    x = df / (df + t * t)
    if x < HALF:
        return mp.betainc(df / 2, HALF, 0, x, regularized=True) / 2
    with mp.workdps(_digits(t, df)):
        t = mp.mpf(t)
        df = mp.mpf(df)
        y = t * t / (df + t * t)
        r = (1 - mp.betainc(HALF, df / 2, 0, y, regularized=True)) / 2
    return +r


def t_upper_hyp(t, df):
    """P(T > t) through the hypergeometric form (the cross-check)."""
    if log_density(mp.mpf(t), mp.mpf(df)) < -800:
        return mp.mpf(0)
    with mp.workdps(_digits(t, df)):
        t = mp.mpf(t)
        df = mp.mpf(df)
        c = mp.gamma((df + 1) / 2) / (mp.sqrt(mp.pi * df) * mp.gamma(df / 2))
        r = HALF - t * c * mp.hyp2f1(HALF, (df + 1) / 2, mp.mpf(3) / 2, -t * t / df)
    return +r


def t_cdf(t, df):
    """P(T <= t); df may be mp.inf (the normal)."""
    if t == 0:
        return HALF
    if df == mp.inf:
        return normal_cdf(t)
    upper = t_upper(abs(t), df)
    return upper if t < 0 else 1 - upper


def normal_cdf(z):
    """P(Z <= z): mpmath's erfc, which keeps its relative accuracy in the tail."""
    z = mp.mpf(z)
    return mp.erfc(-z / mp.sqrt(2)) / 2
