/*
 * stats_kernel.h
 *      Running moments of a stream of doubles: count, mean, M2 (sum of
 *      squared deviations from the mean), min and max. No PostgreSQL
 *      dependency.
 *
 * The update is Welford's (Youngs-Cramer), the merge is the pairwise
 * Chan-Golub-LeVeque formula, and the inverse (removing a value, for window
 * frames) asks for a restart when it cannot be exact enough. The mean is
 * carried as an unevaluated sum of two doubles (mean + mean_low), so the
 * deviation x - mean stays exact even when the data sit on a large offset
 * (1e9 + small values): plain Welford loses about eps * |mean| / std_dev
 * there, the double-double mean makes M2 accurate to a few ulps. mean_low
 * collects the rounding errors of the mean lazily (which keeps the per-row
 * dependency chain short) and is folded into mean when it passes
 * 2^-45 |mean|; the mean's value is mean + mean_low (MsMomentsMean).
 * Non-finite values propagate as PostgreSQL's float8_accum/avg/stddev_samp/min/max do:
 * the mean behaves like sum/count (Inf + finite = Inf, Inf + -Inf = NaN),
 * M2 becomes NaN as soon as a value is not finite, and NaN sorts above every
 * other value for min and max.
 */
#ifndef MULTISAMPLE_STATS_KERNEL_H
#define MULTISAMPLE_STATS_KERNEL_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct MsMoments
{
	double		count;			/* number of values, an integer >= 0 */
	double		mean;
	double		m2;				/* sum of squared deviations from the mean */
	double		min;
	double		max;
	double		mean_low;		/* low-order part of the mean, |mean_low| <=
								 * 2^-45 |mean|; 0 when the mean is not finite */
} MsMoments;

typedef enum MsMomentsStatus
{
	MS_MOMENTS_OK,
	MS_MOMENTS_OVERFLOW,		/* finite inputs gave a non-finite result */
	MS_MOMENTS_RESTART			/* the inverse cannot remove this value */
} MsMomentsStatus;

/* The largest count a double holds exactly (2^53). */
#define MS_MOMENTS_MAX_COUNT 9007199254740992.0

extern MsMomentsStatus MsMomentsCombine(MsMoments *a, const MsMoments *b);
extern MsMomentsStatus MsMomentsRemove(MsMoments *m, double x);
extern bool MsMomentsIsValidGeneral(const MsMoments *m);
extern void MsMomentsFirst(MsMoments *m, double x);
extern MsMomentsStatus MsMomentsAccumNonFinite(MsMoments *m, double x);
extern void MsMomentsNormalize(MsMoments *m);

/* PostgreSQL's float8 ordering: NaN is greater than every other value. */
static inline bool
MsFloatLess(double a, double b)
{
	if (a != a)
		return false;
	if (b != b)
		return true;
	return a < b;
}

/* Largest |mean_low| / |mean| kept before folding mean_low into mean. */
#define MS_MEAN_LOW_FOLD 2.8421709430404007e-14	/* 2^-45 */

/* Knuth's TwoSum: s + e = a + b exactly, s = fl(a + b). */
static inline void
MsTwoSum(double a, double b, double *s, double *e)
{
	double		sum = a + b;
	double		bb = sum - a;

	*e = (a - (sum - bb)) + (b - bb);
	*s = sum;
}

/* x - (mean + mean_low), to about one ulp of the result. */
static inline double
MsMomentsDeviation(double x, const MsMoments *m)
{
	double		s;
	double		e;

	MsTwoSum(x, -m->mean, &s, &e);
	return s + (e - m->mean_low);
}

/*
 * Whether a state could have been produced by these functions (see
 * MsMomentsIsValidGeneral). Inline, since the aggregates check their state
 * on every row: the usual state (two or more finite values) is recognised
 * here, anything else goes to the general check.
 */
static inline bool
MsMomentsIsValid(const MsMoments *m)
{
	if (m->count >= 2.0 && m->count <= MS_MOMENTS_MAX_COUNT &&
		m->count == (double) (int64_t) m->count &&
		m->m2 >= 0.0 && m->m2 <= DBL_MAX &&
		fabs(m->mean) <= DBL_MAX && fabs(m->mean_low) <= MS_MEAN_LOW_FOLD * fabs(m->mean) &&
		m->min <= m->max)
		return true;
	return MsMomentsIsValidGeneral(m);
}

/* The mean, rounded to a double. */
static inline double
MsMomentsMean(const MsMoments *m)
{
	return m->mean + m->mean_low;
}

/*
 * Adds one value (Welford / Youngs-Cramer): with d = x - mean,
 * mean += d / n and M2 += d * (d - d / n) = d^2 (n - 1) / n. Inline: it is
 * the per-row work of the aggregates. 1/n does not depend on the previous
 * row, so the only loop-carried chain is the mean's: one TwoSum, a multiply
 * and one more TwoSum.
 */
static inline MsMomentsStatus
MsMomentsAccum(MsMoments *m, double x)
{
	double		n = m->count + 1.0;
	double		rn = 1.0 / n;
	double		e;
	double		delta;
	double		inc;

	if (m->count == 0.0)
	{
		MsMomentsFirst(m, x);
		return MS_MOMENTS_OK;
	}
	if (!(isfinite(x) && isfinite(m->mean)))
		return MsMomentsAccumNonFinite(m, x);

	delta = MsMomentsDeviation(x, m);
	inc = delta * rn;
	MsTwoSum(m->mean, inc, &m->mean, &e);
	m->mean_low += e;
	if (!(fabs(m->mean_low) <= MS_MEAN_LOW_FOLD * fabs(m->mean)))
		MsMomentsNormalize(m);
	m->m2 += delta * (delta - inc);
	m->count = n;
	if (MsFloatLess(x, m->min))
		m->min = x;
	if (MsFloatLess(m->max, x))
		m->max = x;
	if (!isfinite(m->mean) || !isfinite(m->m2))
		return MS_MOMENTS_OVERFLOW;
	return MS_MOMENTS_OK;
}

#endif							/* MULTISAMPLE_STATS_KERNEL_H */
