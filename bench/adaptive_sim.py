#!/usr/bin/python3
"""Simulation behind bench/adaptive.sh: uniform allocation against
add_samples at the same total number of samples, over many seeded runs.

Each replication is a real run in the database: start_run with N0 samples
per pair, a simulated worker answers every queued job from the pair's
seeded score distribution, then ROUNDS calls of add_samples spend the rest
of the budget ((N - N0) samples per pair on average), each round answered
before the next. The model's estimate is the view model_variance's
scenario_mean (the mean of its scenario means). Uniform allocation gives
every pair N samples: its estimate is the mean of the first N samples of
every pair's stream (the same seeded answers the adaptive run drew from,
so both arms see common random numbers), and its exact mean squared error
is (1/S^2) sum_s sigma_s^2 / N from the true distributions.

The worker is a run manager writing outcomes in bulk (transcript, SUCCESS
probe result, job COMPLETED) with triggers off for its own statements
(session_replication_role = replica): the rows are the ones
complete_probe_job writes, and the queue is not what is measured here.

Score distributions on the 1..5 scale, per pair: the mixes half, homo and
mixed of adaptive_mixes.py.

Prints one JSON object with the figures (see bench/adaptive.sh).
Usage: adaptive_sim.py MIX REPLICATIONS SEED N0 N ROUNDS SCENARIOS MODELS DEFINITION
"""
import json
import math
import sys
import time

import numpy as np
import psycopg2

from adaptive_mixes import pair_probs

MIX, REPS, SEED, N0, N, ROUNDS, S, M, DEFINITION = sys.argv[1:10]
REPS, SEED, N0, N, ROUNDS, S, M = map(int, (REPS, SEED, N0, N, ROUNDS, S, M))
P = S * M
VALUES = np.arange(1, 6, dtype=float)
MIXES = {"half": 0, "homo": 1, "mixed": 2}    # the seed of each mix
BATCH = 10     # runs worked at once


conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT array_agg(id ORDER BY created_at, id) FROM multisample.scenarios WHERE definition_id = %s",
            (DEFINITION,))
scenarios = cur.fetchone()[0]
assert len(scenarios) == S, "the definition must have %d scenarios" % S
models = ["sim-m%02d" % m for m in range(M)]
pair_of = {(scenarios[p % S], models[p // S]): p for p in range(P)}


def answer(streams):
    """Completes every queued job of the runs in streams (run id -> P x 100 scores)."""
    cur.execute("SELECT run_id, scenario_id, model_id, sample_index FROM multisample.probe_jobs"
                " WHERE run_id = ANY(%s) AND state = 'QUEUED'", (list(streams),))
    rows = cur.fetchall()
    if not rows:
        return 0
    runs, scen, mods, idx, scores = [], [], [], [], []
    for run_id, scenario_id, model_id, sample_index in rows:
        runs.append(run_id)
        scen.append(scenario_id)
        mods.append(model_id)
        idx.append(sample_index)
        scores.append(float(streams[run_id][pair_of[(scenario_id, model_id)], sample_index]))
    cur.execute("BEGIN")
    cur.execute("SET LOCAL session_replication_role = replica")
    cur.execute("""
        WITH a AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::float8[])
                                 AS a(run_id, scenario_id, model_id, sample_index, score)),
        t AS (INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
              SELECT a.run_id || '/' || a.scenario_id || '/' || a.model_id || '/' || a.sample_index,
                     a.run_id, a.scenario_id, a.model_id, a.sample_index, a.score FROM a
              RETURNING id, run_id, scenario_id, model_id, sample_index)
        INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id)
        SELECT t.run_id, t.scenario_id, t.model_id, t.sample_index, 'SUCCESS', t.id FROM t""",
                (runs, scen, mods, idx, scores))
    cur.execute("""
        UPDATE multisample.probe_jobs AS j
           SET state = 'COMPLETED', attempts = 1, finished_at = now()
          FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[]) AS a(run_id, scenario_id, model_id, sample_index)
         WHERE (j.run_id, j.scenario_id, j.model_id, j.sample_index)
               = (a.run_id, a.scenario_id, a.model_id, a.sample_index)""", (runs, scen, mods, idx))
    cur.execute("COMMIT")
    return len(rows)


sq_adaptive, sq_uniform, exact_uniform, decomposed = [], [], [], []
det_samples, noisy_samples = [], []
checked, max_diff, db_samples = 0, 0.0, 0
started = time.time()
budget = (N - N0) * P
per_round = [budget // ROUNDS + (1 if i < budget % ROUNDS else 0) for i in range(ROUNDS)]
for first in range(0, REPS, BATCH):
    batch = range(first, min(first + BATCH, REPS))
    streams, truth, variances = {}, {}, {}
    for r in batch:
        rng = np.random.default_rng([SEED, MIXES[MIX], r])
        probs = pair_probs(MIX, rng, P)
        cum = probs.cumsum(1)
        u = rng.random((P, 100))
        run_id = "sim-%s-%d" % (MIX, r)
        streams[run_id] = 1.0 + (u[:, :, None] > cum[:, None, :4]).sum(2)
        truth[run_id] = probs @ VALUES
        variances[run_id] = probs @ VALUES ** 2 - truth[run_id] ** 2
        cur.execute("SELECT job_count FROM multisample.start_run(%s, %s, %s, id => %s)",
                    (DEFINITION, models, N0, run_id))
    db_samples += answer(streams)
    for b in per_round:
        for run_id in streams:
            cur.execute("SELECT count(*) FROM multisample.add_samples(%s, %s)", (run_id, b))
        db_samples += answer(streams)
    cur.execute("SELECT run_id, model_id, scenario_mean FROM multisample.model_variance WHERE run_id = ANY(%s)",
                (list(streams),))
    estimate = {(run_id, model_id): mean for run_id, model_id, mean in cur.fetchall()}
    cur.execute("SELECT run_id, scenario_id, model_id, count(*), max(sample_index) FROM multisample.transcripts"
                " WHERE run_id = ANY(%s) GROUP BY 1, 2, 3", (list(streams),))
    counts = {run_id: np.zeros(P, dtype=int) for run_id in streams}
    for run_id, scenario_id, model_id, n, last in cur.fetchall():
        assert last == n - 1, "samples 0 .. n-1 of every pair"
        counts[run_id][pair_of[(scenario_id, model_id)]] = n
    for run_id in streams:
        n = counts[run_id]
        assert n.sum() == N * P, "%s has %d samples, not %d" % (run_id, n.sum(), N * P)
        pair_means = np.array([streams[run_id][p, :n[p]].mean() for p in range(P)])
        err_a, err_u = [], []
        for m in range(M):
            sl = slice(m * S, (m + 1) * S)
            mine = pair_means[sl].mean()
            db = estimate[(run_id, models[m])]
            max_diff = max(max_diff, abs(db - mine) / max(abs(mine), 1e-300))
            checked += 1
            true_mean = truth[run_id][sl].mean()
            err_a.append((db - true_mean) ** 2)
            err_u.append((streams[run_id][sl, :N].mean(1).mean() - true_mean) ** 2)
            exact_uniform.append((variances[run_id][sl] / N).sum() / S ** 2)
            decomposed.append(((pair_means[sl] - truth[run_id][sl]) ** 2).sum() / S ** 2)
        sq_adaptive.append(np.mean(err_a))
        sq_uniform.append(np.mean(err_u))
        deterministic = variances[run_id] < 1e-12
        det_samples.extend(n[deterministic])
        noisy_samples.extend(n[~deterministic])
    # The simulation's runs are the only ones in its database: emptying the
    # tables is faster than deleting the runs (their cascades look up
    # probe_results by transcript_id, which has no index).
    cur.execute("TRUNCATE multisample.runs CASCADE")

sq_adaptive, sq_uniform = np.array(sq_adaptive), np.array(sq_uniform)
mse_a, se_a = sq_adaptive.mean(), sq_adaptive.std(ddof=1) / math.sqrt(REPS)
diff = sq_adaptive - sq_uniform
json.dump({
    "mix": MIX, "replications": REPS, "models": M, "scenarios": S, "n0": N0, "n": N, "rounds": ROUNDS,
    "mse_adaptive": mse_a, "se_adaptive": se_a,
    "mse_uniform_simulated": sq_uniform.mean(), "se_uniform_simulated": sq_uniform.std(ddof=1) / math.sqrt(REPS),
    "mse_uniform_exact": float(np.mean(exact_uniform)),
    "mse_adaptive_decomposed": float(np.mean(decomposed)),
    "paired_difference": diff.mean(), "se_paired_difference": diff.std(ddof=1) / math.sqrt(REPS),
    "mean_samples_deterministic_pairs": float(np.mean(det_samples)) if det_samples else None,
    "mean_samples_other_pairs": float(np.mean(noisy_samples)) if noisy_samples else None,
    "database_samples": db_samples, "checked_model_means": checked, "max_relative_difference": max_diff,
    "seconds": time.time() - started,
}, sys.stdout)
print()
