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
 * there, the double-double mean makes M2 accurate to a few ulps. Non-finite
 * values propagate as PostgreSQL's float8_accum/avg/stddev_samp/min/max do:
 * the mean behaves like sum/count (Inf + finite = Inf, Inf + -Inf = NaN),
 * M2 becomes NaN as soon as a value is not finite, and NaN sorts above every
 * other value for min and max.
 */
#ifndef MULTISAMPLE_STATS_KERNEL_H
#define MULTISAMPLE_STATS_KERNEL_H

#include <stdbool.h>

typedef struct MsMoments
{
	double		count;			/* number of values, an integer >= 0 */
	double		mean;
	double		m2;				/* sum of squared deviations from the mean */
	double		min;
	double		max;
	double		mean_low;		/* low-order part of the mean, |mean_low| <=
								 * ulp(mean) / 2; 0 when the mean is not finite */
} MsMoments;

typedef enum MsMomentsStatus
{
	MS_MOMENTS_OK,
	MS_MOMENTS_OVERFLOW,		/* finite inputs gave a non-finite result */
	MS_MOMENTS_RESTART			/* the inverse cannot remove this value */
} MsMomentsStatus;

/* The largest count a double holds exactly (2^53). */
#define MS_MOMENTS_MAX_COUNT 9007199254740992.0

extern MsMomentsStatus MsMomentsAccum(MsMoments *m, double x);
extern MsMomentsStatus MsMomentsCombine(MsMoments *a, const MsMoments *b);
extern MsMomentsStatus MsMomentsRemove(MsMoments *m, double x);
extern bool MsMomentsIsValid(const MsMoments *m);

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

#endif							/* MULTISAMPLE_STATS_KERNEL_H */
