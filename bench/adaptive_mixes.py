"""Score distributions of the adaptive-sampling simulations
(bench/adaptive_sim.py, bench/adaptive_variants.py): per pair, the
probabilities of the scores 1..5.

  half      half of the pairs deterministic (one score, drawn at random), the
            other half a normal with mean U(1.5, 4.5) and sd U(0.7, 1.5),
            rounded and clamped to 1..5
  homo      every pair the same distribution: .1 .2 .4 .2 .1 (variance 1.2)
  passfail  half of the pairs always 1 or always 5, the other half 5 with a
            probability of U(0.2, 0.8), else 1
  mixed     the demo's temperaments: a normal with mean U(1.5, 4.5) and sd
            0.35, 0.5 or 1.1 (times U(0.8, 1.6)), rounded and clamped
"""
import math

import numpy as np

MIXES = ("half", "homo", "passfail", "mixed")


def normal_probs(mean, sd):
    """P(score = 1..5) of a normal rounded to the nearest whole and clamped."""
    c = [0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2)))) for x in (1.5, 2.5, 3.5, 4.5)]
    return np.array([c[0], c[1] - c[0], c[2] - c[1], c[3] - c[2], 1 - c[3]])


def pair_probs(kind, rng, pairs):
    """pairs x 5 probabilities for the mix `kind`, drawn with `rng`."""
    probs = np.zeros((pairs, 5))
    for p in range(pairs):
        if kind == "half":
            if p % 2 == 0:
                probs[p, rng.integers(0, 5)] = 1
            else:
                probs[p] = normal_probs(rng.uniform(1.5, 4.5), rng.uniform(0.7, 1.5))
        elif kind == "homo":
            probs[p] = [.1, .2, .4, .2, .1]
        elif kind == "passfail":
            if p % 2 == 0:
                probs[p, rng.choice([0, 4])] = 1
            else:
                q = rng.uniform(0.2, 0.8)
                probs[p, 0], probs[p, 4] = 1 - q, q
        elif kind == "mixed":
            probs[p] = normal_probs(rng.uniform(1.5, 4.5), rng.choice([0.35, 0.5, 1.1]) * rng.uniform(0.8, 1.6))
        else:
            raise ValueError("unknown mix %r" % kind)
    return probs
