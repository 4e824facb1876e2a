#!/usr/bin/python3
"""A simulated probe worker for the demo: talks to the multisample queue
exactly as a real worker would (claim, complete or fail), but instead of
calling a model it makes up an answer.

Each model has a temperament: a leaning per scenario and a spread that says
how much its answers vary from one sample to the next. Answers are drawn
from a seeded generator per (run, scenario, model, sample), so a demo run is
reproducible whatever order the workers claim the jobs in. About one probe
in twenty fails once with a retryable error, to show retries.

Usage: simulated_worker.py WORKER_NAME   (connection from the PG* variables)
"""
import hashlib
import json
import random
import sys

import psycopg2

DECISIONS = {1: "refuse to act", 2: "lean against acting", 3: "stay undecided",
             4: "lean towards acting", 5: "act decisively"}
# model -> (leaning added to the scenario's base decision, sample spread)
TEMPERAMENT = {"gpt-sim-large": (0.3, 0.5), "claude-sim": (-0.2, 0.35),
               "local-llama": (0.0, 1.1)}


def sample_rng(*key):
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def simulate_answer(job, scenario):
    run_id, scenario_id, model_id, sample_index = job
    dims = scenario.get("dimensions", {})
    base = 1.5 + 0.6 * dims.get("harm", 3) - 0.2 * dims.get("uncertainty", 3)
    leaning, spread = TEMPERAMENT.get(model_id, (0.0, 0.8))
    # Scenarios with high uncertainty make every model less consistent.
    spread *= 0.6 + 0.2 * dims.get("uncertainty", 3)
    rng = sample_rng(run_id, scenario_id, model_id, sample_index)
    score = min(5, max(1, round(base + leaning + rng.gauss(0, spread))))
    answer = f"After weighing the options I would {DECISIONS[score]}."
    turns = [{"role": "user", "content": scenario.get("prompt", "")},
             {"role": "assistant", "content": "Let me think about who is affected."},
             {"role": "assistant", "content": answer}]
    if rng.random() < 0.5:   # some samples take a different path early
        turns[1]["content"] = "The first question is what I am responsible for."
    return score, answer, turns, rng


def main():
    worker = sys.argv[1]
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    done = failed = 0
    while True:
        cur.execute("SELECT run_id, scenario_id, model_id, sample_index, attempt, scenario_content"
                    "  FROM multisample.claim_probe_jobs(%s, 4, interval '1 minute')", (worker,))
        jobs = cur.fetchall()
        if not jobs:
            # Nothing claimable: finished, or only retries waiting for their backoff.
            cur.execute("SELECT count(*) FROM multisample.probe_jobs WHERE state IN ('QUEUED', 'RUNNING')")
            if cur.fetchone()[0] == 0:
                break
            cur.execute("SELECT pg_sleep(0.2)")
            continue
        for run_id, scenario_id, model_id, sample_index, attempt, scenario in jobs:
            job = (run_id, scenario_id, model_id, sample_index)
            score, answer, turns, rng = simulate_answer(job, scenario)
            if attempt == 1 and rng.random() < 0.05:
                cur.execute("SELECT multisample.fail_probe_job(%s, %s, %s, %s, %s, %s, %s, true)",
                            (run_id, scenario_id, model_id, sample_index, worker,
                             "RATE_LIMITED", "simulated provider rate limit (HTTP 429)"))
                failed += 1
                continue
            cur.execute(
                "SELECT multisample.complete_probe_job(run_id => %s, scenario_id => %s, model_id => %s,"
                " sample_index => %s, worker => %s, content => %s, score => %s,"
                " decision_code => %s, decision_text => %s, input_tokens => %s, output_tokens => %s)",
                (run_id, scenario_id, model_id, sample_index, worker,
                 json.dumps({"turns": turns}), score, str(score), answer,
                 80 + rng.randrange(40), 700 + rng.randrange(400)))
            done += 1
    print(f"{worker}: completed {done} probes, {failed} simulated retryable failures")


if __name__ == "__main__":
    main()
