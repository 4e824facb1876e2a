#!/usr/bin/python3
"""A probe worker for test/concurrency.sh: talks to the queue exactly as a
real worker does (claim, then complete or fail), with a behaviour chosen on
the command line, and logs every call's outcome as a TSV line:

    worker  outcome  run_id  scenario_id  model_id  sample_index  attempt

Behaviours:
  normal  claims a few jobs, completes most, fails some retryably and a few
          for good; re-sends some completions (they must come back
          already_completed)
  slow    short leases and probes that take longer than the lease now and
          then, so other workers take its jobs over (its report must then
          come back lease_lost, or be recorded if nobody took the job yet)
  hog     claims jobs with a 20 s lease, prints its backend pid, and hangs
          until the test kills it

Usage: concurrency_worker.py NAME BEHAVIOUR LOGFILE [ROLE]   (connection: PG* env)
ROLE: SET ROLE to this role first (a worker role of the README's recipe).
"""
import random
import sys
import time

import psycopg2

name, behaviour, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
rng = random.Random(name)
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
if len(sys.argv) > 4:
    cur.execute("SET ROLE %s" % sys.argv[4])
log = open(logfile, "w", buffering=1)


def record(outcome, job):
    log.write("\t".join([name, outcome] + [str(v) for v in job]) + "\n")


def claim(max_jobs, lease):
    cur.execute("SELECT run_id, scenario_id, model_id, sample_index, attempt"
                "  FROM multisample.claim_probe_jobs(%s, %s, %s::interval)", (name, max_jobs, lease))
    return cur.fetchall()


def complete(job, score):
    run_id, scenario_id, model_id, sample_index, attempt = job
    cur.execute("SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, %s, %s::jsonb,"
                " score => %s, input_tokens => 100, output_tokens => 900, attempt => %s)",
                (run_id, scenario_id, model_id, sample_index, name,
                 '{"turns": [{"role": "assistant", "content": "sample %d"}]}' % sample_index, score, attempt))
    return cur.fetchone()[0]


def fail(job, retryable):
    run_id, scenario_id, model_id, sample_index, attempt = job
    cur.execute("SELECT outcome FROM multisample.fail_probe_job(%s, %s, %s, %s, %s, %s, %s, %s,"
                " attempt => %s, retry_after => '20 milliseconds')",
                (run_id, scenario_id, model_id, sample_index, name,
                 "FLAKY" if retryable else "REFUSED", "simulated failure", retryable, attempt))
    return cur.fetchone()[0]


def queue_is_empty():
    cur.execute("SELECT NOT EXISTS (SELECT 1 FROM multisample.probe_jobs WHERE state IN ('QUEUED', 'RUNNING', 'PAUSED'))")
    return cur.fetchone()[0]


if behaviour == "hog":
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    jobs = claim(5, "20 seconds")
    for job in jobs:
        record("claimed", job)
    print(pid, len(jobs), flush=True)
    time.sleep(600)
    sys.exit(0)

lease = "1 second" if behaviour == "slow" else "30 seconds"
idle_since = None
first_job = True
while True:
    jobs = claim(3 if behaviour == "normal" else 1, lease)
    if not jobs:
        if queue_is_empty():
            break
        # Only retries in their backoff, or leases still running: wait.
        idle_since = idle_since or time.time()
        if time.time() - idle_since > 120:
            print(f"{name}: gave up waiting", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.05)
        continue
    idle_since = None
    for job in jobs:
        record("claimed", job)
        if behaviour == "slow" and (first_job or rng.random() < 0.5):
            time.sleep(1.3)          # longer than the lease: someone may take it over
            first_job = False
        else:
            time.sleep(rng.random() * 0.004)
        roll = rng.random()
        if roll < 0.15:
            record(fail(job, True), job)
        elif roll < 0.18:
            record(fail(job, False), job)
        else:
            outcome = complete(job, 1 + rng.randrange(5))
            record(outcome, job)
            if outcome == "completed" and rng.random() < 0.2:
                record("resent:" + complete(job, 1), job)
print(f"{name}: done")
