/*
 * paired_kernel.c
 *      Paired observations: the first pair and non-finite values, the
 *      merge and the inverse of the running statistics (the usual update is
 *      inline in paired_kernel.h), the general state check, and the paired
 *      t-test, interval, effect size and correlation of a state. No
 *      PostgreSQL dependency.
 *
 * Must not be compiled with -ffast-math or -fassociative-math (see
 * stats_kernel.c).
 */
#include <math.h>

#include "cdf.h"
#include "paired_kernel.h"

/*
 * Brings the finite means to canonical double-double form: shift + mean_low
 * summed without loss into mean + mean_low with |mean_low| <= ulp(mean) / 2
 * (TwoSum), the new shift being the current mean. MsMoments' merge and
 * inverse then apply as they are.
 */
void
MsPairedSettle(MsPaired *p)
{
	if (isfinite(p->a.mean))
		MsMomentsNormalize(&p->a);
	if (isfinite(p->b.mean))
		MsMomentsNormalize(&p->b);
	if (isfinite(p->d.mean))
		MsMomentsNormalize(&p->d);
}

/*
 * MsPairedAccum for the first pair and for non-finite values (isfinite(d)
 * fails exactly when x or y is not finite, or their difference overflows):
 * the moments follow MsMomentsAccum's rules on settled means, and the
 * co-moment becomes NaN.
 */
MsMomentsStatus
MsPairedAccumGeneral(MsPaired *p, double x, double y)
{
	double		d = x - y;
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
	MsPairedSettle(p);
	status = MsMomentsAccum(&p->a, x);
	if (status == MS_MOMENTS_OK)
		status = MsMomentsAccum(&p->b, y);
	if (status == MS_MOMENTS_OK)
		status = MsMomentsAccum(&p->d, d);
	/* a side still finite keeps a canonical mean */
	MsPairedSettle(p);
	p->co_moment = NAN;
	return status;
}

/*
 * One variable in a state that MsPairedIsValid's inline test did not
 * recognise: a finite variable of two or more values as there, anything
 * else as an MsMoments.
 */
static bool
VariableValid(const MsMoments *m)
{
	if (m->count >= 2.0 && m->count <= MS_MOMENTS_MAX_COUNT && m->count == floor(m->count) &&
		isfinite(m->mean))
		return MsPairedVariableValid(m);
	return MsMomentsIsValidGeneral(m);
}

/* See MsPairedIsValid: the states its inline test leaves to this one. */
bool
MsPairedIsValidGeneral(const MsPaired *p)
{
	bool		finite;

	if (!VariableValid(&p->a) || !VariableValid(&p->b) || !VariableValid(&p->d) ||
		p->b.count != p->a.count || p->d.count != p->a.count)
		return false;
	finite = !isnan(p->a.m2) && !isnan(p->b.m2);
	if (isnan(p->d.m2) == finite)
		return false;
	if (!finite)
		return isnan(p->co_moment);
	return isfinite(p->co_moment) && (p->a.count >= 2.0 || p->co_moment == 0.0);
}

/* mean(q) - mean(p), from the double-double means (any split). */
static double
MeanDifference(const MsMoments *q, const MsMoments *p)
{
	double		s;
	double		e;

	MsTwoSum(q->mean, -p->mean, &s, &e);
	return s + (e + (q->mean_low - p->mean_low));
}

/*
 * Merges q into p: the moments of a, b and d with the Chan-Golub-LeVeque
 * formula, and C = C_p + C_q + n_p n_q / n (mean_a,q - mean_a,p)(mean_b,q - mean_b,p).
 */
MsMomentsStatus
MsPairedCombine(MsPaired *p, const MsPaired *q)
{
	MsPaired	r = *q;
	MsMomentsStatus status;
	double		co_moment;

	if (r.a.count == 0.0)
		return MS_MOMENTS_OK;
	if (p->a.count == 0.0)
	{
		*p = r;
		return MS_MOMENTS_OK;
	}
	MsPairedSettle(p);
	MsPairedSettle(&r);
	if (isfinite(p->co_moment) && isfinite(r.co_moment))
		co_moment = p->co_moment + r.co_moment +
			MeanDifference(&r.a, &p->a) * MeanDifference(&r.b, &p->b) *
			(p->a.count * (r.a.count / (p->a.count + r.a.count)));
	else
		co_moment = NAN;
	status = MsMomentsCombine(&p->a, &r.a);
	if (status == MS_MOMENTS_OK)
		status = MsMomentsCombine(&p->b, &r.b);
	if (status == MS_MOMENTS_OK)
		status = MsMomentsCombine(&p->d, &r.d);
	p->co_moment = co_moment;
	if (status == MS_MOMENTS_OK && isfinite(p->a.m2) && isfinite(p->b.m2) && !isfinite(co_moment))
		status = MS_MOMENTS_OVERFLOW;
	return status;
}

/*
 * Removes a pair added before (window frames), or asks for a restart when
 * one of the three moments cannot remove its value exactly enough (see
 * MsMomentsRemove: a value at the min or max, or anything not finite). The
 * co-moment loses (x - mean_a)(y - mean_b) n / (n - 1), with the means
 * before the removal; since x and y lie strictly inside the ranges of a and
 * b, that term is at most the product of the ranges, which the remaining
 * second moments bound, so the subtraction stays accurate.
 */
MsMomentsStatus
MsPairedRemove(MsPaired *p, double x, double y)
{
	MsPaired	r = *p;
	double		n = p->a.count;
	double		dx;
	double		dy;

	MsPairedSettle(&r);
	dx = MsMomentsDeviation(x, &r.a);
	dy = MsMomentsDeviation(y, &r.b);
	if (MsMomentsRemove(&r.a, x) != MS_MOMENTS_OK ||
		MsMomentsRemove(&r.b, y) != MS_MOMENTS_OK ||
		MsMomentsRemove(&r.d, x - y) != MS_MOMENTS_OK)
		return MS_MOMENTS_RESTART;
	r.co_moment -= dx * dy * (n / (n - 1.0));
	*p = r;
	return MS_MOMENTS_OK;
}

/*
 * The paired comparison of a state, t_crit being the (1 + level)/2 quantile
 * of Student's t with pairs - 1 degrees of freedom. With s = sd(a - b):
 * std_error = s / sqrt(n), interval mean_difference -+ t_crit std_error,
 * t = mean_difference / std_error with a two-sided p-value, d_z =
 * mean_difference / s; correlation C / sqrt(M2_a M2_b), clamped to
 * [-1, 1] (rounding can leave it a few ulps outside). One pair defines
 * only the means; s = 0 leaves the test and the effect size undefined;
 * sd(a) = 0 or sd(b) = 0 the correlation. With a non-finite value, every
 * figure after the means is NaN.
 */
void
MsPairedSummarize(const MsPaired *p, double t_crit, MsPairedResult *r)
{
	double		n = p->a.count;
	double		sd;

	r->pairs = n;
	r->mean_a = MsMomentsMean(&p->a);
	r->mean_b = MsMomentsMean(&p->b);
	r->mean_difference = MsMomentsMean(&p->d);
	r->has_spread = n >= 2.0;
	r->has_test = false;
	r->has_correlation = false;
	if (!r->has_spread)
		return;

	r->df = n - 1.0;
	sd = sqrt(p->d.m2 / r->df);
	r->std_error = sd / sqrt(n);
	r->lower = r->mean_difference - t_crit * r->std_error;
	r->upper = r->mean_difference + t_crit * r->std_error;
	if (sd != 0.0)
	{
		r->has_test = true;
		r->t_statistic = r->mean_difference / r->std_error;
		r->p_value = 2.0 * MsTCdf(-fabs(r->t_statistic), r->df);
		r->effect_size = r->mean_difference / sd;
	}
	if (p->a.m2 != 0.0 && p->b.m2 != 0.0)
	{
		r->has_correlation = true;
		r->correlation = p->co_moment / (sqrt(p->a.m2) * sqrt(p->b.m2));
		if (r->correlation > 1.0)
			r->correlation = 1.0;
		else if (r->correlation < -1.0)
			r->correlation = -1.0;
	}
}
