#!/usr/bin/env bash
# Concurrency of the job queue. Several worker processes (test/
# concurrency_worker.py, plain psycopg2 connections, as two worker roles set
# up with the README's least-privilege recipe, so row-level security is in
# play) claim, complete and fail jobs (retryably and not) until the queue is
# empty: some of them slow, with leases that run out mid-probe, and one
# killed (backend terminated, process killed) while it holds jobs. A big run
# and many tiny ones are worked off together, so the end of many runs races
# between workers; meanwhile the big run is paused and resumed and three
# runs are cancelled while their jobs are in flight. Afterwards: every sample
# has exactly one outcome (none if cancelled before it ran), at most one live
# transcript, no job was lost or done twice, progress equals the truth, every
# run is COMPLETED (or CANCELLED).
#
# Runs against the cluster in PG* (bin/run-suites); creates and drops its own
# database. MULTISAMPLE_LONG=1: more jobs and more workers.
set -uo pipefail
cd "$(dirname "$0")"

db="ms_concurrency_$$"
role_a="ms_cc_worker_a_$$"
role_b="ms_cc_worker_b_$$"
tmp=$(mktemp -d)
hog_pid=""
export PGDATABASE="$db"
cleanup() {
    [ -n "$hog_pid" ] && kill -9 "$hog_pid" 2>/dev/null
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role_a" -c "DROP ROLE IF EXISTS $role_b" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
check() {   # check DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then
        echo "ok - $1"
    else
        echo "not ok - $1 (got '$2', want '$3')"
        failures=$((failures + 1))
    fi
}
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

if [ "${MULTISAMPLE_LONG:-0}" = 1 ]; then
    scenarios=40 models=4 samples=10 tiny_runs=100 normal_workers=10 slow_workers=3 cancel_samples=100
else
    scenarios=12 models=3 samples=5 tiny_runs=30 normal_workers=5 slow_workers=2 cancel_samples=50
fi
main_jobs=$((scenarios * models * samples))
cancel_jobs=$((3 * 2 * 2 * cancel_samples))
total_jobs=$((main_jobs + tiny_runs * 4 + cancel_jobs))

createdb "$db" || exit 1
q >/dev/null <<SQL || exit 1
CREATE EXTENSION multisample;
INSERT INTO multisample.definitions (id, name) VALUES ('cc-def', 'main'), ('cc-tiny', 'tiny');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'cc-s' || i, 'cc-def', 'scenario ' || i, jsonb_build_object('prompt', 'p' || i),
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, $scenarios) AS i;
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES ('cc-t1', 'cc-tiny', 't1'), ('cc-t2', 'cc-tiny', 't2');
SELECT count(*) FROM multisample.start_run('cc-def', ARRAY(SELECT 'cc-m' || i FROM generate_series(1, $models) AS i),
                                           $samples, max_attempts => 4, id => 'cc-main');
SELECT count(*) FROM generate_series(1, $tiny_runs) AS i,
       LATERAL multisample.start_run('cc-tiny', ARRAY['cc-tm'], 2, priority => 'HIGH', id => 'cc-tiny-' || i);
-- Two worker roles, exactly as the README's least-privilege recipe.
CREATE ROLE $role_a;
CREATE ROLE $role_b;
GRANT USAGE ON SCHEMA multisample TO $role_a, $role_b;
GRANT SELECT ON multisample.runs, multisample.scenarios, multisample.model_pricing TO $role_a, $role_b;
GRANT SELECT, UPDATE (state, attempts, lease_holder, lease_role, lease_expires_at, next_attempt_at,
                      last_error_code, last_error_message, claimed_at, finished_at)
    ON multisample.probe_jobs TO $role_a, $role_b;
GRANT SELECT, INSERT ON multisample.transcripts, multisample.probe_results TO $role_a, $role_b;
SQL
check "the runs hold $((total_jobs - cancel_jobs)) queued jobs" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs WHERE state = 'QUEUED'")" "$((total_jobs - cancel_jobs))"

# The hog claims jobs with a 20 s lease and hangs; it is killed below.
coproc HOG { /usr/bin/python3 concurrency_worker.py hog hog "$tmp/hog.log" "$role_a" 2>&1; }
hog_pid=$HOG_PID
read -r -t 20 hog_backend hog_claimed <&"${HOG[0]}"
check "the hog worker holds 5 jobs" "${hog_claimed:-none}" "5"

# Three LOW runs that will be cancelled while their jobs are in flight; the
# main run is paused meanwhile, so they are handed out right after the tiny
# runs.
q >/dev/null -c "SELECT count(*) FROM generate_series(1, 3) AS i,
       LATERAL multisample.start_run('cc-tiny', ARRAY['cc-x1', 'cc-x2'], $cancel_samples, priority => 'LOW', id => 'cc-cancel-' || i)"
paused_at=$(q -c "SELECT multisample.pause_run('cc-main'); SELECT clock_timestamp()" | tail -1)

start=$(date +%s)
pids=()
for i in $(seq 1 "$normal_workers"); do
    role=$role_a; [ $((i % 2)) -eq 0 ] && role=$role_b
    /usr/bin/python3 concurrency_worker.py "normal-$i" normal "$tmp/normal-$i.log" "$role" > "$tmp/normal-$i.out" 2>&1 &
    pids+=($!)
done
for i in $(seq 1 "$slow_workers"); do
    /usr/bin/python3 concurrency_worker.py "slow-$i" slow "$tmp/slow-$i.log" "$role_b" > "$tmp/slow-$i.out" 2>&1 &
    pids+=($!)
done

# Cancel the three runs once their jobs are in flight. (The main run stays paused
# until the checks below: none of its jobs may be handed out meanwhile.)
for _ in $(seq 1 400); do
    [ "$(q -c "SELECT count(*) >= 3 FROM multisample.probe_jobs WHERE run_id LIKE 'cc-cancel-%' AND state <> 'QUEUED'")" = t ] && break
    sleep 0.05
done
q >/dev/null <<'SQL'
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT id FROM multisample.runs WHERE id LIKE 'cc-cancel-%' ORDER BY id DESC LOOP
        BEGIN
            PERFORM multisample.cancel_run(r.id);
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            NULL;   -- finished before it could be cancelled
        END;
    END LOOP;
END
$$;
SQL

q -c "SELECT '# at cancel: ' || string_agg(j.state || ' ' || j.n, ', ' ORDER BY j.state)
        FROM (SELECT state, count(*) AS n FROM multisample.probe_jobs WHERE run_id LIKE 'cc-cancel-%' GROUP BY state) AS j"
# Kill the hog while it holds its jobs: its backend first, then the process.
check "the hog's jobs are RUNNING under its lease when it is killed" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs WHERE lease_holder = 'hog' AND state = 'RUNNING'")" "5"
check "the hog's backend is terminated" \
    "$(q -c "SELECT pg_terminate_backend(${hog_backend:-0})")" "t"
kill -9 "$hog_pid" 2>/dev/null
wait "$hog_pid" 2>/dev/null
hog_pid=""

check "no job of the paused run is handed out while it is paused" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'cc-main' AND claimed_at > '$paused_at'")" "0"
check "the paused run's queued jobs are PAUSED" \
    "$(q -c "SELECT count(*) > 0 AND count(*) FILTER (WHERE state = 'QUEUED') = 0
               FROM multisample.probe_jobs WHERE run_id = 'cc-main' AND state IN ('QUEUED', 'PAUSED')")" "t"
q >/dev/null -c "SELECT multisample.resume_run('cc-main')"
# Then pause and resume it a few times while workers claim, retry and
# complete its jobs (retries land in the paused run and must be parked).
for _ in 1 2 3 4 5; do
    sleep 0.1
    for action in pause_run resume_run; do
        q >/dev/null <<SQL
DO \$\$
BEGIN
    PERFORM multisample.$action('cc-main');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    NULL;   -- the run is COMPLETED already
END
\$\$;
SQL
        [ "$action" = pause_run ] && sleep 0.1
    done
done

worker_failures=0
for pid in "${pids[@]}"; do
    wait "$pid" || worker_failures=$((worker_failures + 1))
done
check "every worker exits cleanly ($(( $(date +%s) - start )) s)" "$worker_failures" "0"
for f in "$tmp"/*.out; do grep -v ': done$' "$f" | sed 's/^/# /'; done

# Every outcome every worker was told, one row per call.
q -c "CREATE TABLE calls (worker text, outcome text, run_id text, scenario_id text, model_id text, sample_index integer, attempt integer)"
cat "$tmp"/*.log | q -c "\\copy calls FROM STDIN"
q -c "SELECT '# ' || split_part(worker, '-', 1) || ' ' || outcome || ': ' || count(*)
        FROM calls GROUP BY split_part(worker, '-', 1), outcome ORDER BY 1"

check "no job is left QUEUED, RUNNING or PAUSED" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs WHERE state NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')")" "0"
check "runs were cancelled with jobs in flight: jobs done before it kept, the rest CANCELLED" \
    "$(q -c "SELECT count(DISTINCT r.id) FILTER (WHERE j.state = 'CANCELLED') > 0
                    AND count(*) FILTER (WHERE j.state <> 'CANCELLED') > 0
               FROM multisample.runs AS r JOIN multisample.probe_jobs AS j ON j.run_id = r.id
              WHERE r.status = 'CANCELLED'")" "t"
check "only cancelled runs have CANCELLED jobs" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs AS j JOIN multisample.runs AS r ON r.id = j.run_id
              WHERE j.state = 'CANCELLED' AND r.status <> 'CANCELLED'")" "0"
check "no job is lost: jobs = scenarios x models x samples, summed over the runs" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs")" "$total_jobs"
check "every sample has exactly one outcome (probe result), none if cancelled before it ran" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs AS j
              WHERE (SELECT count(*) FROM multisample.probe_results AS r
                      WHERE r.run_id = j.run_id AND r.scenario_id = j.scenario_id
                        AND r.model_id = j.model_id AND r.sample_index = j.sample_index)
                    <> CASE j.state WHEN 'CANCELLED' THEN 0 ELSE 1 END")" "0"
check "no outcome without a job" \
    "$(q -c "SELECT (SELECT count(*) FROM multisample.probe_results)
                  = (SELECT count(*) FROM multisample.probe_jobs WHERE state <> 'CANCELLED')")" "t"
check "each outcome agrees with its job (COMPLETED = SUCCESS, FAILED = FAILED)" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs AS j JOIN multisample.probe_results AS r
                    USING (run_id, scenario_id, model_id, sample_index)
              WHERE (j.state = 'COMPLETED') <> (r.status = 'SUCCESS')")" "0"
check "at most one live transcript per sample" \
    "$(q -c "SELECT count(*) FROM (SELECT 1 FROM multisample.transcripts WHERE deleted_at IS NULL
              GROUP BY run_id, scenario_id, model_id, sample_index HAVING count(*) > 1) AS d")" "0"
check "a completed sample has its transcript, a failed one none" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs AS j
              WHERE (SELECT count(*) FROM multisample.transcripts AS t
                      WHERE t.run_id = j.run_id AND t.scenario_id = j.scenario_id AND t.model_id = j.model_id
                        AND t.sample_index = j.sample_index AND t.deleted_at IS NULL)
                    <> CASE j.state WHEN 'COMPLETED' THEN 1 ELSE 0 END")" "0"
check "no job done twice: one 'completed' answer per completed job, none for the others" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs AS j
              WHERE (SELECT count(*) FROM calls AS c
                      WHERE c.outcome = 'completed' AND c.run_id = j.run_id AND c.scenario_id = j.scenario_id
                        AND c.model_id = j.model_id AND c.sample_index = j.sample_index)
                    <> CASE j.state WHEN 'COMPLETED' THEN 1 ELSE 0 END")" "0"
check "every failed job was failed once: by its worker, or by lease expiry on the last attempt" \
    "$(q -c "SELECT count(*) FROM multisample.probe_jobs AS j
              WHERE j.state = 'FAILED'
                AND (SELECT count(*) FROM calls AS c
                      WHERE c.outcome = 'failed' AND c.run_id = j.run_id AND c.scenario_id = j.scenario_id
                        AND c.model_id = j.model_id AND c.sample_index = j.sample_index)
                    + CASE j.last_error_code WHEN 'LEASE_EXPIRED' THEN 1 ELSE 0 END <> 1")" "0"
check "re-sent completions changed nothing and said so" \
    "$(q -c "SELECT count(*) FILTER (WHERE outcome <> 'resent:already_completed') || ' of ' || (count(*) > 0)
               FROM calls WHERE outcome LIKE 'resent:%'")" "0 of true"
check "retries happened and stayed within max_attempts" \
    "$(q -c "SELECT (count(*) FILTER (WHERE attempts > 1) > 0) AND (count(*) FILTER (WHERE attempts > max_attempts) = 0)
               FROM multisample.probe_jobs")" "t"
check "some failures were final (not retryable or attempts used up)" \
    "$(q -c "SELECT count(*) > 0 FROM multisample.probe_jobs WHERE state = 'FAILED'")" "t"
check "slow workers lost leases that ran out and were told so (lease_lost or already_completed)" \
    "$(q -c "SELECT count(*) > 0 FROM calls
              WHERE worker LIKE 'slow-%' AND outcome IN ('lease_lost', 'already_completed')")" "t"
check "every job the killed worker held was finished by another worker" \
    "$(q -c "SELECT count(*) FROM calls AS c JOIN multisample.probe_jobs AS j USING (run_id, scenario_id, model_id, sample_index)
              WHERE c.worker = 'hog' AND c.outcome = 'claimed'
                AND j.state IN ('COMPLETED', 'FAILED') AND j.lease_holder <> 'hog' AND j.attempts > 1")" "5"
check "every run is COMPLETED, but the cancelled ones CANCELLED" \
    "$(q -c "SELECT count(*) FILTER (WHERE status = 'COMPLETED' OR (status = 'CANCELLED' AND run_id LIKE 'cc-cancel-%'))
                    || ' ' || (count(*) FILTER (WHERE run_id NOT LIKE 'cc-cancel-%' AND status = 'COMPLETED'))
               FROM multisample.run_status")" "$((tiny_runs + 4)) $((tiny_runs + 1))"
check "jobs were finished under both worker roles" \
    "$(q -c "SELECT count(DISTINCT lease_role) FROM multisample.probe_jobs WHERE state = 'COMPLETED'")" "2"
check "run_progress equals the truth for every run" \
    "$(q -c "SELECT coalesce(string_agg(p.run_id || ' ' || p.status || ' ' || p.percent, ', '), 'all agree')
               FROM multisample.run_progress AS p
              WHERE p.completed <> (SELECT count(*) FROM multisample.transcripts AS t WHERE t.run_id = p.run_id AND t.deleted_at IS NULL)
                 OR p.failed <> (SELECT count(*) FROM multisample.probe_results AS r WHERE r.run_id = p.run_id AND r.status = 'FAILED')
                 OR p.cancelled <> (SELECT count(*) FROM multisample.probe_jobs AS j WHERE j.run_id = p.run_id AND j.state = 'CANCELLED')
                 OR p.total <> (SELECT count(*) FROM multisample.probe_jobs AS j WHERE j.run_id = p.run_id)
                 OR p.running + p.queued + p.paused <> 0
                 OR (p.status = 'COMPLETED' AND p.percent <> 100)
                 OR p.status NOT IN ('COMPLETED', 'CANCELLED')")" "all agree"
check "run_progress of the main run: total = $scenarios x $models x $samples" \
    "$(q -c "SELECT total || ' ' || percent FROM multisample.run_progress WHERE run_id = 'cc-main'")" "$main_jobs 100.0"
check "run_model_progress adds up to the run's progress" \
    "$(q -c "SELECT sum(completed) = (SELECT completed FROM multisample.run_progress WHERE run_id = 'cc-main')
                    AND sum(total) = $main_jobs AND count(*) = $models
               FROM multisample.run_model_progress WHERE run_id = 'cc-main'")" "t"

[ "$failures" -eq 0 ]
