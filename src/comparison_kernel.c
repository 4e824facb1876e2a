/*
 * comparison_kernel.c
 *      Wilson score interval, Holm's adjustment and the power analysis of
 *      paired model comparisons. No PostgreSQL dependency.
 */
#include <math.h>
#include <stdlib.h>

#include "comparison_kernel.h"
#include "quantiles.h"

/*
 * With s successes, n trials and f = n - s failures, the Wilson bounds are
 * (2s + z^2 -+ z sqrt(z^2 + 4 s f / n)) / (2 (n + z^2)). The lower one is
 * computed as 2 s^2 / (n (2s + z^2 + z sqrt(z^2 + 4 s f / n))), the same
 * value rationalised (multiply by the conjugate: the numerator is then
 * 4 s^2 (1 + z^2/n)), so it has no cancellation when s is small; the upper
 * one is a sum of positive terms. The bounds are exactly 0 for s = 0 and
 * 1 for s = n (after clamping the rounding).
 */
void
MsWilsonInterval(double successes, double trials, double z, double *lower, double *upper)
{
	double		s = successes;
	double		n = trials;
	double		f = n - s;
	double		z2 = z * z;
	double		root = z * sqrt(z2 + 4.0 * s * (f / n));
	double		lo = 2.0 * s * (s / (n * (2.0 * s + z2 + root)));
	double		hi = (2.0 * s + z2 + root) / (2.0 * (n + z2));

	*lower = lo < 0.0 ? 0.0 : (lo > 1.0 ? 1.0 : lo);
	*upper = hi < 0.0 ? 0.0 : (hi > 1.0 ? 1.0 : hi);
}

/* Sorting the indexes of the p-values: by value, ties by position. */
static const double *holm_values;

static int
CompareByValue(const void *a, const void *b)
{
	int			i = *(const int *) a;
	int			j = *(const int *) b;

	if (holm_values[i] != holm_values[j])
		return holm_values[i] < holm_values[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/*
 * Holm (1979): with the p-values sorted, p_(1) <= ... <= p_(m), the
 * adjusted p_(j) is max_{i <= j} min(1, (m - i + 1) p_(i)). Tied p-values
 * get the same adjusted value whatever their order.
 */
void
MsHolmAdjust(const double *p, int m, int *order, double *adjusted)
{
	double		running = 0.0;
	int			j;

	for (j = 0; j < m; j++)
		order[j] = j;
	holm_values = p;
	qsort(order, m, sizeof(int), CompareByValue);
	for (j = 0; j < m; j++)
	{
		double		v = (double) (m - j) * p[order[j]];

		if (v > 1.0)
			v = 1.0;
		if (v > running)
			running = v;
		adjusted[order[j]] = running;
	}
}

/* z_{1-alpha/2} + z_power; alpha / 2 is the small tail, exact in double. */
static double
CriticalSum(double alpha, double power)
{
	return -MsNormalQuantile(0.5 * alpha) + MsNormalQuantile(power);
}

double
MsDifferenceVariance(double between_variance, double within_variance_a,
					 double within_variance_b, double samples_a, double samples_b)
{
	return between_variance + within_variance_a / samples_a + within_variance_b / samples_b;
}

double
MsScenariosNeeded(double difference, double variance, double alpha, double power)
{
	double		z = CriticalSum(alpha, power);

	return ceil(z * z * variance / difference / difference);
}

double
MsMinimumDetectableDifference(double scenarios, double variance, double alpha, double power)
{
	return CriticalSum(alpha, power) * sqrt(variance / scenarios);
}
