/*
 * quantiles.c
 *      Standard normal and Student-t quantiles. No PostgreSQL dependency.
 *
 * Normal: Wichura's AS 241 (PPND16), relative accuracy about 1e-16.
 * Student-t, with q = min(p, 1 - p):
 *  - df = 1 (Cauchy) and df = 2: closed forms;
 *  - df >= 3000, unless far in the tail: Fisher's expansion in 1/df,
 *    whose first omitted term is below 1e-15 there;
 *  - other df > 1: Hill's (1970) approximation as a start, refined by
 *    Halley steps on the distribution function, evaluated as a regularized
 *    incomplete beta with a continued fraction. Whichever of the tail and
 *    the central probability is small comes straight from the fraction (no
 *    cancellation), and the prefactor uses an asymptotic series for
 *    log(Gamma(a + 1/2) / Gamma(a)) rather than a difference of lgamma
 *    values (which loses up to 1e-9 at large df);
 *  - df < 1: Newton steps on log t, as t spans hundreds of decades.
 * Measured against 50-digit mpmath on df 1 .. 1e6 (non-integer df too) and
 * two-sided levels 0.5 .. 0.9999: relative error <= 1.4e-14
 * (test/quantile_accuracy.sh).
 */
#include <float.h>
#include <math.h>

#include "quantiles.h"

#define MS_SQRT_PI 1.772453850905516027298167483341145183

/* From this df on, the t quantile comes from Fisher's expansion. */
#define MS_CORNISH_FISHER_MIN_DF 3000.0

/*
 * AS 241: z with P(Z <= z) = p. For p > 1/2 the upper tail 1 - p is exact
 * in double, so both tails are accurate.
 */
double
MsNormalQuantile(double p)
{
	double		q = p - 0.5;
	double		r;
	double		val;

	if (fabs(q) <= 0.425)
	{
		r = 0.180625 - q * q;
		return q * (((((((r * 2509.0809287301226727 +
						  33430.575583588128105) * r + 67265.770927008700853) * r +
						45921.953931549871457) * r + 13731.693765509461125) * r +
					  1971.5909503065514427) * r + 133.14166789178437745) * r +
					3.387132872796366608)
			/ (((((((r * 5226.495278852545925 +
					 28729.085735721942674) * r + 39307.89580009271061) * r +
				   21213.794301586595867) * r + 5394.1960214247511077) * r +
				 687.1870074920579083) * r + 42.313330701600911252) * r + 1.0);
	}

	r = sqrt(-log(q < 0 ? p : 1.0 - p));
	if (r <= 5.0)
	{
		r -= 1.6;
		val = (((((((r * 7.7454501427834140764e-4 +
					 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
				   1.27045825245236838258) * r + 3.64784832476320460504) * r +
				 5.7694972214606914055) * r + 4.6303378461565452959) * r +
			   1.42343711074968357734)
			/ (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
					0.0151986665636164571966) * r + 0.14810397642748007459) * r +
				  0.68976733498510000455) * r + 1.6763848301838038494) * r +
				2.05319162663775882187) * r + 1.0);
	}
	else
	{
		r -= 5.0;
		val = (((((((r * 2.01033439929228813265e-7 +
					 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
				   0.026532189526576123093) * r + 0.29656057182850489123) * r +
				 1.7848265399172913358) * r + 5.4637849111641143699) * r +
			   6.6579046435011037772)
			/ (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r +
					1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
				  0.0148753612908506148525) * r + 0.13692988092273580531) * r +
				0.59983220655588793769) * r + 1.0);
	}
	return q < 0 ? -val : val;
}

/*
 * Stirling's error term: lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2),
 * by its asymptotic series; for x >= 10 the truncation error is below 1e-17.
 */
double
MsStirlingError(double x)
{
	double		r = 1.0 / (x * x);

	return (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r * (1.0 / 1680 -
			r * (1.0 / 1188 - r * (691.0 / 360360 - r * (1.0 / 156))))))) / x;
}

/*
 * Gamma(a + 1/2) / Gamma(a) for a > 0, to a few ulps: shifted up to a >= 10
 * with the recurrence Gamma(x + 1) = x Gamma(x), then
 * log ratio = (a - 1/2) log1p(1/(2a)) + log(a + 1/2)/2 - 1/2
 *             + MsStirlingError(a + 1/2) - MsStirlingError(a).
 */
double
MsGammaHalfRatio(double a)
{
	double		factor = 1.0;
	double		lr;

	while (a < 10.0)
	{
		factor *= a / (a + 0.5);
		a += 1.0;
	}
	lr = (a - 0.5) * log1p(0.5 / a) + 0.5 * log(a + 0.5) - 0.5 +
		(MsStirlingError(a + 0.5) - MsStirlingError(a));
	return factor * exp(lr);
}

/*
 * Continued fraction of the regularized incomplete beta function
 * (I_x(a, b) = x^a y^b / (a B(a, b)) * result, y = 1 - x), by the modified
 * Lentz method. Converges quickly for x < (a + 1) / (a + b + 2). The first
 * denominator is computed from y when x is close to 1, to avoid cancellation.
 */
static double
BetaContinuedFraction(double a, double b, double x, double y)
{
	const double tiny = 1e-300;
	double		c = 1.0;
	double		d;
	double		h;
	int			m;

	d = x > 0.5 ? ((1.0 - b) + (a + b) * y) / (a + 1.0) : 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;
	for (m = 1; m <= 100000; m++)
	{
		double		m2 = 2.0 * m;
		double		aa;
		double		del;

		aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		h *= d * c;

		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) <= DBL_EPSILON / 2)
			break;
	}
	return h;
}

/*
 * For t > 0: the upper tail P(T > t), the central probability
 * P(|T| <= t) = 1 - 2 P(T > t) and the log of the density at t. Whichever of the two
 * probabilities is small comes straight from the continued fraction, so
 * neither loses relative accuracy by cancellation.
 */
void
MsTDistribution(double t, double df, double *upper, double *central, double *log_density)
{
	double		a = 0.5 * df;
	double		x;				/* df / (df + t^2) */
	double		y;				/* t^2 / (df + t^2) */
	double		logx;
	double		logy;
	double		scale;
	double		beta;

	if (t < sqrt(df))
	{
		double		w = (t / df) * t;

		x = 1.0 / (1.0 + w);
		y = w / (1.0 + w);
		logx = -log1p(w);
		logy = log(w) - log1p(w);
	}
	else
	{
		/* r = df / t^2, from logs when t^2 would overflow */
		double		r = t < 1e150 ? (df / t) / t : exp(log(df) - 2.0 * log(t));
		double		logr = t < 1e150 ? log(r) : log(df) - 2.0 * log(t);

		x = r / (1.0 + r);
		y = 1.0 / (1.0 + r);
		logx = logr - log1p(r);
		logy = -log1p(r);
	}

	/* 1 / B(a, 1/2) = Gamma(a + 1/2) / (Gamma(a) sqrt(pi)) */
	scale = MsGammaHalfRatio(a) / MS_SQRT_PI;
	*log_density = (a + 0.5) * logx + log(scale / sqrt(df));
	scale *= exp(a * logx + 0.5 * logy);

	if (x < (a + 1.0) / (a + 2.5))
	{
		beta = scale / a * BetaContinuedFraction(a, 0.5, x, y);
		*upper = 0.5 * beta;
		*central = 1.0 - beta;
	}
	else
	{
		beta = 2.0 * scale * BetaContinuedFraction(0.5, a, y, x);
		*central = beta;
		*upper = 0.5 * (1.0 - beta);
	}
}

/*
 * Hill's (1970, CACM algorithm 396) approximation of the t quantile for the
 * two-sided tail probability tail2 = 2 P(T > t), df > 1; a starting value.
 */
static double
HillStart(double tail2, double df)
{
	double		a = 1.0 / (df - 0.5);
	double		b = 48.0 / (a * a);
	double		c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36;
	double		d = ((94.5 / (b + c) - 3.0) / b + 1.0) * sqrt(a * M_PI_2) * df;
	double		y = pow(d * tail2, 2.0 / df);

	if ((df < 2.1 && tail2 > 0.5) || y > 0.05 + a)
	{
		double		x = MsNormalQuantile(0.5 * tail2);

		y = x * x;
		if (df < 5.0)
			c += 0.3 * (df - 4.5) * (x + 0.6);
		c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c;
		y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x;
		y = expm1(a * y * y);
	}
	else
		y = ((1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0) +
			  0.5 / (df + 4.0)) * y - 1.0) * (df + 1.0) / (df + 2.0) + 1.0 / y;
	return sqrt(df * y);
}

/*
 * Fisher's expansion of the t quantile about the normal quantile z in powers
 * of 1/df (Abramowitz and Stegun 26.7.5), or NaN when its last term exceeds
 * 1e-12 of the result: the first omitted term is then no longer negligible
 * (measured: with the last term below 1e-12, the error stays below 1e-15).
 * For large df this replaces the continued fraction, which would need
 * thousands of terms there and lose accuracy.
 */
static double
CornishFisher(double z, double df)
{
	double		z2 = z * z;
	double		g1 = (z2 + 1.0) * z / 4.0;
	double		g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
	double		g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
	double		g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
	double		last = g4 / (df * df * df * df);
	double		t = z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;

	return fabs(last) <= 1e-12 * t ? t : NAN;
}

/*
 * Below df = 1 the tails are so heavy that t spans hundreds of orders of
 * magnitude: Newton's method on u = log t for the log of the small
 * probability, started from the leading term of the tail,
 * P(T > t) ~ K t^-df with K = Gamma((df+1)/2) df^(df/2-1) / (Gamma(df/2) sqrt(pi)).
 * Returns +Infinity when the quantile exceeds the double range.
 */
static double
HeavyTailQuantile(double q, double df)
{
	double		logk = log(MsGammaHalfRatio(0.5 * df) / MS_SQRT_PI) + (0.5 * df - 1.0) * log(df);
	double		u = (logk - log(q)) / df;
	double		target = q < 0.25 ? q : 1.0 - 2.0 * q;
	int			i;

	for (i = 0; i < 200; i++)
	{
		double		upper;
		double		central;
		double		log_density;
		double		t;
		double		step;

		if (u > log(DBL_MAX))
			return HUGE_VAL;
		t = exp(u);
		MsTDistribution(t, df, &upper, &central, &log_density);
		if (q < 0.25)
			step = (log(upper) - log(target)) * upper / exp(u + log_density);
		else
			step = (log(target) - log(central)) * central / (2.0 * exp(u + log_density));
		/* damp the first steps: the start can be far off near the centre */
		if (step > 20.0)
			step = 20.0;
		else if (step < -20.0)
			step = -20.0;
		u += step;
		if (fabs(step) <= 2.0 * DBL_EPSILON)
			break;
	}
	return u > log(DBL_MAX) ? HUGE_VAL : exp(u);
}

/*
 * For df > 1: Halley's method from Hill's approximation on P(T > t) = q
 * when q < 1/4, else on P(|T| <= t) = 1 - 2q.
 */
static double
HalleyQuantile(double q, double df)
{
	double		target = q < 0.25 ? q : 1.0 - 2.0 * q;
	double		t = HillStart(2.0 * q, df);
	int			i;

	for (i = 0; i < 50; i++)
	{
		double		upper;
		double		central;
		double		log_density;
		double		u;
		double		step;

		MsTDistribution(t, df, &upper, &central, &log_density);
		u = q < 0.25 ? (upper - target) : 0.5 * (target - central);
		u /= exp(log_density);
		step = u / (1.0 - 0.5 * u * (df + 1.0) * t / (df + t * t));
		if (!(t + step > 0.0))
			step = -0.5 * t;
		t += step;
		if (fabs(step) <= 2.0 * DBL_EPSILON * t)
			break;
	}
	return t;
}

/*
 * Student-t quantile, for t > 0 at q = min(p, 1 - p) (exact in double), with
 * the sign of p - 1/2. Returns +-Infinity when the quantile is beyond the
 * double range (df far below 1).
 */
double
MsTQuantile(double p, double df)
{
	double		q = p < 0.5 ? p : 1.0 - p;
	double		t = NAN;

	if (q == 0.5)
		return 0.0;
	if (isinf(df))
		t = -MsNormalQuantile(q);
	else if (df == 1.0)
		t = q < 0.25 ? 1.0 / tan(M_PI * q) : tan(M_PI * (0.5 - q));
	else if (df == 2.0)
		t = (1.0 - 2.0 * q) / sqrt(2.0 * q * (1.0 - q));
	else if (df < 1.0)
		t = HeavyTailQuantile(q, df);
	else
	{
		if (df >= MS_CORNISH_FISHER_MIN_DF)
			t = CornishFisher(-MsNormalQuantile(q), df);
		if (isnan(t))
			t = HalleyQuantile(q, df);
	}
	return p < 0.5 ? -t : t;
}
