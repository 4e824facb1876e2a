/*
 * stats_kernel.c
 *      Numerically stable running moments (count, mean, M2, min, max): the
 *      one-value update, the pairwise merge and the inverse for window
 *      frames. No PostgreSQL dependency; see stats_kernel.h for the rules.
 *
 * Must not be compiled with -ffast-math or -fassociative-math: the
 * error-free sums below rely on IEEE evaluation order.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "stats_kernel.h"

/* Knuth's TwoSum: s + e = a + b exactly, s = fl(a + b). */
static inline void
TwoSum(double a, double b, double *s, double *e)
{
	double		sum = a + b;
	double		bb = sum - a;

	*e = (a - (sum - bb)) + (b - bb);
	*s = sum;
}

/* x - (mean + mean_low), to about one ulp of the result. */
static inline double
Deviation(double x, const MsMoments *m)
{
	double		s;
	double		e;

	TwoSum(x, -m->mean, &s, &e);
	return s + (e - m->mean_low);
}

/* mean + mean_low += inc, renormalized. */
static inline void
AddToMean(MsMoments *m, double inc)
{
	double		s;
	double		e;

	TwoSum(m->mean, inc, &s, &e);
	TwoSum(s, m->mean_low + e, &m->mean, &m->mean_low);
}

/*
 * Adds one value (Welford / Youngs-Cramer): with d = x - mean,
 * mean += d / n and M2 += d * (d - d / n) = d^2 (n - 1) / n. Once a value is
 * not finite the mean follows sum semantics and M2 is NaN, as in
 * float8_accum.
 */
MsMomentsStatus
MsMomentsAccum(MsMoments *m, double x)
{
	double		n = m->count + 1.0;

	if (m->count == 0.0)
	{
		m->count = 1.0;
		m->mean = x;
		m->mean_low = 0.0;
		m->m2 = isfinite(x) ? 0.0 : NAN;
		m->min = x;
		m->max = x;
		return MS_MOMENTS_OK;
	}

	if (isfinite(x) && isfinite(m->mean))
	{
		double		delta = Deviation(x, m);
		double		inc = delta / n;

		AddToMean(m, inc);
		m->m2 += delta * (delta - inc);
		if (!isfinite(m->mean) || !isfinite(m->m2))
			return MS_MOMENTS_OVERFLOW;
	}
	else
	{
		m->mean += x;
		m->mean_low = 0.0;
		m->m2 = NAN;
	}
	m->count = n;
	if (MsFloatLess(x, m->min))
		m->min = x;
	if (MsFloatLess(m->max, x))
		m->max = x;
	return MS_MOMENTS_OK;
}

/*
 * Merges b into a (Chan, Golub and LeVeque): with d = mean_b - mean_a,
 * mean_a += d nb / n and M2 = M2_a + M2_b + d^2 na nb / n. Commutative and
 * associative up to rounding; an empty side leaves the other unchanged.
 */
MsMomentsStatus
MsMomentsCombine(MsMoments *a, const MsMoments *b)
{
	double		n;

	if (b->count == 0.0)
		return MS_MOMENTS_OK;
	if (a->count == 0.0)
	{
		*a = *b;
		return MS_MOMENTS_OK;
	}

	n = a->count + b->count;
	if (isfinite(a->mean) && isfinite(b->mean))
	{
		double		s;
		double		e;
		double		delta;
		double		inc;

		TwoSum(b->mean, -a->mean, &s, &e);
		delta = s + (e + (b->mean_low - a->mean_low));
		inc = delta * (b->count / n);
		AddToMean(a, inc);
		a->m2 = a->m2 + b->m2 + a->count * delta * inc;
		if (!isfinite(a->mean) || !isfinite(a->m2))
			return MS_MOMENTS_OVERFLOW;
	}
	else
	{
		a->mean += b->mean;
		a->mean_low = 0.0;
		a->m2 = NAN;
	}
	a->count = n;
	if (MsFloatLess(b->min, a->min))
		a->min = b->min;
	if (MsFloatLess(a->max, b->max))
		a->max = b->max;
	return MS_MOMENTS_OK;
}

/*
 * Removes one value that was added before (the inverse of MsMomentsAccum):
 * with d = x - mean, mean -= d / (n - 1) and M2 -= d (d + d / (n - 1)).
 * Asks for a restart (recomputation from the values still present) when the
 * value is the current min or max (they cannot be recovered), when anything
 * is not finite, or when rounding left M2 below the bound that the remaining
 * min and max imply. Otherwise min and max stay in the state, so M2 is at
 * least (max - min)^2 / 2 and the subtraction loses no more than a few ulps.
 */
MsMomentsStatus
MsMomentsRemove(MsMoments *m, double x)
{
	MsMoments	r = *m;
	double		delta;
	double		dec;
	double		spread;

	if (!isfinite(x) || !isfinite(m->mean) || !isfinite(m->m2))
		return MS_MOMENTS_RESTART;
	if (!(x > m->min && x < m->max))
		return MS_MOMENTS_RESTART;

	r.count = m->count - 1.0;
	delta = Deviation(x, m);
	dec = delta / r.count;
	AddToMean(&r, -dec);
	r.m2 = m->m2 - delta * (delta + dec);
	spread = m->max - m->min;
	if (!isfinite(r.mean) || !(r.m2 >= 0.5 * spread * spread))
		return MS_MOMENTS_RESTART;

	*m = r;
	return MS_MOMENTS_OK;
}

/*
 * Checks that a state could have been produced by the functions above: an
 * integral count in [0, 2^53]; all zero when empty; M2 >= 0, or NaN exactly
 * when the mean is not finite; mean_low below half an ulp of the mean (0
 * when the mean is not finite); min <= max in float8 order; one value means
 * min = max and M2 = 0 (or NaN).
 */
bool
MsMomentsIsValid(const MsMoments *m)
{
	/* fast path, run per row: two or more values, all finite */
	if (m->count >= 2.0 && m->count <= MS_MOMENTS_MAX_COUNT &&
		m->count == (double) (int64_t) m->count &&
		m->m2 >= 0.0 && m->m2 <= DBL_MAX &&
		fabs(m->mean) <= DBL_MAX && m->mean + m->mean_low == m->mean &&
		m->min <= m->max)
		return true;

	if (!(m->count >= 0.0 && m->count <= MS_MOMENTS_MAX_COUNT) ||
		m->count != floor(m->count))
		return false;
	if (m->count == 0.0)
		return m->mean == 0.0 && m->m2 == 0.0 && m->min == 0.0 &&
			m->max == 0.0 && m->mean_low == 0.0;
	if (isfinite(m->mean))
	{
		if (!(isfinite(m->m2) && m->m2 >= 0.0) || m->mean + m->mean_low != m->mean)
			return false;
	}
	else if (!isnan(m->m2) || m->mean_low != 0.0)
		return false;
	if (MsFloatLess(m->max, m->min))
		return false;
	if (m->count == 1.0 &&
		(MsFloatLess(m->min, m->max) || (isfinite(m->m2) && m->m2 != 0.0)))
		return false;
	return true;
}
