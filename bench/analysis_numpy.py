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
  per scenario-model pair: count, mean, variance (n - 1), std_dev, min, max;
  per scenario: the mean of its per-model variances, and the five most and
    least variable scenarios by it.

The clock starts before connecting and stops when every figure is computed
(interpreter start-up and imports are not counted). Prints the elapsed
milliseconds on stdout; with --json FILE also writes the figures there.

With --compare FILE (an analysis_json document), instead checks that every
figure of the document agrees with numpy's to 1e-9 relative, and exits 1 if
any does not.

usage: analysis_numpy.py DATABASE RUN_ID [--json FILE] [--compare FILE]
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
    # Scenarios: the mean of the per-model sample variances (pairs with 2 or
    # more samples), most variable first, ties by scenario id.
    with np.errstate(invalid="ignore"):
        by_scenario = p_var.reshape(n_models, n_scen)
        counted = (~np.isnan(by_scenario)).sum(axis=0)
        scen_var = np.where(counted > 0, np.nansum(by_scenario, axis=0) / np.maximum(counted, 1), np.nan)
    ranked = sorted((i for i in range(n_scen) if not np.isnan(scen_var[i])),
                    key=lambda i: (-scen_var[i], scenarios[i]))
    scenario_variance = {scenarios[i]: scen_var[i] for i in ranked}
    most = [scenarios[i] for i in ranked[:5]]
    least = [scenarios[i] for i in ranked[::-1][:5]] if len(ranked) > 10 else []
    return {"perModel": per_model, "pairs": pairs, "scenarioVariance": scenario_variance,
            "mostVariable": most, "leastVariable": least}


def close(a, b, tol):
    if a is None or b is None:
        return a is None and (b is None or np.isnan(b))
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def compare(figures, doc, tol=1e-9):
    """Differences between the numpy figures and an analysis_json document."""
    problems = []

    def check(what, got, want):
        if not close(got, want, tol):
            problems.append(f"{what}: analysis_json {got!r}, numpy {want!r}")

    models = doc.get("perModel") or {}
    if sorted(models) != sorted(figures["perModel"]):
        problems.append(f"perModel models: {sorted(models)} vs {sorted(figures['perModel'])}")
    for model, want in figures["perModel"].items():
        got = models.get(model, {})
        ci = got.get("confidenceInterval") or {}
        within = got.get("withinScenario") or {}
        for key, value in [("sampleCount", got.get("sampleCount")), ("scenarioCount", got.get("scenarioCount")),
                           ("mean", got.get("mean")), ("stdDev", got.get("stdDev")),
                           ("variance", got.get("variance")), ("min", got.get("min")), ("max", got.get("max")),
                           ("ciLower", ci.get("lower")), ("ciUpper", ci.get("upper")),
                           ("avgWithinScenarioVariance", within.get("meanVariance")),
                           ("maxWithinScenarioVariance", within.get("maxVariance")),
                           ("avgWithinScenarioStdDev", within.get("stdDev")),
                           ("consistencyScore", got.get("consistencyScore"))]:
            check(f"perModel.{model}.{key}", value, want[key])
    pairs_seen = 0
    for entry in doc.get("scenarioVariance") or []:
        sid = entry["scenarioId"]
        check(f"scenarioVariance.{sid}.meanVariance", entry.get("meanVariance"), figures["scenarioVariance"].get(sid))
        for model, got in (entry.get("perModel") or {}).items():
            want = figures["pairs"].get(f"{sid}|{model}")
            if want is None:
                problems.append(f"scenarioVariance.{sid}.{model}: no such pair in the samples")
                continue
            pairs_seen += 1
            for key in ("sampleCount", "mean", "variance", "stdDev", "min", "max"):
                check(f"scenarioVariance.{sid}.{model}.{key}", got.get(key), want[key])
    if pairs_seen != len(figures["pairs"]):
        problems.append(f"scenarioVariance holds {pairs_seen} pairs, the samples {len(figures['pairs'])}")
    for key, want in (("mostVariableScenarios", figures["mostVariable"]),
                      ("leastVariableScenarios", figures["leastVariable"])):
        got = [e["scenarioId"] for e in doc.get(key) or []]
        if sorted(got) != sorted(want):
            problems.append(f"{key}: {got} vs {want}")
    return problems


def main():
    args = sys.argv[1:]
    database, run_id = args[:2]
    options = dict(zip(args[2::2], args[3::2]))
    start = time.perf_counter()
    figures = analyse(database, run_id)
    elapsed = (time.perf_counter() - start) * 1000
    if "--json" in options:
        with open(options["--json"], "w") as f:
            json.dump(figures, f, default=float)
    if "--compare" in options:
        with open(options["--compare"]) as f:
            doc = json.load(f)
        problems = compare(figures, doc)
        for p in problems[:20]:
            print(p, file=sys.stderr)
        checked = 13 * len(figures["perModel"]) + 6 * len(figures["pairs"]) + len(figures["scenarioVariance"])
        print(f"{len(problems)} of {checked} figures differ by more than 1e-9 relative", file=sys.stderr)
        sys.exit(1 if problems else 0)
    print(f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
