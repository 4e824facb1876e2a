#!/usr/bin/env bash
# Adaptive sampling under concurrent workers. Worker processes
# (test/concurrency_worker.py, as two worker roles of the README's recipe)
# claim, complete and fail jobs (retryably and for good; max_attempts 2, so
# some samples fail for good) of two runs, while the driver, as run manager:
#   - tops up run ad-top (top_up_run) again and again, pausing and resuming
#     it in between, until every pair has its planned samples;
#   - adds samples to run ad-add once it has scores (add_samples), the same
#     request from two sessions at once, then a second request, and tops it
#     up too.
# Workers exit when the queue is empty; a top-up that comes after starts
# another round. Afterwards: no job lost or done twice, one outcome per job,
# every pair ends with its planned samples, sample indexes 0 .. jobs - 1,
# progress equals the truth computed from the tables.
#
# Runs against the cluster in PG* (bin/run-suites); creates and drops its own
# database and roles. MULTISAMPLE_LONG=1: more scenarios and workers.
set -uo pipefail
cd "$(dirname "$0")"
source lib/common.sh

db="ms_adaptive_$$"
role_a="ms_ad_worker_a_$$"
role_b="ms_ad_worker_b_$$"
tmp=$(mktemp -d)
export PGDATABASE="$db"
on_exit "rm -rf '$tmp'"
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $role_a' -c 'DROP ROLE IF EXISTS $role_b'"
on_exit "dropdb --if-exists --force '$db'"

if [ "$LONG" = 1 ]; then
    scenarios=20 workers=6
else
    scenarios=8 workers=4
fi
createdb "$db" || exit 1
q "$db" "CREATE EXTENSION multisample" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
INSERT INTO multisample.definitions (id, name) VALUES ('ad-def', 'adaptive');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'ad-s' || lpad(i::text, 2, '0'), 'ad-def', 'scenario ' || i, jsonb_build_object('prompt', 'p' || i),
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, $scenarios) AS i;
SELECT count(*) FROM multisample.start_run('ad-def', ARRAY['ad-t1', 'ad-t2', 'ad-t3'], 4, max_attempts => 2, id => 'ad-top');
SELECT count(*) FROM multisample.start_run('ad-def', ARRAY['ad-a1', 'ad-a2'], 3, max_attempts => 2, id => 'ad-add');
CREATE ROLE $role_a;
CREATE ROLE $role_b;
GRANT USAGE ON SCHEMA multisample TO $role_a, $role_b;
GRANT SELECT ON multisample.runs, multisample.scenarios, multisample.model_pricing TO $role_a, $role_b;
GRANT SELECT, UPDATE (state, attempts, lease_holder, lease_role, lease_expires_at, next_attempt_at,
                      last_error_code, last_error_message, claimed_at, finished_at)
    ON multisample.probe_jobs TO $role_a, $role_b;
GRANT SELECT, INSERT ON multisample.transcripts, multisample.probe_results TO $role_a, $role_b;
SQL

# One call of the run manager; its output (or error) goes to the driver log.
manage() {
    psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" >> "$tmp/driver.log" 2>> "$tmp/driver.err"
}
# Concurrent add_samples calls with one request id: each session's rows.
add_request() {   # add_request REQUEST_ID BUDGET
    local i sessions=()
    for i in 1 2; do
        psql -X -q -At -v ON_ERROR_STOP=1 -F ' ' \
             -c "SELECT scenario_id, model_id, extra, planned_samples, first_sample_index
                   FROM multisample.add_samples('ad-add', $2, request_id => '$1') ORDER BY 2, 1" \
             > "$tmp/$1.$i" 2>> "$tmp/driver.err" &
        sessions+=($!)
    done
    wait "${sessions[@]}"
}

any_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
maybe_add() {     # maybe_add WHEN: the adds, once ad-add has scores to plan with
    if [ -z "$added" ] && [ "$(q "$db" "SELECT count(*) FROM multisample.run_pair_plan WHERE run_id = 'ad-add' AND scored_samples >= 2")" -ge 4 ]; then
        add_request ad-req-1 30
        add_request ad-req-2 20
        added=$1
    fi
}

start=$(date +%s)
round=0 worker_failures=0 added=""
while [ "$round" -lt 12 ]; do
    round=$((round + 1))
    pids=()
    for i in $(seq 1 "$workers"); do
        role=$role_a; [ $((i % 2)) -eq 0 ] && role=$role_b
        behaviour=normal; [ "$i" -eq "$workers" ] && behaviour=slow
        "$PY" concurrency_worker.py "r$round-w$i" "$behaviour" "$tmp/r$round-w$i.log" "$role" \
            > "$tmp/r$round-w$i.out" 2>&1 &
        pids+=($!)
    done
    # While the workers work: top-ups, pause/resume, and the adds.
    while any_alive "${pids[@]}"; do
        manage "SELECT count(*) FROM multisample.top_up_run('ad-top')"
        manage "DO \$\$ BEGIN PERFORM multisample.pause_run('ad-top');
                EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL; END \$\$"
        manage "SELECT count(*) FROM multisample.top_up_run('ad-top')"
        manage "DO \$\$ BEGIN PERFORM multisample.resume_run('ad-top');
                EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL; END \$\$"
        maybe_add "while workers worked"
        manage "SELECT count(*) FROM multisample.top_up_run('ad-add')"
        sleep 0.05
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || worker_failures=$((worker_failures + 1))
    done
    maybe_add "between rounds"
    # Done when nothing is missing and nothing is left in the queue.
    missing=$(q "$db" "SELECT (SELECT count(*) FROM multisample.top_up_run('ad-top'))
                             + (SELECT count(*) FROM multisample.top_up_run('ad-add'))
                             + (SELECT count(*) FROM multisample.probe_jobs WHERE state IN ('QUEUED', 'RUNNING', 'PAUSED'))")
    [ -n "$added" ] && [ "$missing" = 0 ] && break
done
diag "$round rounds of $workers workers, $(( $(date +%s) - start )) s"
is "$worker_failures" 0 "every worker exits cleanly"
for f in "$tmp"/*.out; do grep -v ': done$' "$f" | sed 's/^/# /'; done
is "$(cat "$tmp/driver.err" 2>/dev/null | head -5)" "" "no run-manager call failed (no deadlock, no serialization failure, no error)"
diag "add_samples ran ${added:-never}"
is "${added:+yes}" yes "add_samples ran (two requests, each sent from two sessions at once)"

q "$db" "CREATE TABLE calls (worker text, outcome text, run_id text, scenario_id text, model_id text, sample_index integer, attempt integer)"
cat "$tmp"/r*-w*.log | psql -X -q -c "\\copy calls FROM STDIN"
q "$db" "SELECT '# ' || outcome || ': ' || count(*) FROM calls GROUP BY outcome ORDER BY 1" | sed 's/^# /# /'

is "$(q "$db" "SELECT count(*) FROM multisample.probe_jobs WHERE state NOT IN ('COMPLETED', 'FAILED')")" 0 \
   "no job is left QUEUED, RUNNING, PAUSED (or CANCELLED)"
is "$(q "$db" "SELECT count(*) FILTER (WHERE state = 'FAILED') > 0 AND count(*) FILTER (WHERE sample_index >= 4 AND run_id = 'ad-top') > 0
                 FROM multisample.probe_jobs")" t \
   "samples failed for good and were topped up with new jobs"
is "$(q "$db" "SELECT count(*) FROM multisample.probe_jobs AS j
                WHERE (SELECT count(*) FROM multisample.probe_results AS r
                        WHERE (r.run_id, r.scenario_id, r.model_id, r.sample_index)
                              = (j.run_id, j.scenario_id, j.model_id, j.sample_index)) <> 1")" 0 \
   "every job has exactly one outcome"
is "$(q "$db" "SELECT (SELECT count(*) FROM multisample.probe_results) = (SELECT count(*) FROM multisample.probe_jobs)")" t \
   "no outcome without a job"
is "$(q "$db" "SELECT count(*) FROM multisample.probe_jobs AS j JOIN multisample.probe_results AS r
                      USING (run_id, scenario_id, model_id, sample_index)
                WHERE (j.state = 'COMPLETED') <> (r.status = 'SUCCESS')")" 0 \
   "each outcome agrees with its job"
is "$(q "$db" "SELECT count(*) FROM multisample.probe_jobs AS j
                WHERE (SELECT count(*) FROM multisample.transcripts AS t
                        WHERE (t.run_id, t.scenario_id, t.model_id, t.sample_index)
                              = (j.run_id, j.scenario_id, j.model_id, j.sample_index) AND t.deleted_at IS NULL)
                      <> CASE j.state WHEN 'COMPLETED' THEN 1 ELSE 0 END")" 0 \
   "a completed sample has exactly one live transcript, a failed one none"
is "$(q "$db" "SELECT count(*) FROM multisample.probe_jobs AS j
                WHERE (SELECT count(*) FROM calls AS c
                        WHERE c.outcome = 'completed' AND (c.run_id, c.scenario_id, c.model_id, c.sample_index)
                              = (j.run_id, j.scenario_id, j.model_id, j.sample_index))
                      <> CASE j.state WHEN 'COMPLETED' THEN 1 ELSE 0 END")" 0 \
   "no job done twice: one 'completed' answer per completed job, none for the others"
is "$(q "$db" "SELECT count(*) FROM (SELECT run_id, scenario_id, model_id, count(*) AS n,
                                            min(sample_index) AS lo, max(sample_index) AS hi
                                       FROM multisample.probe_jobs GROUP BY 1, 2, 3) AS p
                WHERE p.lo <> 0 OR p.hi <> p.n - 1")" 0 \
   "every pair's sample indexes are 0 .. jobs - 1 (new jobs took the next indexes)"

# The plan, computed here from the tables: a pair's row in run_pair_plans,
# else the run's samplesPerScenario.
q "$db" "CREATE VIEW truth AS
         SELECT s.run_id, s.scenario_id, m.model_id,
                coalesce(pp.planned_samples, (r.config ->> 'samplesPerScenario')::integer) AS planned,
                (SELECT count(*) FROM multisample.probe_jobs AS j
                  WHERE (j.run_id, j.scenario_id, j.model_id) = (s.run_id, s.scenario_id, m.model_id)) AS jobs,
                (SELECT count(*) FROM multisample.probe_jobs AS j
                  WHERE (j.run_id, j.scenario_id, j.model_id) = (s.run_id, s.scenario_id, m.model_id)
                    AND j.state = 'COMPLETED') AS completed
           FROM multisample.run_scenario_selections AS s
           JOIN multisample.runs AS r ON r.id = s.run_id
           CROSS JOIN LATERAL jsonb_array_elements_text(r.config -> 'models') AS m(model_id)
           LEFT JOIN multisample.run_pair_plans AS pp
             ON (pp.run_id, pp.scenario_id, pp.model_id) = (s.run_id, s.scenario_id, m.model_id)" >/dev/null
is "$(q "$db" "SELECT count(*) FROM truth WHERE completed <> planned")" 0 \
   "every pair of both runs ends with exactly its planned samples"
is "$(q "$db" "SELECT count(*) FROM truth WHERE run_id = 'ad-top' AND planned <> 4")" 0 \
   "top_up_run leaves the plan of ad-top as it was (4 per pair)"

# add_samples: one request from two sessions at once was applied once.
is "$(cmp -s "$tmp/ad-req-1.1" "$tmp/ad-req-1.2" && cmp -s "$tmp/ad-req-2.1" "$tmp/ad-req-2.2" && echo same)" same \
   "two sessions sending the same request got the same allocation"
is "$(awk '{ s += $3 } END { print s }' "$tmp/ad-req-1.1")/$(awk '{ s += $3 } END { print s }' "$tmp/ad-req-2.1")" "30/20" \
   "each request placed exactly its budget (30, then 20)"
is "$(q "$db" "SELECT string_agg(request_id || ' ' || queued, ', ' ORDER BY request_id) FROM multisample.run_sample_requests")" \
   "ad-req-1 30, ad-req-2 20" "each request is recorded once"
is "$(q "$db" "SELECT sum(planned) - $scenarios * 2 * 3 BETWEEN 1 AND 50 FROM truth WHERE run_id = 'ad-add'")" t \
   "ad-add's plan grew by at most the 50 samples added (less where a pair's failed samples were absorbed)"

is "$(q "$db" "SELECT coalesce(string_agg(p.run_id, ', '), 'all agree')
                 FROM multisample.run_progress AS p
                 JOIN (SELECT run_id, sum(greatest(planned, jobs)) AS total, sum(completed) AS completed
                         FROM truth GROUP BY run_id) AS t USING (run_id)
                WHERE p.total <> t.total OR p.completed <> t.completed OR p.percent <> 100 OR p.status <> 'COMPLETED'
                   OR p.failed <> (SELECT count(*) FROM multisample.probe_jobs AS j WHERE j.run_id = p.run_id AND j.state = 'FAILED')")" \
   "all agree" "run_progress equals the truth: total = sum over pairs of max(planned, jobs), 100 %, COMPLETED"
is "$(q "$db" "SELECT coalesce(string_agg(m.run_id || '/' || m.model_id, ', '), 'all agree')
                 FROM multisample.run_model_progress AS m
                 JOIN (SELECT run_id, model_id, sum(greatest(planned, jobs)) AS total, sum(completed) AS completed
                         FROM truth GROUP BY run_id, model_id) AS t USING (run_id, model_id)
                WHERE m.total <> t.total OR m.completed <> t.completed OR m.percent <> 100")" \
   "all agree" "run_model_progress equals the truth for every model"
is "$(q "$db" "SELECT count(*) FROM multisample.top_up_run('ad-top')") $(q "$db" "SELECT count(*) FROM multisample.top_up_run('ad-add')")" \
   "0 0" "a final top-up finds nothing missing"
finish
