/*
 * pass_at_k.c
 *      pass@k and pass^k. No PostgreSQL dependency.
 *
 * Both are ratios R = C(n - m, k) / C(n, k) (m = c for pass@k = 1 - R,
 * m = n - c for pass^k = R), the probability that k draws without
 * replacement from n items miss all m marked ones. By symmetry
 * R = prod_{i < L} (n - M - i) / (n - i) with L = min(m, k), M = max(m, k).
 *  - L <= 2^20 (always when n <= 2^21): that product, in double-double
 *    arithmetic, so R and 1 - R are both exact to about 1e-16 relative
 *    (error-free products and quotients by fma; every factor is a ratio of
 *    integers exact in double). At most about 10 ms.
 *  - larger L: R as the hypergeometric probability P(X = 0), the product
 *    of three binomial probabilities evaluated by Loader's saddle-point
 *    method ("Fast and accurate computation of binomial probabilities",
 *    2000: Stirling's error terms and the deviance bd0 instead of
 *    differences of log-factorials), in time independent of n; relative
 *    error a few 1e-15 times |log R|.
 */
#include <float.h>
#include <math.h>

#include "pass_at_k.h"
#include "quantiles.h"

#define MS_LN_2PI 1.837877066409345483560659472811235279722794947275566825634

/* Largest L for the exact product. */
#define MS_PRODUCT_MAX_TERMS 1048576.0	/* 2^20 */

/* An unevaluated sum hi + lo with |lo| <= ulp(hi) / 2. */
typedef struct DoubleDouble
{
	double		hi;
	double		lo;
} DoubleDouble;

/* num / den as a double-double, for integers exact in double. */
static DoubleDouble
Quotient(double num, double den)
{
	DoubleDouble q;

	q.hi = num / den;
	q.lo = fma(-q.hi, den, num) / den;
	return q;
}

/* a * b in double-double arithmetic, normalised. */
static DoubleDouble
Product(DoubleDouble a, DoubleDouble b)
{
	DoubleDouble r;
	double		hi = a.hi * b.hi;
	double		lo = fma(a.hi, b.hi, -hi) + (a.hi * b.lo + a.lo * b.hi);

	r.hi = hi + lo;
	r.lo = lo - (r.hi - hi);
	return r;
}

/*
 * Loader's deviance term bd0(x, np) = x log(x / np) + np - x >= 0, by a
 * series in v = (x - np) / (x + np) when x is within 10 % of np (where the
 * direct formula cancels).
 */
static double
Deviance(double x, double np)
{
	if (x == 0.0)
		return np;
	if (fabs(x - np) < 0.1 * (x + np))
	{
		double		v = (x - np) / (x + np);
		double		s = (x - np) * v;
		double		ej = 2.0 * x * v;
		int			j;

		v *= v;
		for (j = 1; j < 1000; j++)
		{
			double		s1;

			ej *= v;
			s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				break;
			s = s1;
		}
		return s;
	}
	return x * log(x / np) + np - x;
}

/* Stirling's error term of x! = Gamma(x + 1) for an integer x >= 1. */
static double
StirlingErrorOfFactorial(double x)
{
	/* lgamma(x + 1) - ((x + 1/2) log x - x + log(2 pi) / 2), x = 1 .. 9 (mpmath) */
	static const double small[9] = {
		0.08106146679532726, 0.0413406959554093, 0.02767792568499834,
		0.020790672103765093, 0.016644691189821193, 0.013876128823070748,
		0.01189670994589177, 0.010411265261972096, 0.009255462182712733
	};

	/* Gamma(x + 1) = x Gamma(x) makes both error terms equal */
	return x < 10.0 ? small[(int) x - 1] : MsStirlingError(x);
}

/*
 * log of the binomial probability C(n, x) p^x q^(n - x) for integers
 * 0 < x < n with p + q = 1 (Loader), without the term
 * -(log(2 pi) + log(x)) / 2, which the caller cancels.
 */
static double
LogBinomialCore(double x, double n, double p, double q)
{
	return MsStirlingError(n) - StirlingErrorOfFactorial(x) - StirlingErrorOfFactorial(n - x)
		- Deviance(x, n * p) - Deviance(n - x, n * q) - 0.5 * log1p(-x / n);
}

/*
 * log R for large L: R = P(X = 0) for X hypergeometric (n items, m marked,
 * k draws) = b(0; m, p) b(k; n - m, p) / b(k; n, p) for any p, with b the
 * binomial probability; p = k / n puts the denominator at its mode. p and
 * q are chosen with p + q = 1 exactly (the larger rounded, the smaller its
 * exact complement), which the saddle-point forms rely on. Here
 * 0 < m, 0 < k, m + k <= n.
 */
static double
LogRatioSaddlePoint(double n, double m, double k)
{
	double		p;
	double		q;
	double		log_first;
	double		log_second;

	if (k <= n - k)
	{
		q = (n - k) / n;
		p = 1.0 - q;
	}
	else
	{
		p = k / n;
		q = 1.0 - p;
	}
	/* b(0; m, p) = q^m */
	log_first = p < 0.1 ? -Deviance(m, m * q) - m * p : m * log(q);
	/*
	 * b(k; n - m, p), with b(k; k, p) = p^k; the term that the core form
	 * leaves out is added back to it
	 */
	if (k == n - m)
		log_second = (q < 0.1 ? -Deviance(k, k * p) - k * q : k * log(p)) +
			0.5 * (MS_LN_2PI + log(k));
	else
		log_second = LogBinomialCore(k, n - m, p, q);
	return log_first + log_second - LogBinomialCore(k, n, p, q);
}

/* R and 1 - R, each to full relative accuracy. */
static void
BinomialRatio(double n, double m, double k, double *ratio, double *complement)
{
	double		terms = m < k ? m : k;
	double		skip = m < k ? k : m;

	if (terms > MS_PRODUCT_MAX_TERMS)
	{
		double		log_ratio = LogRatioSaddlePoint(n, m, k);

		*ratio = exp(log_ratio);
		*complement = -expm1(log_ratio);
	}
	else
	{
		DoubleDouble r = {1.0, 0.0};
		double		i;

		for (i = 0.0; i < terms && r.hi != 0.0; i += 1.0)
			r = Product(r, Quotient(n - skip - i, n - i));
		*ratio = r.hi + r.lo;
		*complement = (1.0 - r.hi) - r.lo;
	}
}

double
MsPassAtK(double n, double c, double k)
{
	double		ratio;
	double		complement;

	if (c == 0.0)
		return 0.0;
	if (n - c < k)
		return 1.0;
	BinomialRatio(n, c, k, &ratio, &complement);
	return complement;
}

double
MsPassHatK(double n, double c, double k)
{
	double		ratio;
	double		complement;

	if (c < k)
		return 0.0;
	if (c == n)
		return 1.0;
	BinomialRatio(n, n - c, k, &ratio, &complement);
	return ratio;
}
