#!/usr/bin/python3
"""The baseline of bench/analysis.sh: what an analyst does without the
extension. Fetches every scored live sample of a run with psycopg2 and
computes, with numpy, the figures analysis_json() returns:

  per model: sample count, scenario count, mean, std_dev, variance, min, max
    across all samples; the average and maximum within-scenario variance
    (n - 1) and the square root of the average; the 95 % Student-t interval
    for the model's mean with scenarios as the units (the mean of each
    scenario's samples is one observation, df = scenarios - 1); the
    consistency score 1 - mean within-scenario population variance /
    ((scale max - scale min)^2 / 4);
  per scenario-model pair: count, mean, variance (n - 1), std_dev, min, max.

The clock starts before connecting and stops when every figure is computed
(interpreter start-up and imports are not counted). Prints the elapsed
milliseconds on stdout; with --json FILE also writes the figures there.

usage: analysis_numpy.py DATABASE RUN_ID [--json FILE]
"""
import functools
import json
import sys
import time

import mpmath
import numpy as np
import psycopg2


@functools.lru_cache(maxsize=None)
def t_quantile(p, df):
    """Student-t quantile by inverting the regularized incomplete beta."""
    mpmath.mp.dps = 30

    def cdf(t):
        x = df / (df + t * t)
        tail = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2
        return 1 - tail if t > 0 else tail

    return float(mpmath.findroot(lambda t: cdf(t) - p, mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)))


def group_min_max(keys, values, n_groups):
    """Per-group minimum and maximum (NaN for an empty group)."""
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    v = values[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    mins = np.full(n_groups, np.nan)
    maxs = np.full(n_groups, np.nan)
    mins[k[starts]] = np.minimum.reduceat(v, starts)
    maxs[k[starts]] = np.maximum.reduceat(v, starts)
    return mins, maxs


def analyse(database, run_id):
    conn = psycopg2.connect(dbname=database)
    cur = conn.cursor()
    cur.execute("SELECT config FROM multisample.runs WHERE id = %s", (run_id,))
    config = cur.fetchone()[0]
    scale = config.get("scoreScale") or {"min": 1, "max": 5}
    cur.execute(
        "SELECT model_id, scenario_id, score FROM multisample.transcripts"
        " WHERE run_id = %s AND deleted_at IS NULL AND score IS NOT NULL",
        (run_id,))
    rows = cur.fetchall()
    conn.close()

    # Ids to dense integer codes (a dict is much faster than np.unique on
    # strings), scores to a float array.
    n = len(rows)
    model_codes, scenario_codes = {}, {}
    m_idx = np.fromiter((model_codes.setdefault(r[0], len(model_codes)) for r in rows), np.intp, n)
    s_idx = np.fromiter((scenario_codes.setdefault(r[1], len(scenario_codes)) for r in rows), np.intp, n)
    scores = np.fromiter((r[2] for r in rows), np.float64, n)
    models, scenarios = list(model_codes), list(scenario_codes)
    n_models, n_scen = len(models), len(scenarios)

    # Scenario-model pairs.
    pair = m_idx * n_scen + s_idx
    n_pairs = n_models * n_scen
    p_count = np.bincount(pair, minlength=n_pairs)
    present = p_count > 0
    p_sum = np.bincount(pair, weights=scores, minlength=n_pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_mean = p_sum / p_count
        p_m2 = np.bincount(pair, weights=(scores - p_mean[pair]) ** 2, minlength=n_pairs)
        p_var = np.where(p_count > 1, p_m2 / (p_count - 1), np.nan)
        p_pop_var = p_m2 / p_count
    p_min, p_max = group_min_max(pair, scores, n_pairs)

    # Models across all samples.
    m_count = np.bincount(m_idx, minlength=n_models)
    m_mean = np.bincount(m_idx, weights=scores, minlength=n_models) / m_count
    m_m2 = np.bincount(m_idx, weights=(scores - m_mean[m_idx]) ** 2, minlength=n_models)
    m_var = m_m2 / (m_count - 1)
    pair_of_model = np.arange(n_pairs) // n_scen
    m_min = np.array([np.nanmin(p_min[pair_of_model == m]) for m in range(n_models)])
    m_max = np.array([np.nanmax(p_max[pair_of_model == m]) for m in range(n_models)])

    width = float(scale["max"]) - float(scale["min"])
    per_model = {}
    for m in range(n_models):
        sel = present[m * n_scen:(m + 1) * n_scen]
        means = p_mean[m * n_scen:(m + 1) * n_scen][sel]
        within = p_var[m * n_scen:(m + 1) * n_scen][sel]
        within_pop = p_pop_var[m * n_scen:(m + 1) * n_scen][sel]
        k = len(means)
        centre = means.mean()
        margin = t_quantile(0.975, k - 1) * means.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan
        avg_within = np.nanmean(within)
        per_model[str(models[m])] = {
            "sampleCount": int(m_count[m]),
            "scenarioCount": k,
            "mean": m_mean[m],
            "stdDev": np.sqrt(m_var[m]),
            "variance": m_var[m],
            "min": m_min[m],
            "max": m_max[m],
            "avgWithinScenarioVariance": avg_within,
            "maxWithinScenarioVariance": np.nanmax(within),
            "avgWithinScenarioStdDev": np.sqrt(avg_within),
            "ciLower": centre - margin,
            "ciUpper": centre + margin,
            "consistencyScore": 1 - within_pop.mean() / (width * width / 4),
        }
    pairs = {}
    for p in np.flatnonzero(present):
        pairs[f"{scenarios[p % n_scen]}|{models[p // n_scen]}"] = {
            "sampleCount": int(p_count[p]),
            "mean": p_mean[p],
            "variance": p_var[p],
            "stdDev": np.sqrt(p_var[p]),
            "min": p_min[p],
            "max": p_max[p],
        }
    return {"perModel": per_model, "pairs": pairs}


def main():
    database, run_id = sys.argv[1:3]
    start = time.perf_counter()
    figures = analyse(database, run_id)
    elapsed = (time.perf_counter() - start) * 1000
    if len(sys.argv) > 4 and sys.argv[3] == "--json":
        with open(sys.argv[4], "w") as f:
            json.dump(figures, f, default=float)
    print(f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
