/*
 * comparison_kernel.h
 *      The small statistics of comparing models: the Wilson score interval
 *      of a proportion, Holm's step-down adjustment of p-values, and the
 *      power analysis of Miller (2024) for paired comparisons with
 *      scenarios as the units. No PostgreSQL dependency.
 */
#ifndef MULTISAMPLE_COMPARISON_KERNEL_H
#define MULTISAMPLE_COMPARISON_KERNEL_H

/*
 * Wilson's score interval for successes out of trials (0 <= successes <=
 * trials, trials > 0) with z the two-sided normal critical value; the
 * bounds are clamped to [0, 1].
 */
extern void MsWilsonInterval(double successes, double trials, double z,
							 double *lower, double *upper);

/*
 * Holm-Bonferroni adjusted p-values of p[0 .. m-1] (each in [0, 1]) into
 * adjusted[], in the same order; order[] is scratch space for m indexes.
 */
extern void MsHolmAdjust(const double *p, int m, int *order, double *adjusted);

/*
 * The variance of one scenario's difference of means, omega^2 +
 * sigma_a^2 / K_a + sigma_b^2 / K_b (Miller 2024, section 5), from the
 * variance of the true per-scenario differences, the within-scenario
 * variances and the samples per scenario of each model.
 */
extern double MsDifferenceVariance(double between_variance, double within_variance_a,
								   double within_variance_b, double samples_a,
								   double samples_b);

/*
 * Scenarios needed to detect a true difference > 0 with a two-sided test
 * at level alpha with the given power (both in (0, 1)), the difference
 * variance being as above: ceil((z_{1-alpha/2} + z_power)^2 variance /
 * difference^2); +Infinity beyond the double range.
 */
extern double MsScenariosNeeded(double difference, double variance, double alpha,
								double power);

/*
 * The smallest true difference detected with that power on n scenarios:
 * (z_{1-alpha/2} + z_power) sqrt(variance / n).
 */
extern double MsMinimumDetectableDifference(double scenarios, double variance,
											double alpha, double power);

#endif							/* MULTISAMPLE_COMPARISON_KERNEL_H */
