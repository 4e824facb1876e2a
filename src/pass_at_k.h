/*
 * pass_at_k.h
 *      pass@k and pass^k of n samples with c successes: exact binomial
 *      ratios without factorials. No PostgreSQL dependency.
 */
#ifndef MULTISAMPLE_PASS_AT_K_H
#define MULTISAMPLE_PASS_AT_K_H

/* Largest n accepted: every count is an integer exact in a double. */
#define MS_PASS_AT_K_MAX_N 9007199254740992.0	/* 2^53 */

/*
 * pass@k (Chen et al. 2021, unbiased estimator): 1 - C(n - c, k) / C(n, k),
 * the probability that k of the n samples, drawn without replacement,
 * hold at least one success. Integers 0 <= c <= n <= 2^53, 1 <= k <= n.
 */
extern double MsPassAtK(double n, double c, double k);

/*
 * pass^k: C(c, k) / C(n, k), the probability that k samples drawn without
 * replacement all succeed. Same domain.
 */
extern double MsPassHatK(double n, double c, double k);

#endif							/* MULTISAMPLE_PASS_AT_K_H */
