"""Worker attack campaign (run by test/attack_worker.sh; SPEC 12.1, issue 10
items 3 and 4). A worker role built with the README's least-privilege recipe
tries to wedge, starve or corrupt the jobs and runs of other workers, by its
own UPDATEs and INSERTs as much as through the functions. Then two honest
worker roles work every run off. The outcome is what counts: every run
COMPLETED (the cancelled one CANCELLED), every sample exactly one outcome
and at most one live transcript, no honest call ever raised, the queued
jobs of other runs never changed by the attacker, and the attacker's rights
unchanged. Part two does the same with attacks made under 1.1 (when the
policies let a worker change any queued job), then upgraded to 1.2.
Usage: attack_worker.py DB DB11 ATTACKER HONEST1 HONEST2
DB11 "-" leaves part two out. On a database with the citus extension (a
Citus coordinator with its workers registered) the tables are distributed
first."""

import sys

import psycopg2.extensions

from attacks import WORKER_GRANTS, call, connect, role_conn, rows, snapshot, snapshot_diff, sqlstate, value
from mstest import Tap

tap = Tap()
db, db11, attacker, honest1, honest2 = sys.argv[1:6]

JOB_COLS = ("run_id, scenario_id, model_id, sample_index, state, priority, queue_order, attempts, max_attempts, "
            "lease_holder, lease_role, lease_expires_at, next_attempt_at, last_error_code, last_error_message, "
            "created_at, claimed_at, finished_at")
KEY = "(run_id, scenario_id, model_id, sample_index)"
on_citus = False


def setup(su, ext_version=None):
    su.cursor().execute(f"""
        SET client_min_messages = warning;
        CREATE EXTENSION multisample {"VERSION '%s'" % ext_version if ext_version else ""};
        INSERT INTO multisample.definitions (id, name) VALUES ('aw-def', 'attack'), ('aw-two', 'two');
        INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
        SELECT 'aw-s' || i, 'aw-def', 'scenario ' || i, '{{"prompt": "p"}}', '2024-01-01'::timestamptz + i * interval '1 hour'
          FROM generate_series(1, 4) AS i;
        INSERT INTO multisample.scenarios (id, definition_id, name) VALUES ('aw-t1', 'aw-two', 't1'), ('aw-t2', 'aw-two', 't2');
        SELECT count(*) FROM multisample.start_run('aw-two', ARRAY['m-once'], 2, max_attempts => 1, id => 'v-once');
        SELECT count(*) FROM multisample.start_run('aw-def', ARRAY['m1', 'm2'], 3, priority => 'HIGH', id => 'v-main');
        SELECT count(*) FROM multisample.start_run('aw-two', ARRAY['m-low'], 2, priority => 'LOW', id => 'v-low');
        SELECT count(*) FROM multisample.start_run('aw-def', ARRAY['m-a'], 3, max_attempts => 3, priority => 'LOW', id => 'a-run');
        SELECT count(*) FROM multisample.start_run('aw-two', ARRAY['m-p'], 2, id => 'v-paused');
        SELECT count(*) FROM multisample.start_run('aw-two', ARRAY['m-c'], 2, id => 'v-cancel');
        RESET client_min_messages;
    """)
    for role in (attacker, honest1, honest2):
        su.cursor().execute(WORKER_GRANTS.format(role=role))
    # On a Citus coordinator (test/citus.sh), the attacks on the distributed
    # layout: triggers and policies run on the shards.
    global on_citus
    on_citus = bool(value(su, "SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'citus'"))
    if on_citus:
        su.cursor().execute("SET client_min_messages = warning; SELECT count(*) FROM multisample.distribute_on_citus()")


def fast_forward(su):
    """Time passes (the test's superuser, a run manager): backoffs end, and
    leases held by a role that stopped reporting run out."""
    su.cursor().execute("""
        UPDATE multisample.probe_jobs SET next_attempt_at = now() WHERE state IN ('QUEUED', 'PAUSED') AND next_attempt_at > now();
        UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second'
         WHERE state = 'RUNNING' AND lease_role <> ALL (%s)""", ([honest1, honest2],))


def work_off(su, honest, label):
    """Honest workers of two roles claim and complete until nothing is left
    (fast-forwarding time when only waits remain). Returns the calls made and
    the errors raised."""
    conns = [role_conn(db_of[su], r) for r in honest]
    calls, errors = 0, []
    for rnd in range(200):
        progressed = False
        for i, c in enumerate(conns):
            res = call(c, "SELECT run_id, scenario_id, model_id, sample_index, attempt "
                          "FROM multisample.claim_probe_jobs(%s, 3, '10 minutes')", (f"honest-{i}",))
            calls += 1
            if res[0] != "ok":
                errors.append(("claim", res))
                continue
            for job in res[1]:
                progressed = True
                out = call(c, "SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, %s, "
                              "'{\"turns\": []}', score => 3, attempt => %s)", (*job[:4], f"honest-{i}", job[4]))
                calls += 1
                if out[0] != "ok" or out[1][0][0] != "completed":
                    errors.append(("complete", job, out))
        if not progressed:
            if value(su, "SELECT count(*) FROM multisample.probe_jobs AS j JOIN multisample.runs AS r ON r.id = j.run_id "
                         "WHERE j.state IN ('QUEUED', 'RUNNING') AND r.status NOT IN ('PAUSED', 'CANCELLED')") == 0:
                break
            fast_forward(su)
    for c in conns:
        c.close()
    tap.diag(f"{label}: honest workers made {calls} calls in {rnd + 1} rounds")
    return calls, errors


def outcome_checks(su, label, expect_cancelled=("v-cancel",)):
    st = rows(su, "SELECT run_id, status FROM multisample.run_status ORDER BY 1")
    bad = [(r, s) for r, s in st if s != ("CANCELLED" if r in expect_cancelled else "COMPLETED")]
    tap.ok(not bad and st, f"{label}: every run is COMPLETED (run_status), the cancelled one CANCELLED", st)
    bad = rows(su, f"""
        SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index, j.state, count(r.status) AS results
          FROM multisample.probe_jobs AS j
          LEFT JOIN multisample.probe_results AS r USING {KEY}
         GROUP BY 1, 2, 3, 4, 5
        HAVING count(r.status) <> CASE j.state WHEN 'CANCELLED' THEN count(r.status) ELSE 1 END
            OR j.state NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')""")
    tap.ok(not bad, f"{label}: every job is finished and every sample has exactly one outcome (none lost, none doubled)", bad)
    bad = rows(su, """SELECT run_id, scenario_id, model_id, sample_index, count(*) FROM multisample.transcripts
                       WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4 HAVING count(*) > 1""")
    tap.ok(not bad, f"{label}: at most one live transcript per sample", bad)
    bad = rows(su, f"""
        SELECT j.run_id, j.scenario_id, j.model_id, j.sample_index, j.state, r.status, t.id
          FROM multisample.probe_jobs AS j
          LEFT JOIN multisample.probe_results AS r USING {KEY}
          LEFT JOIN multisample.transcripts AS t ON t.run_id = j.run_id AND t.scenario_id = j.scenario_id
           AND t.model_id = j.model_id AND t.sample_index = j.sample_index AND t.deleted_at IS NULL
         WHERE (j.state = 'COMPLETED' AND (r.status IS DISTINCT FROM 'SUCCESS' OR r.transcript_id IS DISTINCT FROM t.id))
            OR (j.state = 'FAILED' AND (r.status IS DISTINCT FROM 'FAILED' OR t.id IS NOT NULL))""")
    tap.ok(not bad, f"{label}: each outcome agrees with its job (COMPLETED: a SUCCESS result naming its live transcript; FAILED: a FAILED result, no transcript)", bad)
    bad = rows(su, """SELECT p.run_id FROM multisample.run_progress AS p
                       WHERE p.total <> (SELECT count(*) FROM multisample.probe_jobs j WHERE j.run_id = p.run_id)
                          OR p.completed + p.failed + p.cancelled <> p.total""")
    tap.ok(not bad, f"{label}: run_progress equals the jobs for every run", bad)


db_of = {}


def main():
    su = connect(db)
    db_of[su] = db
    setup(su)
    before_rights = snapshot(su, attacker)
    a = role_conn(db, attacker)

    def attack(desc, sql, params=None, allowed=("42501", "23514")):
        """An attempt that must fail with one of ALLOWED, or change no row."""
        with a.cursor() as cur:
            try:
                cur.execute(sql, params)
                n = cur.rowcount
                res = ("ok", n)
            except Exception as e:  # noqa: BLE001 - any refusal is recorded
                res = ("error", getattr(e, "pgcode", None), str(e).splitlines()[0])
                if a.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    cur.execute("ROLLBACK")
        good = (res[0] == "error" and res[1] in allowed) or (res[0] == "ok" and res[1] == 0)
        tap.ok(good, f"attacker: {desc} is refused ({res[1] if res[0] == 'error' else str(res[1]) + ' rows'})", sql, res)
        return res

    # Honest work first: jobs of v-main held by honest1 (a live lease) and
    # a completed one (its transcript, for forged references); v-paused with
    # a job handed back while the run is paused.
    h1 = role_conn(db, honest1)
    held = rows(h1, "SELECT run_id, scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('honest-held', 2, '1 hour')")
    done = rows(h1, "SELECT run_id, scenario_id, model_id, sample_index, attempt FROM multisample.claim_probe_jobs('honest-done', 1)")[0]
    rows(h1, "SELECT * FROM multisample.complete_probe_job(%s, %s, %s, %s, 'honest-done', '{}', score => 2)", done[:4])
    done_tid = value(su, f"SELECT id FROM multisample.transcripts WHERE {KEY} = (%s, %s, %s, %s)", done[:4])
    paused_job = rows(h1, "SELECT run_id, scenario_id, model_id, sample_index FROM multisample.probe_jobs "
                          "WHERE run_id = 'v-paused' ORDER BY queue_order LIMIT 1")[0]
    h1.cursor().execute("UPDATE multisample.probe_jobs SET state = 'RUNNING', attempts = attempts + 1, lease_holder = 'honest-p', "
                        "lease_role = current_user, lease_expires_at = now() + interval '1 hour', claimed_at = now() "
                        f"WHERE {KEY} = %s", (paused_job,))
    su.cursor().execute("SELECT multisample.pause_run('v-paused')")
    rows(h1, "SELECT * FROM multisample.fail_probe_job(%s, %s, %s, %s, 'honest-p', 'FLAKY', 'x', true, retry_after => '0')", paused_job)
    tap.ok(value(su, f"SELECT state FROM multisample.probe_jobs WHERE {KEY} = %s", (paused_job,)) == "QUEUED"
           and value(su, "SELECT status FROM multisample.run_status WHERE run_id = 'v-paused'") == "PAUSED",
           "setup: a job handed back while its run is paused waits there, QUEUED")
    canc = rows(h1, "SELECT run_id, scenario_id, model_id, sample_index FROM multisample.probe_jobs WHERE run_id = 'v-cancel' "
                    "ORDER BY queue_order LIMIT 1")[0]
    su.cursor().execute("SELECT multisample.cancel_run('v-cancel')")

    victims = "run_id IN ('v-main', 'v-once', 'v-low', 'v-paused', 'v-cancel')"
    before_jobs = rows(su, f"SELECT {JOB_COLS} FROM multisample.probe_jobs WHERE {victims} ORDER BY 1, 2, 3, 4")

    # ---- queued jobs of other runs (issue 10, items 3 and 4) -----------------
    q = "UPDATE multisample.probe_jobs SET {} WHERE " + victims + " AND state = 'QUEUED'"
    for sets, what in [
        ("attempts = max_attempts", "attempts = max_attempts on queued jobs of other runs (wedged every claim in 1.1)"),
        ("attempts = 0", "attempts = 0 on queued jobs"),
        ("next_attempt_at = 'infinity'", "next_attempt_at = infinity on queued jobs (never claimable again)"),
        ("next_attempt_at = now() + interval '2 days', lease_role = current_user", "a 2-day wait on queued jobs"),
        ("lease_role = current_user, lease_holder = 'mine'", "lease_role/lease_holder on queued jobs"),
        ("state = 'QUEUED', lease_role = current_user", "a no-op 'hand-back' of queued jobs with its role stamped"),
        ("state = 'PAUSED', lease_role = current_user", "pausing queued jobs of active runs"),
        ("state = 'CANCELLED', finished_at = now(), lease_role = current_user", "cancelling queued jobs of active runs"),
        ("state = 'FAILED', finished_at = now(), lease_role = current_user", "failing queued jobs without an outcome"),
        ("state = 'COMPLETED', finished_at = now(), lease_role = current_user", "completing queued jobs without an outcome"),
        ("finished_at = now(), lease_role = current_user", "finished_at on queued jobs"),
        ("last_error_message = repeat('x', 100000), lease_role = current_user", "a 100 kB error message on queued jobs"),
        ("claimed_at = now() + interval '1 year', lease_role = current_user", "claimed_at on queued jobs"),
    ]:
        attack(what, q.format(sets))
    for sets, what in [("priority = 2", "raising the priority of jobs"), ("queue_order = -1", "reordering jobs"),
                       ("max_attempts = 100", "raising max_attempts")]:
        attack(what, q.format(sets))
    # (Citus refuses to change a distribution column before the trigger runs.)
    attack("moving jobs to another run", q.format("run_id = 'a-run'"),
           allowed=("42501", "23514", "0A000") if on_citus else ("42501", "23514"))
    # Claims by its own UPDATE: only the exact claim passes.
    claim = ("UPDATE multisample.probe_jobs SET state = 'RUNNING', attempts = attempts + {inc}, lease_holder = 'evil', "
             "lease_role = current_user, lease_expires_at = {lease}, claimed_at = now(){more} "
             "WHERE run_id = 'v-main' AND state = 'QUEUED'")
    attack("a claim with a lease of infinity", claim.format(inc=1, lease="'infinity'", more=""))
    attack("a claim with a 2-day lease", claim.format(inc=1, lease="now() + interval '2 days'", more=""))
    attack("a claim that does not count its attempt", claim.format(inc=0, lease="now() + interval '1 hour'", more=""))
    attack("a claim that counts two attempts", claim.format(inc=2, lease="now() + interval '1 hour'", more=""))
    attack("a claim that moves next_attempt_at", claim.format(inc=1, lease="now() + interval '1 hour'",
                                                              more=", next_attempt_at = 'infinity'"))
    attack("a claim with finished_at set", claim.format(inc=1, lease="now() + interval '1 hour'", more=", finished_at = now()"))
    attack("a claim of a queued job of a paused run (by its own UPDATE)",
           claim.replace("run_id = 'v-main'", "run_id = 'v-paused'").format(inc=1, lease="now() + interval '1 hour'", more=""))
    attack("a claim of paused jobs", claim.replace("run_id = 'v-main' AND state = 'QUEUED'",
                                                   "run_id = 'v-paused' AND state = 'PAUSED'").format(
        inc=1, lease="now() + interval '1 hour'", more=""))
    attack("re-opening a cancelled job", claim.replace("run_id = 'v-main' AND state = 'QUEUED'",
                                                       "run_id = 'v-cancel'").format(inc=1, lease="now() + interval '1 hour'", more=""))
    got = rows(a, "SELECT run_id, scenario_id, model_id, sample_index FROM multisample.claim_probe_jobs('evil-fn', 3, '1 minute')")
    tap.ok(len(got) == 3 and all(g[0] == "v-main" for g in got),
           "attacker: claim_probe_jobs hands out the head of the queue (and nothing of a paused or cancelled run)", got)
    attacker_held = set(got)

    # ---- jobs another role holds --------------------------------------------
    for j in held:
        attack("taking over a job another role holds (live lease)",
               f"UPDATE multisample.probe_jobs SET lease_role = current_user, lease_holder = 'evil', "
               f"lease_expires_at = now() + interval '1 hour' WHERE {KEY} = %s", (tuple(j[:4]),))
        attack("handing back a job another role holds",
               f"UPDATE multisample.probe_jobs SET state = 'QUEUED', lease_role = current_user WHERE {KEY} = %s", (tuple(j[:4]),))
        res = call(a, "SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, 'honest-held', '{}', score => 1)", j[:4])
        tap.ok(res == ("ok", [("lease_lost",)]), "attacker: complete_probe_job under the holder's worker name says lease_lost", res)
        res = call(a, "SELECT outcome FROM multisample.fail_probe_job(%s, %s, %s, %s, 'honest-held', 'E', 'x', false)", j[:4])
        tap.ok(res[0] == "ok" and res[1][0][0] == "lease_lost", "attacker: fail_probe_job under the holder's worker name says lease_lost", res)
        attack("a transcript for a job another role holds",
               "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, content) "
               "VALUES ('forged-' || md5(random()::text), %s, %s, %s, %s, '{}')", tuple(j[:4]))
        attack("a FAILED result for a job another role holds",
               "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status) "
               "VALUES (%s, %s, %s, %s, 'FAILED')", tuple(j[:4]))
    attack("a transcript for a queued job it does not hold",
           "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index) "
           "SELECT 'forged-q', run_id, scenario_id, model_id, sample_index FROM multisample.probe_jobs "
           "WHERE run_id = 'v-low' AND state = 'QUEUED' LIMIT 1")

    # ---- its own jobs: claimed properly, then abused ---------------------------
    def own_claim(n, run="a-run"):
        return rows(a, f"""
            UPDATE multisample.probe_jobs AS j SET state = 'RUNNING', attempts = j.attempts + 1, lease_holder = 'evil',
                   lease_role = current_user, lease_expires_at = now() + interval '10 minutes', claimed_at = now()
             WHERE {KEY} IN (SELECT run_id, scenario_id, model_id, sample_index FROM multisample.probe_jobs
                              WHERE run_id = %s AND state = 'QUEUED' ORDER BY queue_order LIMIT %s)
            RETURNING run_id, scenario_id, model_id, sample_index""", (run, n))
    mine = own_claim(8)
    tap.ok(len(mine) == 8, "attacker: claims jobs by its own UPDATE, exactly as the rules allow (one attempt, a short lease)")
    mk = lambda j: f"{KEY} = ('{j[0]}', '{j[1]}', '{j[2]}', {j[3]})"
    j0, j1, j2, j3, j4, j5, j6, j7 = mine
    own = "UPDATE multisample.probe_jobs SET {} WHERE " + mk(j0)
    attack("lease_expires_at = infinity on its own job", own.format("lease_expires_at = 'infinity'"))
    attack("a 2-day lease on its own job", own.format("lease_expires_at = now() + interval '2 days'"))
    attack("attempts = 0 on its own job", own.format("attempts = 0"))
    attack("giving an attempt back", own.format("attempts = attempts - 1"))
    attack("moving claimed_at", own.format("claimed_at = now() - interval '1 hour'"))
    attack("handing back with next_attempt_at = infinity", own.format("state = 'QUEUED', next_attempt_at = 'infinity'"))
    attack("handing back with a 2-day wait", own.format("state = 'QUEUED', next_attempt_at = now() + interval '2 days'"))
    attack("pausing its own job", own.format("state = 'PAUSED'"))
    attack("cancelling its own job (its run is not cancelled)", own.format("state = 'CANCELLED', finished_at = now()"))
    attack("giving its job to another role", own.format(f"lease_role = '{honest1}'"))
    attack("a 20 kB error message on its own job", own.format("last_error_message = repeat('x', 20000)"))
    attack("an empty worker name", own.format("lease_holder = ''"))
    # Renewals: never past 1 day after the claim (else a lease renewed every
    # day would hold the job for ever). The superuser moves the claim back.
    su.cursor().execute("UPDATE multisample.probe_jobs SET claimed_at = now() - interval '23 hours' WHERE " + mk(j1))
    attack("renewing a lease past 1 day after its claim", own.replace(mk(j0), mk(j1)).format("lease_expires_at = now() + interval '2 hours'"))
    res = call(a, own.replace(mk(j1), mk(j1)).replace(mk(j0), mk(j1)).format("lease_expires_at = now() + interval '30 minutes'"))
    tap.ok(res == ("ok", []), "attacker: renewing a lease within 1 day of its claim is allowed", res)
    # The last attempt handed back (1.1: wedged every claim of every run).
    once = own_claim(1, "v-once")[0]
    attacker_held |= {tuple(once)} | {tuple(m) for m in mine}
    attack("handing back a job on its last attempt (max_attempts 1)",
           "UPDATE multisample.probe_jobs SET state = 'QUEUED', next_attempt_at = now() WHERE " + mk(once))
    # Outcomes recorded, then the job handed back or left to expire.
    rows(a, "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, content, score) "
            "VALUES ('evil-t2', %s, %s, %s, %s, '{\"forged\": true}', 1) RETURNING id", j2)
    attack("handing back a job after recording its transcript", own.replace(mk(j0), mk(j2)).format("state = 'QUEUED', next_attempt_at = now()"))
    rows(a, "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, error_code) "
            "VALUES (%s, %s, %s, %s, 'FAILED', 'GIVE_UP') RETURNING 1", j3)
    attack("handing back a job after recording a FAILED result", own.replace(mk(j0), mk(j3)).format("state = 'QUEUED', next_attempt_at = now()"))
    attack("a SUCCESS result naming another sample's transcript",
           "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id) "
           "VALUES (%s, %s, %s, %s, 'SUCCESS', %s)", (*j4, done_tid), allowed=("23514", "23503", "42501"))
    attack("a SUCCESS result naming no transcript",
           "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status) "
           "VALUES (%s, %s, %s, %s, 'SUCCESS')", j4)
    attack("a deleted transcript", "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, deleted_at) "
                                   "VALUES ('evil-del', %s, %s, %s, %s, now())", j4)
    attack("a second live transcript of its job",
           "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index) VALUES ('evil-t2b', %s, %s, %s, %s)",
           j2, allowed=("23505",))
    attack("a FAILED result with a 20 kB error message",
           "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, error_message) "
           "VALUES (%s, %s, %s, %s, 'FAILED', repeat('m', 20000))", j5)
    attack("a score of 1e308", "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score) "
                               "VALUES ('evil-big', %s, %s, %s, %s, 1e308)", j5)
    # (numeric has no Infinity before PostgreSQL 14: refused there as input, 22P02)
    attack("a cost of Infinity", "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, cost) "
                                 "VALUES ('evil-inf', %s, %s, %s, %s, 'Infinity')", j5, allowed=("42501", "23514", "22P02"))
    attack("negative tokens", "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, input_tokens) "
                              "VALUES ('evil-neg', %s, %s, %s, %s, -1)", j5)
    res = call(a, "SELECT outcome FROM multisample.fail_probe_job(%s, %s, %s, %s, 'evil', 'HUGE', repeat('m', 1000000), false)", j5)
    stored = value(su, f"SELECT length(error_message) FROM multisample.probe_results WHERE {mk(j5)}")
    tap.ok(res[0] == "ok" and stored is not None and stored <= 10100,
           f"attacker: fail_probe_job with a 1 MB message stores at most 10100 characters ({stored})", res)
    res = call(a, "SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, 'evil', '{}', score => 1e308)", j6)
    tap.ok(res[0] == "error" and res[1] == "22023", "attacker: complete_probe_job with score 1e308 is refused (22023)", res)
    # j6, j7 and the jobs claimed through claim_probe_jobs: the attacker stops reporting.

    # ---- anything else ---------------------------------------------------------
    for sql, what in [
        ("UPDATE multisample.runs SET status = 'PAUSED' WHERE id = 'v-main'", "pausing a run by UPDATE"),
        ("SELECT multisample.pause_run('v-main')", "pause_run"),
        ("SELECT multisample.cancel_run('v-main')", "cancel_run"),
        ("SELECT multisample.resume_run('v-paused')", "resume_run"),
        ("DELETE FROM multisample.probe_jobs WHERE run_id = 'v-main'", "deleting jobs"),
        ("DELETE FROM multisample.transcripts", "deleting transcripts"),
        ("UPDATE multisample.transcripts SET deleted_at = now()", "deleting transcripts by UPDATE"),
        ("UPDATE multisample.probe_results SET status = 'FAILED'", "changing outcomes"),
        ("TRUNCATE multisample.probe_jobs", "TRUNCATE"),
        ("BEGIN; LOCK TABLE multisample.probe_jobs IN ACCESS EXCLUSIVE MODE; ROLLBACK", "locking the queue table"),
        ("BEGIN; LOCK TABLE multisample.runs IN SHARE MODE; ROLLBACK", "locking runs"),
        ("BEGIN; LOCK TABLE multisample.transcripts IN EXCLUSIVE MODE; ROLLBACK", "locking transcripts"),
        ("BEGIN; SELECT 1 FROM multisample.runs FOR KEY SHARE; ROLLBACK", "locking run rows"),
        ("ALTER TABLE multisample.probe_jobs DISABLE TRIGGER probe_jobs_guard", "disabling the guard"),
        ("ALTER TABLE multisample.probe_jobs DISABLE ROW LEVEL SECURITY", "disabling row-level security"),
        ("CREATE POLICY evil ON multisample.probe_jobs USING (true)", "adding a policy"),
        ("CREATE FUNCTION multisample.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'", "creating a function in the schema"),
        ("SET session_replication_role = replica", "switching triggers off for its session"),
    ]:
        attack(what, sql, allowed=("42501", "0A000", "55000"))
    after_jobs = rows(su, f"SELECT {JOB_COLS} FROM multisample.probe_jobs WHERE {victims} ORDER BY 1, 2, 3, 4")
    changed = [r for r in before_jobs if r not in after_jobs and tuple(r[:4]) not in attacker_held]
    tap.ok(len(before_jobs) == len(after_jobs) and not changed,
           "every job of the other runs is exactly as before the attacks (but those the attacker claimed properly)",
           *changed[:3])
    tap.diag(f"the attacker holds {len(attacker_held) - len(mine)} jobs of other runs and {len(mine)} of its own; it reports "
             "some outcomes and then nothing more")
    a.close()
    public_update = value(su, "SELECT has_table_privilege('public', 'multisample.probe_jobs', 'UPDATE')")
    tap.ok(public_update is False, "attacker: its GRANT to PUBLIC granted nothing")

    # ---- honest workers finish everything ---------------------------------------
    for j in held:
        res = call(h1, "SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, 'honest-held', '{}', score => 4, "
                       "attempt => %s)", j)
        tap.ok(res == ("ok", [("completed",)]), "the honest holder completes its job after all the attacks on it", res)
    h1.close()
    su.cursor().execute("SELECT multisample.resume_run('v-paused')")
    fast_forward(su)
    calls, errors = work_off(su, [honest1, honest2], "1.2")
    tap.ok(calls > 0 and not errors, f"no honest claim or completion raised or was refused ({calls} calls)", *errors[:5])
    outcome_checks(su, "1.2")
    state = lambda j: value(su, f"SELECT state FROM multisample.probe_jobs WHERE {mk(j)}")
    fate = {"transcript recorded": state(j2), "FAILED result recorded": state(j3), "last attempt held": state(once)}
    tap.ok(fate == {"transcript recorded": "COMPLETED", "FAILED result recorded": "FAILED", "last attempt held": "FAILED"},
           "the attacker's abandoned jobs end with what it recorded: its transcript (COMPLETED), its FAILED result, "
           "and the last attempt failed for good (LEASE_EXPIRED)", fate)
    never = [r for r in rows(su, "SELECT run_id, scenario_id, model_id, sample_index, state FROM multisample.probe_jobs "
                                 "WHERE run_id IN ('v-main', 'v-once', 'v-low', 'v-paused')")
             if tuple(r[:4]) not in attacker_held and r[4] != "COMPLETED"]
    tap.ok(not never, "every job of the other runs that the attacker never held is COMPLETED", *never[:3])
    diff = snapshot_diff(before_rights, snapshot(su, attacker))
    tap.ok(not diff, "the attacker's rights did not grow (attributes, memberships, privileges, ownerships)", *diff)
    su.close()

    # ---- part two: attacks made under 1.1, then the upgrade ------------------------
    if db11 == "-":   # (not on Citus: test/citus.sh upgrades a distributed 1.1 database itself)
        tap.exit()
    su = connect(db11)
    db_of[su] = db11
    setup(su, "1.1")
    a = role_conn(db11, attacker)
    mine = rows(a, f"""
        UPDATE multisample.probe_jobs AS j SET state = 'RUNNING', attempts = j.attempts + 1, lease_holder = 'evil11',
               lease_role = current_user, lease_expires_at = now() + interval '1 minute', claimed_at = now()
         WHERE {KEY} IN (SELECT run_id, scenario_id, model_id, sample_index FROM multisample.probe_jobs
                          WHERE run_id = 'a-run' ORDER BY queue_order LIMIT 3)
        RETURNING run_id, scenario_id, model_id, sample_index""")
    # What 1.1 let any worker do to queued jobs of other runs, and to its own.
    for sql in [
        "UPDATE multisample.probe_jobs SET attempts = max_attempts WHERE run_id = 'v-main' AND scenario_id = 'aw-s1' AND state = 'QUEUED'",
        "UPDATE multisample.probe_jobs SET next_attempt_at = 'infinity' WHERE run_id = 'v-main' AND scenario_id = 'aw-s2' AND state = 'QUEUED'",
        "UPDATE multisample.probe_jobs SET finished_at = now() WHERE run_id = 'v-once' AND state = 'QUEUED'",
        "UPDATE multisample.probe_jobs SET last_error_message = repeat('x', 20000), last_error_code = repeat('c', 300) "
        "WHERE run_id = 'v-low' AND state = 'QUEUED'",
        "UPDATE multisample.probe_jobs SET lease_role = 'somebody', lease_holder = repeat('h', 300) "
        "WHERE run_id = 'v-main' AND scenario_id = 'aw-s3' AND state = 'QUEUED'",
    ]:
        res = call(a, sql)
        tap.ok(res[0] == "ok", "1.1: a worker changes queued jobs of other runs (allowed by 1.1's policy)", sql, res)
    res = call(a, "SELECT count(*) FROM multisample.claim_probe_jobs('victim', 1)")
    tap.ok(res[0] == "error" and res[1] == "23514",
           "1.1: after that, claims raise 23514 for every worker (issue 10, item 3; the same attacks fail in 1.2 above)", res)
    if len(mine) >= 3:
        rows(a, "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index) "
                "VALUES ('evil11-t', %s, %s, %s, %s) RETURNING 1", mine[0])
        rows(a, "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status) "
                "VALUES (%s, %s, %s, %s, 'FAILED') RETURNING 1", mine[1])
        for sql in [f"UPDATE multisample.probe_jobs SET lease_expires_at = 'infinity', lease_holder = '' WHERE {mk(mine[2])}",
                    f"UPDATE multisample.probe_jobs SET state = 'QUEUED' WHERE {mk(mine[0])}",
                    f"UPDATE multisample.probe_jobs SET state = 'QUEUED' WHERE {mk(mine[1])}"]:
            tap.ok(call(a, sql)[0] == "ok", "1.1: a worker mangles its own jobs (allowed by 1.1)", sql)
    a.close()
    res = call(su, "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE TO '1.2'")
    tap.ok(res[0] == "ok", "1.1 -> 1.2 upgrade of the attacked database", res)
    su.cursor().execute("UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second' WHERE state = 'RUNNING'")
    calls, errors = work_off(su, [honest1, honest2], "1.1 attacks")
    tap.ok(calls > 0 and not errors, f"after the upgrade, no honest claim or completion raised ({calls} calls)", *errors[:5])
    outcome_checks(su, "1.1 attacks upgraded", expect_cancelled=())
    su.close()
    tap.exit()


if __name__ == "__main__":
    main()
