/*
 * cdf.c
 *      Distribution functions of the standard normal and Student-t
 *      distributions. No PostgreSQL dependency.
 *
 * Both compute the smaller tail directly and return 1 - tail only for the
 * larger probability, so a p-value of 1e-300 keeps its relative accuracy.
 *
 * Normal: Cody's rational Chebyshev approximations (W. J. Cody, "Rational
 * Chebyshev approximations for the error function", Math. Comp. 23 (1969);
 * the coefficients of his ANORM, ACM TOMS algorithm 715). exp(-x^2/2) is
 * evaluated as exp(-xh^2/2) exp(-(x - xh)(x + xh)/2) with xh = x rounded
 * down to a multiple of 1/16, which keeps x^2 exact.
 *
 * Student-t, upper tail P(T > t) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2):
 *  - df >= 30 and x > 0.7 (|t| < 0.65 sqrt(df)): DiDonato and Morris's
 *    asymptotic expansion of I_x(a, b) for large a and b <= 1 (BGRAT, ACM
 *    TOMS 708, eq. 9 - 9.6) with b = 1/2, where Q(1/2, u) = erfc(sqrt(u)) is
 *    twice a normal tail. The continued fraction needs thousands of terms
 *    there and loses accuracy (5e-12 at df = 1e5);
 *  - otherwise the continued fraction of the incomplete beta function
 *    (MsTDistribution in quantiles.c), which converges quickly there;
 *  - df = +Infinity: the normal.
 * Measured against 50-digit mpmath: see test/cdf_accuracy.sh.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "cdf.h"
#include "quantiles.h"

#define MS_SQRT_PI 1.772453850905516027298167483341145183
#define MS_1_SQRT_2PI 0.398942280401432677939946059934381868

/* BGRAT is used from this df on, where x = df / (df + t^2) exceeds 0.7. */
#define MS_BGRAT_MIN_DF 30.0
#define MS_BGRAT_MIN_X 0.7
/* Terms of the BGRAT series; DiDonato and Morris's bound for double. */
#define MS_BGRAT_TERMS 30

/* exp(-x^2 / 2) * factor for x >= 0, without rounding x^2. */
static double
GaussianFactor(double x, double factor)
{
	double		xh = trunc(x * 16.0) / 16.0;
	double		del = (x - xh) * (x + xh);

	return exp(-xh * xh * 0.5) * exp(-del * 0.5) * factor;
}

/* P(Z > x) for x > 0.66291 (Cody's second and third intervals). */
static double
NormalUpperTail(double x)
{
	static const double c[9] = {
		0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979,
		597.27027639480026226, 2494.5375852903726711, 6848.1904505362823326,
		11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8
	};
	static const double d[8] = {
		22.266688044328115691, 235.38790178262499861, 1519.377599407554805,
		6485.558298266760755, 18615.571640885098091, 34900.952721145977266,
		38912.003286093271411, 19685.429676859990727
	};
	static const double p[6] = {
		0.21589853405795699, 0.1274011611602473639, 0.022235277870649807,
		0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303
	};
	static const double q[5] = {
		1.28426009614491121, 0.468238212480865118, 0.0659881378689285515,
		0.00378239633202758244, 7.29751555083966205e-5
	};
	double		num;
	double		den;
	int			i;

	/* beyond this the tail is below half the smallest subnormal */
	if (x > 40.0)
		return 0.0;
	if (x <= 5.656854249492380195)	/* sqrt(32) */
	{
		num = c[8] * x;
		den = x;
		for (i = 0; i < 7; i++)
		{
			num = (num + c[i]) * x;
			den = (den + d[i]) * x;
		}
		return GaussianFactor(x, (num + c[7]) / (den + d[7]));
	}
	else
	{
		double		r = 1.0 / (x * x);

		num = p[5] * r;
		den = r;
		for (i = 0; i < 4; i++)
		{
			num = (num + p[i]) * r;
			den = (den + q[i]) * r;
		}
		return GaussianFactor(x, (MS_1_SQRT_2PI - r * (num + p[4]) / (den + q[4])) / x);
	}
}

double
MsNormalCdf(double z)
{
	static const double a[5] = {
		2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582,
		18154.981253343561249, 0.065682337918207449113
	};
	static const double b[4] = {
		47.20258190468824187, 976.09855173777669322, 10260.932208618978205,
		45507.789335026729956
	};

	if (isnan(z))
		return z;
	if (fabs(z) <= 0.66291)
	{
		double		zsq = z * z;
		double		num = a[4] * zsq;
		double		den = zsq;
		int			i;

		for (i = 0; i < 3; i++)
		{
			num = (num + a[i]) * zsq;
			den = (den + b[i]) * zsq;
		}
		return 0.5 + z * (num + a[3]) / (den + b[3]);
	}
	return z < 0.0 ? NormalUpperTail(-z) : 1.0 - NormalUpperTail(z);
}

/*
 * The coefficients p_n of BGRAT (DiDonato and Morris, eq. 9.4) for b = 1/2:
 * p_0 = 1, p_n = (b - 1)/(2n + 1)! + (1/n) sum_{m=1}^{n-1} (m b - n) p_{n-m} / (2m + 1)!.
 * Computed once per process.
 */
static const double *
BgratCoefficients(void)
{
	static double p[MS_BGRAT_TERMS];
	static bool ready = false;
	double		factorial[2 * MS_BGRAT_TERMS + 2];
	int			n;

	if (ready)
		return p;
	factorial[0] = 1.0;
	for (n = 1; n < 2 * MS_BGRAT_TERMS + 2; n++)
		factorial[n] = factorial[n - 1] * n;
	p[0] = 1.0;
	for (n = 1; n < MS_BGRAT_TERMS; n++)
	{
		double		s = 0.0;
		int			m;

		for (m = 1; m < n; m++)
			s += (m * 0.5 - n) * p[n - m] / factorial[2 * m + 1];
		p[n] = s / n - 0.5 / factorial[2 * n + 1];
	}
	ready = true;
	return p;
}

/*
 * P(T > t) for t > 0, df >= 30 and x = df / (df + t^2) > 0.7, by BGRAT
 * with a = df/2, b = 1/2: with N = a - 1/4, u = -N log x and
 * h = exp(-u) u^(1/2) / Gamma(1/2),
 *   I_x(a, 1/2) = Gamma(a + 1/2) / (Gamma(a) N^(1/2)) * sum_n p_n K_n,
 *   K_0 = Q(1/2, u) = erfc(sqrt(u)),
 *   K_n = ((2n - 3/2)(2n - 1/2) K_{n-1} + (u + 2n - 1/2) (log(x)/2)^(2n-2) h) / (4 N^2).
 */
static double
TUpperTailLargeDf(double t, double df)
{
	const double *p = BgratCoefficients();
	double		a = 0.5 * df;
	double		big_n = a - 0.25;
	double		logx = -log1p((t / df) * t);
	double		u = -big_n * logx;
	double		h = exp(-u) * sqrt(u) / MS_SQRT_PI;
	double		k = 2.0 * MsNormalCdf(-sqrt(2.0 * u));
	double		sum = k;
	double		power = h;
	double		lx2 = 0.25 * logx * logx;
	double		n4 = 4.0 * big_n * big_n;
	int			n;

	for (n = 1; n < MS_BGRAT_TERMS; n++)
	{
		double		b2n = 2.0 * n - 1.5;
		double		term;

		k = (b2n * (b2n + 1.0) * k + (u + b2n + 1.0) * power) / n4;
		power *= lx2;
		term = p[n] * k;
		sum += term;
		if (fabs(term) <= 0.5 * DBL_EPSILON * fabs(sum))
			break;
	}
	return 0.5 * (MsGammaHalfRatio(a) / sqrt(big_n)) * sum;
}

double
MsTCdf(double t, double df)
{
	double		abs_t = fabs(t);
	double		upper;

	if (isnan(t) || isnan(df))
		return NAN;
	if (t == 0.0)
		return 0.5;
	if (isinf(df))
		return MsNormalCdf(t);
	if (isinf(t))
		upper = 0.0;
	else if (df >= MS_BGRAT_MIN_DF && abs_t * abs_t < df * (1.0 / MS_BGRAT_MIN_X - 1.0))
		upper = TUpperTailLargeDf(abs_t, df);
	else
	{
		double		central;
		double		log_density;

		MsTDistribution(abs_t, df, &upper, &central, &log_density);
	}
	return t < 0.0 ? upper : 1.0 - upper;
}
