/*
 * cdf.h
 *      Distribution functions of the standard normal and Student-t
 *      distributions, with the smaller tail computed directly (never as
 *      1 - the larger), so tail probabilities keep their relative accuracy
 *      down to the bottom of the double range. No PostgreSQL dependency.
 */
#ifndef MULTISAMPLE_CDF_H
#define MULTISAMPLE_CDF_H

/* P(Z <= z) for a standard normal Z. */
extern double MsNormalCdf(double z);

/*
 * P(T <= t) for a Student-t variable with df > 0 degrees of freedom (any
 * real df; df = +Infinity gives the normal). t may be +-Infinity; NaN gives
 * NaN.
 */
extern double MsTCdf(double t, double df);

#endif							/* MULTISAMPLE_CDF_H */
