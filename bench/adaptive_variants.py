#!/usr/bin/python3
"""Design study behind plan_samples' guard (README "Adaptive sampling"):
the same simulation as bench/adaptive_sim.py, in numpy only (no database),
comparing ways to plan with the spread of pairs whose first samples are few:

  plain     Neyman on each pair's sample variance s^2, no guard
  fixed     s^2 shrunk with a fixed pseudo-count k = 1 towards the model's
            pooled variance: (nu s^2 + s_p^2) / (nu + 1)
  adopted   what plan_samples does: empirical-Bayes shrinkage (k from the
            spread of the pairs' variances) and, for a pair whose samples
            all agreed, s_p^2 / n

for one round and for three rounds of add_samples, on four mixes of 1..5
scores: half the pairs deterministic (the others rounded normals, sd 0.7 to
1.5), all pairs alike, pass/fail (half always pass or always fail, half a
success rate of 0.2 to 0.8) and the demo's temperaments. Runs start with 3
samples per pair and end with 30 on average; 20 scenarios x 3 models.

Prints, per case, the samples saved for equal precision, 1 - MSE_adaptive
/ MSE_uniform (uniform's MSE exact; negative = worse than uniform), with
its standard error over the replications. About a minute.
Usage: adaptive_variants.py [REPLICATIONS] [SEED]
"""
import math
import sys

import numpy as np

from adaptive_mixes import MIXES, pair_probs

S, M = 20, 3
P = S * M
N0, N = 3, 30
VALUES = np.arange(1, 6, dtype=float)


def planning_variance(samples, method):
    n = np.array([len(x) for x in samples], dtype=float)
    nu = n - 1
    s2 = np.array([x.var(ddof=1) for x in samples])
    out = np.zeros(P)
    for m in range(M):
        i = slice(m * S, (m + 1) * S)
        pooled = (nu[i] * s2[i]).sum() / nu[i].sum()
        if method == "plain":
            out[i] = s2[i]
        elif method == "fixed":
            out[i] = (nu[i] * s2[i] + pooled) / (nu[i] + 1)
        else:
            tau2 = max(0.0, ((s2[i] - pooled) ** 2 - 2 * pooled ** 2 / nu[i]).sum() / (1 + 2 / nu[i]).sum())
            v = np.full(S, pooled)
            if tau2 > 0:
                k = 2 * (pooled ** 2 + tau2) / tau2
                v = (nu[i] * s2[i] + k * pooled) / (nu[i] + k)
            out[i] = np.where(s2[i] == 0, pooled / n[i], v)
    return out, n.astype(int)


def allocate(samples, budget, method):
    """The greedy of plan_samples: the budget's largest reductions."""
    sigma2, n = planning_variance(samples, method)
    j = np.arange(1, 101)
    before = n[:, None] + j[None, :] - 1
    gain = sigma2[:, None] / (before * (before + 1.0))
    ok = before + 1 <= 100
    pair = np.repeat(np.arange(P)[:, None], 100, 1)[ok]
    order = np.lexsort((pair, (before + 1)[ok], -gain[ok]))[:budget]
    return np.bincount(pair[order], minlength=P)


def saved(kind, method, rounds, reps, seed):
    rng = np.random.default_rng([seed, MIXES.index(kind)])
    adaptive, uniform = [], []
    budget = (N - N0) * P
    for _ in range(reps):
        probs = pair_probs(kind, rng, P)
        mean = probs @ VALUES
        var = probs @ VALUES ** 2 - mean ** 2
        cum = probs.cumsum(1)
        streams = 1.0 + (rng.random((P, 100))[:, :, None] > cum[:, None, :4]).sum(2)
        have = np.full(P, N0)
        for r in range(rounds):
            have += allocate([streams[p, :have[p]] for p in range(P)], budget // rounds + (r < budget % rounds), method)
        est = np.array([streams[p, :have[p]].mean() for p in range(P)]).reshape(M, S).mean(1)
        adaptive.append(((est - mean.reshape(M, S).mean(1)) ** 2).mean())
        uniform.append((var / N).reshape(M, S).sum(1).mean() / S ** 2)
    a, u = np.mean(adaptive), np.mean(uniform)
    return 1 - a / u, np.std(adaptive, ddof=1) / math.sqrt(reps) / u


reps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261202
print("samples saved for equal precision (1 - MSE adaptive / MSE uniform), %d replications of %d models" % (reps, M))
print("%-9s %-8s %18s %18s" % ("mix", "method", "1 round", "3 rounds"))
for kind in MIXES:
    for method in ("plain", "fixed", "adopted"):
        cells = ["%+6.1f %% +- %4.1f" % (100 * s, 100 * e) for s, e in (saved(kind, method, r, reps, seed) for r in (1, 3))]
        print("%-9s %-8s %18s %18s" % (kind, method, cells[0], cells[1]), flush=True)
