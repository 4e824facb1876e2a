/*
 * quantiles.h
 *      Quantiles of the standard normal and Student-t distributions, to
 *      about 1e-15 relative accuracy. No PostgreSQL dependency.
 */
#ifndef MULTISAMPLE_QUANTILES_H
#define MULTISAMPLE_QUANTILES_H

/* z with P(Z <= z) = p for 0 < p < 1 (Wichura's AS 241, PPND16). */
extern double MsNormalQuantile(double p);

/*
 * t with P(T <= t) = p for a Student-t variable with df > 0 degrees of
 * freedom (df need not be an integer; df = +Inf gives the normal quantile),
 * 0 < p < 1.
 */
extern double MsTQuantile(double p, double df);

/* Shared with cdf.c and pass_at_k.c: */

/*
 * Stirling's error term lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2)
 * for x >= 10, to below 1e-17.
 */
extern double MsStirlingError(double x);

/* Gamma(a + 1/2) / Gamma(a) for a > 0, to a few ulps. */
extern double MsGammaHalfRatio(double a);

/*
 * For t > 0 and df > 0: the upper tail P(T > t), the central probability
 * P(|T| <= t) and the log of the density at t, from the continued fraction
 * of the incomplete beta function (accurate to about 1e-13 relative while
 * df / (df + t^2) is not close to 1 or df is below a few hundred).
 */
extern void MsTDistribution(double t, double df, double *upper, double *central,
							double *log_density);

#endif							/* MULTISAMPLE_QUANTILES_H */
