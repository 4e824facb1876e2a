/*
 * paired_kernel.h
 *      Running statistics of paired observations (a, b) for a paired
 *      comparison: the moments of a, of b and of the differences a - b, and
 *      the co-moment of a and b; and the paired t-test, interval, effect
 *      size and correlation they give. No PostgreSQL dependency.
 *
 * Each of a, b and d = a - b is an MsMoments (stats_kernel.h), merged with
 * its Chan-Golub-LeVeque formula and removed (window frames) with its
 * guarded inverse, both on the double-double mean. The per-row update
 * (MsPairedUpdate) is Welford's on the values minus a shift, which is moved
 * to the current mean whenever the count reaches a power of two: data on a
 * large offset (1e9 + small values) lose nothing, and the loop-carried
 * dependency per row is a third of a double-double update's. The differences have their own moments because
 * sd(a - b) computed from var(a) + var(b) - 2 cov(a, b) cancels when the
 * pairs are strongly correlated, which is the usual case (both models find
 * the same scenarios hard). The co-moment C = sum (a - mean_a)(b - mean_b)
 * follows the same update and merge. Non-finite values propagate as in
 * MsMoments: the means follow sum semantics and every second moment, the
 * co-moment included, is NaN.
 *
 * Must not be compiled with -ffast-math or -fassociative-math (see
 * stats_kernel.c).
 */
#ifndef MULTISAMPLE_PAIRED_KERNEL_H
#define MULTISAMPLE_PAIRED_KERNEL_H

#include <stdbool.h>

#include "stats_kernel.h"

/*
 * A variable's mean is mean + mean_low, as in MsMoments, but between the
 * re-centrings of MsPairedAccum mean is a shift (the first value, or the
 * mean at the last power-of-two count, merge or inverse) and mean_low the
 * mean of the values minus the shift, so |mean_low| can reach the range of
 * the data. MsPairedSettle brings it back to canonical double-double form
 * (|mean_low| <= ulp(mean) / 2), on which MsMoments' merge and inverse work.
 */
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
extern bool MsPairedIsValidGeneral(const MsPaired *p);
extern MsMomentsStatus MsPairedAccumGeneral(MsPaired *p, double x, double y);
extern void MsPairedSettle(MsPaired *p);

/*
 * The checks of one finite variable of a state of two or more pairs (count
 * aside): M2 >= 0, finite min <= max, the shift within [min, max] and
 * |mean_low| at most the range (up to rounding); a canonical double-double
 * mean passes too.
 */
static inline bool
MsPairedVariableValid(const MsMoments *m)
{
	double		slack = MS_MEAN_LOW_FOLD * fabs(m->mean);

	return m->m2 >= 0.0 && m->m2 <= DBL_MAX && fabs(m->min) <= DBL_MAX && fabs(m->max) <= DBL_MAX &&
		m->mean >= m->min - slack && m->mean <= m->max + slack &&
		fabs(m->mean_low) <= (m->max - m->min) * (1.0 + MS_MEAN_LOW_FOLD) + slack;
}

/*
 * Whether a state could have been produced by these functions: three
 * variables with the same count, each valid as above (or as an MsMoments
 * when a value was not finite); the second moments of d and the
 * co-moment NaN exactly when a value of a or b was not finite (else the
 * co-moment is finite, and 0 for fewer than two pairs). Inline, since the
 * aggregate checks its state on every row: the usual state (two or more
 * finite pairs) is recognised here, anything else goes to
 * MsPairedIsValidGeneral.
 */
static inline bool
MsPairedIsValid(const MsPaired *p)
{
	double		n = p->a.count;

	if (n >= 2.0 && n <= MS_MOMENTS_MAX_COUNT && n == (double) (int64_t) n &&
		p->b.count == n && p->d.count == n && isfinite(p->co_moment) &&
		MsPairedVariableValid(&p->a) && MsPairedVariableValid(&p->b) && MsPairedVariableValid(&p->d))
		return true;
	return MsPairedIsValidGeneral(p);
}

/*
 * Welford's update of one finite variable of a finite state with the value
 * x, given the new count n and 1/n; returns the deviation from the old
 * mean. The shift stays; y = x - shift is exact for data on an offset
 * (Sterbenz: x within a factor 2 of the shift) and otherwise a deviation of
 * the order of the values, accurate to an ulp; Welford's update runs on y
 * in mean_low (the loop-carried path: one subtraction, one multiplication,
 * one addition). The rounding errors of mean_low's updates count in
 * proportion to |mean_low|, which the re-centring keeps of the order of
 * the mean's drift since the last power of two: measured on 10^7 values,
 * the mean stays within 1e-15 relative of the exact one, and within 2e-14
 * when the first value is an outlier 10^8 times the rest.
 */
static inline double
MsPairedUpdate(MsMoments *m, double x, double n, double rn)
{
	double		y = x - m->mean;
	double		delta = y - m->mean_low;

	m->mean_low += delta * rn;
	m->m2 += delta * (y - m->mean_low);
	m->count = n;
	m->min = x < m->min ? x : m->min;
	m->max = x > m->max ? x : m->max;
	return delta;
}

/*
 * Adds the pair (x, y). Inline: it is the per-row work of the aggregate.
 * The usual case (finite values into a state of finite values) is handled
 * here; the first pair and non-finite values go to MsPairedAccumGeneral.
 * At every power-of-two count the shifts move to the current means.
 * The co-moment grows by (x - mean_a)(y - mean_b) (n - 1) / n with the
 * means before the update (Welford's form, as M2). Returns
 * MS_MOMENTS_OVERFLOW when finite values give a non-finite result (the
 * difference of two finite values included).
 */
static inline MsMomentsStatus
MsPairedAccum(MsPaired *p, double x, double y)
{
	double		d = x - y;
	double		n = p->a.count + 1.0;
	double		rn = 1.0 / n;
	double		dx;
	double		dy;

	if (!(p->a.count != 0.0 && isfinite(d) && isfinite(p->co_moment)))
		return MsPairedAccumGeneral(p, x, y);
	dx = MsPairedUpdate(&p->a, x, n, rn);
	dy = MsPairedUpdate(&p->b, y, n, rn);
	MsPairedUpdate(&p->d, d, n, rn);
	p->co_moment += dx * (dy - dy * rn);
	if ((((int64_t) n) & (((int64_t) n) - 1)) == 0)
		MsPairedSettle(p);

	/*
	 * A mean moves towards the new value, so it stays finite unless the
	 * deviation overflowed, which leaves its M2 NaN or infinite.
	 */
	if (!(p->a.m2 <= DBL_MAX && p->b.m2 <= DBL_MAX && p->d.m2 <= DBL_MAX &&
		  isfinite(p->co_moment)))
		return MS_MOMENTS_OVERFLOW;
	return MS_MOMENTS_OK;
}

#endif							/* MULTISAMPLE_PAIRED_KERNEL_H */
