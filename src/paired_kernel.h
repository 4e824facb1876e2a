/*
 * paired_kernel.h
 *      Running statistics of paired observations (a, b) for a paired
 *      comparison: the moments of a, of b and of the differences a - b, and
 *      the co-moment of a and b; and the paired t-test, interval, effect
 *      size and correlation they give. No PostgreSQL dependency.
 *
 * Each of a, b and d = a - b is an MsMoments (stats_kernel.h): Welford's
 * update with a double-double mean, the Chan-Golub-LeVeque merge and the
 * guarded inverse for window frames, so data on a large offset (1e9 + small
 * values) lose nothing. The differences have their own moments because
 * sd(a - b) computed from var(a) + var(b) - 2 cov(a, b) cancels exactly
 * when the pairs are strongly correlated, which is the usual case (both
 * models find the same scenarios hard). The co-moment
 * C = sum (a - mean_a)(b - mean_b) follows the same update and merge.
 * Non-finite values propagate as in MsMoments: the means follow sum
 * semantics and every second moment, the co-moment included, is NaN.
 */
#ifndef MULTISAMPLE_PAIRED_KERNEL_H
#define MULTISAMPLE_PAIRED_KERNEL_H

#include <stdbool.h>

#include "stats_kernel.h"

typedef struct MsPaired
{
	MsMoments	a;
	MsMoments	b;
	MsMoments	d;				/* of the differences a - b */
	double		co_moment;		/* sum (a - mean_a)(b - mean_b); NaN once a
								 * value is not finite */
} MsPaired;

/* What a state gives; the flags say which figures are defined. */
typedef struct MsPairedResult
{
	double		pairs;
	double		mean_a;
	double		mean_b;
	double		mean_difference;	/* the mean of a - b */
	bool		has_spread;		/* two or more pairs: the fields below */
	double		df;				/* pairs - 1 */
	double		std_error;		/* sd(a - b) / sqrt(pairs) */
	double		lower;			/* mean_difference -+ t_crit std_error */
	double		upper;
	bool		has_test;		/* sd(a - b) is not 0: the fields below */
	double		t_statistic;
	double		p_value;		/* two-sided */
	double		effect_size;	/* Cohen's d_z = mean_difference / sd(a - b) */
	bool		has_correlation;	/* neither sd(a) nor sd(b) is 0 */
	double		correlation;	/* Pearson's r, in [-1, 1] */
} MsPairedResult;

extern MsMomentsStatus MsPairedCombine(MsPaired *p, const MsPaired *q);
extern MsMomentsStatus MsPairedRemove(MsPaired *p, double x, double y);
extern void MsPairedSummarize(const MsPaired *p, double t_crit, MsPairedResult *r);

/*
 * Whether a state could have been produced by these functions: three valid
 * MsMoments with the same count; the second moments of d and the co-moment
 * NaN exactly when a value of a or b was not finite (else the co-moment is
 * finite, and 0 for fewer than two pairs). Inline: checked on every row.
 */
static inline bool
MsPairedIsValid(const MsPaired *p)
{
	bool		finite;

	if (!MsMomentsIsValid(&p->a) || !MsMomentsIsValid(&p->b) || !MsMomentsIsValid(&p->d) ||
		p->b.count != p->a.count || p->d.count != p->a.count)
		return false;
	finite = !isnan(p->a.m2) && !isnan(p->b.m2);
	if (isnan(p->d.m2) == finite)
		return false;
	if (!finite)
		return isnan(p->co_moment);
	return isfinite(p->co_moment) && (p->a.count >= 2.0 || p->co_moment == 0.0);
}

/*
 * Adds the pair (x, y). Inline: it is the per-row work of the aggregate.
 * The co-moment grows by (x - mean_a)(y - mean_b) (n - 1) / n with the
 * means before the update (Welford's form, as M2). Returns
 * MS_MOMENTS_OVERFLOW when finite values give a non-finite result (the
 * difference of two finite values included).
 */
static inline MsMomentsStatus
MsPairedAccum(MsPaired *p, double x, double y)
{
	double		d = x - y;
	double		rn = 1.0 / (p->a.count + 1.0);
	double		dx;
	double		dy;
	MsMomentsStatus status;

	if (isfinite(x) && isfinite(y) && !isfinite(d))
		return MS_MOMENTS_OVERFLOW;
	if (p->a.count == 0.0)
	{
		MsMomentsFirst(&p->a, x);
		MsMomentsFirst(&p->b, y);
		MsMomentsFirst(&p->d, d);
		p->co_moment = isfinite(d) ? 0.0 : NAN;
		return MS_MOMENTS_OK;
	}
	dx = MsMomentsDeviation(x, &p->a);
	dy = MsMomentsDeviation(y, &p->b);
	status = MsMomentsAccum(&p->a, x);
	if (status == MS_MOMENTS_OK)
		status = MsMomentsAccum(&p->b, y);
	if (status == MS_MOMENTS_OK)
		status = MsMomentsAccum(&p->d, d);
	if (isfinite(p->a.m2) && isfinite(p->b.m2))
	{
		p->co_moment += dx * (dy - dy * rn);
		if (!isfinite(p->co_moment))
			return MS_MOMENTS_OVERFLOW;
	}
	else
		p->co_moment = NAN;
	return status;
}

#endif							/* MULTISAMPLE_PAIRED_KERNEL_H */
