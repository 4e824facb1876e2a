"""Race campaign (run by test/race.sh; SPEC 12.1, issue 10 items 5 and 6).
Worker threads of two roles (the README's recipe) claim, complete, fail
(retryably, with short waits, and for good) and abandon jobs with short
leases, while a run manager pauses, resumes and cancels runs and releases
expired leases, all at READ COMMITTED. Every error is counted by SQLSTATE:
40P01 (deadlock) and 40001 (serialization failure) must not occur at all,
and nothing else but a run-control refusal of a run in the wrong state
(55000). Then the final states: every job finished or cancelled, one outcome
per sample, run_status and run_progress right, and no job of a paused run
handed out while it was paused. Last, each queue and run-control function
at REPEATABLE READ and SERIALIZABLE refuses with 25000 and changes nothing.
Usage: race.py DB ROLE_A ROLE_B SECONDS"""

import collections
import random
import sys
import threading
import time

import psycopg2

from attacks import WORKER_GRANTS, role_conn, rows, value
from mstest import Tap, connect

tap = Tap()
db, role_a, role_b, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
RUNS = [f"race-{i}" for i in range(8)]
CANCELLED = {"race-6", "race-7"}
errors = collections.Counter()
error_samples = {}
lock = threading.Lock()
claims = []           # (run_id, claim started, claim returned) (server time)
pauses = []           # (run_id, paused from (after commit), resumed from (before the call))
stop = threading.Event()


def count_error(who, e):
    with lock:
        errors[(who, e.pgcode)] += 1
        error_samples.setdefault((who, e.pgcode), str(e).splitlines()[0])


def worker(n, role):
    rng = random.Random(n)
    conn = role_conn(db, role)
    cur = conn.cursor()
    name = f"w{n}"
    while not stop.is_set():
        lease = "1 second" if rng.random() < 0.3 else "20 seconds"
        try:
            # (claimed at: the claim's start; clock_timestamp(): after it ran)
            cur.execute("SELECT run_id, scenario_id, model_id, sample_index, attempt, lease_expires_at - %s::interval, "
                        "clock_timestamp() FROM multisample.claim_probe_jobs(%s, 2, %s::interval)", (lease, name, lease))
            jobs = cur.fetchall()
        except psycopg2.Error as e:
            count_error("claim", e)
            continue
        if not jobs:
            time.sleep(0.01)
            continue
        with lock:
            claims.extend((j[0], j[5], j[6]) for j in jobs)
        for j in jobs:
            roll = rng.random()
            try:
                if roll < 0.07:
                    continue                      # abandoned: its lease runs out
                time.sleep(rng.random() * 0.01)
                if roll < 0.25:
                    cur.execute("SELECT outcome FROM multisample.fail_probe_job(%s, %s, %s, %s, %s, 'FLAKY', 'x', true, "
                                "attempt => %s, retry_after => %s::interval)",
                                (*j[:4], name, j[4], f"{rng.randrange(50)} milliseconds"))
                elif roll < 0.28:
                    cur.execute("SELECT outcome FROM multisample.fail_probe_job(%s, %s, %s, %s, %s, 'REFUSED', 'x', false, "
                                "attempt => %s)", (*j[:4], name, j[4]))
                else:
                    cur.execute("SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, %s, '{}', score => 2, "
                                "attempt => %s)", (*j[:4], name, j[4]))
                cur.fetchall()
            except psycopg2.Error as e:
                count_error("report", e)
    conn.close()


def manager():
    rng = random.Random(99)
    conn = connect(db)
    cur = conn.cursor()
    paused = {}
    cancelled = set()
    while not stop.is_set():
        run = rng.choice(RUNS)
        action = rng.choice(["pause", "resume", "resume", "release", "cancel" if run in CANCELLED else "pause"])
        try:
            if action == "pause" and run not in paused:
                cur.execute("SELECT multisample.pause_run(%s)", (run,))
                cur.execute("SELECT clock_timestamp()")
                paused[run] = cur.fetchone()[0]
            elif action == "resume" and run in paused:
                cur.execute("SELECT clock_timestamp()")
                at = cur.fetchone()[0]
                cur.execute("SELECT multisample.resume_run(%s)", (run,))
                with lock:
                    pauses.append((run, paused.pop(run), at))
            elif action == "cancel" and run not in cancelled and time.time() - start > seconds / 3:
                cur.execute("SELECT multisample.cancel_run(%s)", (run,))
                cancelled.add(run)
                paused.pop(run, None)
            elif action == "release":
                cur.execute("SELECT multisample.release_expired_leases('manager')")
        except psycopg2.Error as e:
            count_error("run control", e)
            if e.pgcode == "55000":
                paused.pop(run, None)
        time.sleep(rng.random() * 0.05)
    for run, since in paused.items():
        cur.execute("SELECT clock_timestamp()")
        at = cur.fetchone()[0]
        try:
            cur.execute("SELECT multisample.resume_run(%s)", (run,))
            pauses.append((run, since, at))
        except psycopg2.Error as e:
            count_error("run control", e)
    for run in CANCELLED - cancelled:
        try:
            cur.execute("SELECT multisample.cancel_run(%s)", (run,))
        except psycopg2.Error as e:
            count_error("run control", e)
    conn.close()


def setup(su):
    su.cursor().execute("""
        SET client_min_messages = warning;
        CREATE EXTENSION multisample;
        INSERT INTO multisample.definitions (id, name) VALUES ('race-def', 'race');
        INSERT INTO multisample.scenarios (id, definition_id, name)
        SELECT 'race-s' || i, 'race-def', 's' || i FROM generate_series(1, 4) AS i;
        SELECT count(*) FROM generate_series(0, 7) AS i,
               LATERAL multisample.start_run('race-def', ARRAY['m1', 'm2'], 6, max_attempts => 4,
                                             priority => CASE WHEN i % 3 = 0 THEN 'HIGH' ELSE 'NORMAL' END,
                                             id => 'race-' || i);""")
    for r in (role_a, role_b):
        su.cursor().execute(WORKER_GRANTS.format(role=r))
    # On a Citus coordinator (test/citus.sh), the same race on the
    # distributed layout: the runs spread over the shards of both workers.
    if value(su, "SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'citus'"):
        su.cursor().execute("SET client_min_messages = warning; SELECT count(*) FROM multisample.distribute_on_citus()")


def isolation_levels(su):
    a = role_conn(db, role_a)
    su.cursor().execute("SELECT count(*) FROM multisample.start_run('race-def', ARRAY['m-iso'], 2, id => 'race-iso')")
    job = rows(a, "SELECT run_id, scenario_id, model_id, sample_index FROM multisample.claim_probe_jobs('iso', 1) ")[0]
    checksum = ("SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (SELECT j::text AS x FROM multisample.probe_jobs j "
                "UNION ALL SELECT r::text FROM multisample.runs r UNION ALL SELECT t::text FROM multisample.transcripts t "
                "UNION ALL SELECT p::text FROM multisample.probe_results p) s")
    before = value(su, checksum)
    calls = [
        (a, "claim_probe_jobs", "SELECT * FROM multisample.claim_probe_jobs('iso', 1)"),
        (a, "complete_probe_job", "SELECT * FROM multisample.complete_probe_job(%s, %s, %s, %s, 'iso', '{}', score => 1)"),
        (a, "fail_probe_job", "SELECT * FROM multisample.fail_probe_job(%s, %s, %s, %s, 'iso', 'E', 'x', true)"),
        (a, "release_expired_leases", "SELECT multisample.release_expired_leases('iso')"),
        (su, "pause_run", "SELECT multisample.pause_run('race-iso')"),
        (su, "resume_run", "SELECT multisample.resume_run('race-iso')"),
        (su, "cancel_run", "SELECT multisample.cancel_run('race-iso')"),
    ]
    for level in ("REPEATABLE READ", "SERIALIZABLE"):
        for conn, name, sql in calls:
            cur = conn.cursor()
            cur.execute(f"BEGIN ISOLATION LEVEL {level}")
            try:
                cur.execute(sql, job if "%s" in sql else None)
                got = "no error"
            except psycopg2.Error as e:
                got = e.pgcode
            cur.execute("ROLLBACK")
            tap.ok(got == "25000", f"{name} at {level} refuses with 25000", got)
    tap.ok(value(su, checksum) == before, "the refused calls changed nothing (jobs, runs, transcripts, results)")
    res = rows(a, "SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, 'iso', '{}', score => 1)", job)
    tap.ok(res == [("completed",)], "and at READ COMMITTED the same completion goes through", res)
    a.close()


start = time.time()


def main():
    global start
    su = connect(db)
    setup(su)
    start = time.time()
    threads = [threading.Thread(target=worker, args=(n, role_a if n % 2 else role_b)) for n in range(4)]
    threads.append(threading.Thread(target=manager))
    for t in threads:
        t.start()
    # Until every job is done (or the time is up); the manager stops with the workers.
    while time.time() - start < seconds:
        time.sleep(0.5)
        if value(su, "SELECT count(*) FROM multisample.probe_jobs WHERE state IN ('QUEUED', 'RUNNING', 'PAUSED')") == 0:
            break
    stop.set()
    for t in threads:
        t.join()
    # What is left (jobs of runs paused at the end, abandoned leases): worked off.
    su.cursor().execute("UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second' WHERE state = 'RUNNING'")
    stop.clear()
    finisher = threading.Thread(target=worker, args=(9, role_a))
    finisher.start()
    for _ in range(600):
        if value(su, "SELECT count(*) FROM multisample.probe_jobs WHERE state IN ('QUEUED', 'RUNNING', 'PAUSED')") == 0:
            break
        su.cursor().execute("UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second' "
                            "WHERE state = 'RUNNING' AND lease_expires_at > now() + interval '2 seconds'")
        time.sleep(0.1)
    stop.set()
    finisher.join()
    elapsed = time.time() - start

    stats = rows(su, "SELECT state, count(*) FROM multisample.probe_jobs GROUP BY 1 ORDER BY 1")
    tap.diag(f"{elapsed:.1f} s; {len(claims)} claimed jobs, {len(pauses)} pause/resume pairs; jobs: {stats}")
    tap.diag(f"errors by caller and SQLSTATE: {dict(errors)}")
    for k, v in error_samples.items():
        tap.diag(f"  {k}: {v}")
    dead = sum(v for (w, c), v in errors.items() if c == "40P01")
    serial = sum(v for (w, c), v in errors.items() if c == "40001")
    tap.ok(dead == 0, f"no deadlock (40P01: {dead})")
    tap.ok(serial == 0, f"no serialization failure (40001: {serial})")
    other = {k: v for k, v in errors.items() if not (k[0] == "run control" and k[1] == "55000") and k[1] not in ("40P01", "40001")}
    tap.ok(not other, "no other error but run control refusing a run in the wrong state (55000)", other)
    tap.ok(len(claims) > 100 and len(pauses) > 5, f"the race had substance ({len(claims)} claims, {len(pauses)} pauses)")
    left = value(su, "SELECT count(*) FROM multisample.probe_jobs WHERE state IN ('QUEUED', 'RUNNING', 'PAUSED')")
    tap.ok(left == 0, "every job is finished or cancelled", left)
    bad = rows(su, """
        SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index, j.state, count(r.status)
          FROM multisample.probe_jobs AS j LEFT JOIN multisample.probe_results AS r
         USING (run_id, scenario_id, model_id, sample_index)
         GROUP BY 1, 2, 3, 4, 5
        HAVING count(r.status) <> CASE j.state WHEN 'CANCELLED' THEN 0 ELSE 1 END
            OR (j.state = 'COMPLETED') IS DISTINCT FROM coalesce(max(r.status) = 'SUCCESS', false)
            OR (j.state = 'CANCELLED' AND j.run_id NOT IN ('race-6', 'race-7'))""")
    tap.ok(not bad, "every sample has exactly one outcome, agreeing with its job; only cancelled runs have cancelled jobs",
           *bad[:5])
    bad = rows(su, """SELECT run_id, scenario_id, model_id, sample_index FROM multisample.transcripts WHERE deleted_at IS NULL
                       GROUP BY 1, 2, 3, 4 HAVING count(*) > 1""")
    tap.ok(not bad, "at most one live transcript per sample", bad)
    st = dict(rows(su, "SELECT run_id, status FROM multisample.run_status WHERE run_id LIKE 'race-_'"))
    want = {r: ("CANCELLED" if r in CANCELLED else "COMPLETED") for r in RUNS}
    tap.ok(st == want, "run_status: the cancelled runs CANCELLED, every other run COMPLETED", st)
    bad = rows(su, """
        SELECT p.run_id FROM multisample.run_progress AS p
          JOIN (SELECT run_id, count(*) AS total, count(*) FILTER (WHERE state = 'COMPLETED') AS completed,
                       count(*) FILTER (WHERE state = 'FAILED') AS failed, count(*) FILTER (WHERE state = 'CANCELLED') AS cancelled
                  FROM multisample.probe_jobs GROUP BY run_id) AS t USING (run_id)
         WHERE (p.total, p.completed, p.failed, p.cancelled, p.running + p.queued + p.paused)
               IS DISTINCT FROM (t.total, t.completed, t.failed, t.cancelled, 0::bigint)""")
    tap.ok(not bad, "run_progress equals the truth for every run", bad)
    # A claim that started after a pause committed and returned before the
    # resume was called ran entirely while the run was paused.
    during = [(run, str(t), str(since), str(until)) for run, t, done in claims for r, since, until in pauses
              if r == run and since < t and done < until]
    tap.ok(not during, f"no job of a paused run was handed out while it was paused ({len(pauses)} pauses checked)", during[:3])
    isolation_levels(su)
    su.close()
    tap.exit()


if __name__ == "__main__":
    main()
