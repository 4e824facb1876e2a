/*
 * stats_kernel.c
 *      Numerically stable running moments (count, mean, M2, min, max): the
 *      one-value update, the pairwise merge and the inverse for window
 *      frames. No PostgreSQL dependency; see stats_kernel.h for the rules.
 *
 * Must not be compiled with -ffast-math or -fassociative-math: the
 * error-free sums below rely on IEEE evaluation order.
 */
#include <math.h>

#include "stats_kernel.h"

/* Folds mean_low into mean: afterwards |mean_low| <= ulp(mean) / 2. */
void
MsMomentsNormalize(MsMoments *m)
{
	MsTwoSum(m->mean, m->mean_low, &m->mean, &m->mean_low);
}

/* mean + mean_low += inc, normalized. */
static inline void
AddToMean(MsMoments *m, double inc)
{
	double		e;

	MsTwoSum(m->mean, inc, &m->mean, &e);
	m->mean_low += e;
	MsMomentsNormalize(m);
}

/* The first value of an empty state (see MsMomentsAccum). */
void
MsMomentsFirst(MsMoments *m, double x)
{
	m->count = 1.0;
	m->mean = x;
	m->mean_low = 0.0;
	m->m2 = isfinite(x) ? 0.0 : NAN;
	m->min = x;
	m->max = x;
}

/*
 * Adds a value when it or the mean is not finite: from then on the mean
 * follows sum semantics and M2 is NaN, as in float8_accum.
 */
MsMomentsStatus
MsMomentsAccumNonFinite(MsMoments *m, double x)
{
	m->mean = MsMomentsMean(m) + x;
	m->mean_low = 0.0;
	m->m2 = NAN;
	m->count += 1.0;
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

		MsTwoSum(b->mean, -a->mean, &s, &e);
		delta = s + (e + (b->mean_low - a->mean_low));
		inc = delta * (b->count / n);
		AddToMean(a, inc);
		a->m2 = a->m2 + b->m2 + a->count * delta * inc;
		if (!isfinite(a->mean) || !isfinite(a->m2))
			return MS_MOMENTS_OVERFLOW;
	}
	else
	{
		a->mean = MsMomentsMean(a) + MsMomentsMean(b);
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
	delta = MsMomentsDeviation(x, m);
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
 * when the mean is not finite; |mean_low| <= 2^-45 |mean| (0 when the mean
 * is not finite); min <= max in float8 order; one value means min = max and
 * M2 = 0 (or NaN).
 */
bool
MsMomentsIsValidGeneral(const MsMoments *m)
{
	if (!(m->count >= 0.0 && m->count <= MS_MOMENTS_MAX_COUNT) ||
		m->count != floor(m->count))
		return false;
	if (m->count == 0.0)
		return m->mean == 0.0 && m->m2 == 0.0 && m->min == 0.0 &&
			m->max == 0.0 && m->mean_low == 0.0;
	if (isfinite(m->mean))
	{
		if (!(isfinite(m->m2) && m->m2 >= 0.0) ||
			!(fabs(m->mean_low) <= MS_MEAN_LOW_FOLD * fabs(m->mean)))
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
