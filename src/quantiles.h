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

#endif							/* MULTISAMPLE_QUANTILES_H */
