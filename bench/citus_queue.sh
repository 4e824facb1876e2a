#!/usr/bin/env bash
# Queue throughput on Citus (SPEC 9 and 12.2; issue 12): claim + complete,
# the way a worker does it (claim_probe_jobs(worker, 1), then
# complete_probe_job with a transcript and a score, two transactions), by
# pgbench clients against a coordinator with two workers (test/lib/citus.sh:
# Citus 13.2.2 built from ../shared/vendor/ and cached, 8 shards), the jobs
# spread over 16 runs (so over the shards of both workers). The same
# workload on one node: a database of the coordinator's server without the
# citus extension (same binary, same settings). Reported, not held to a
# target (SPEC 10 has none for Citus):
#   jobs/s with 8 clients, one node vs Citus
#   jobs/s with 1 client, one node vs Citus
#   Citus: jobs/s with 8 clients vs with 1 (does it scale with clients?)
# and, in the log, what each call sends to the workers (Citus's remote
# commands of one claim and one completion, counted by kind), which is what
# limits it.
#
# After every drain each run is checked: every job COMPLETED after exactly
# one attempt, one SUCCESS result and one live transcript per job, every
# run COMPLETED (run_status). A failure exits 1.
#
#   bin/dev-cluster bench/citus_queue.sh     (or bench/run citus_queue)
# BENCH_ROUNDS timed rounds (at most 2 here; default 5), BENCH_SCALE scales
# the jobs per run (default 1: 16 runs x 20 scenarios x 2 models = 640 jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/common.sh
. test/lib/citus.sh
. bench/lib.bash

bench_citus
runs=16
scenarios=$(bench_scaled 20)
models=2
jobs=$((runs * scenarios * models))
clients=8
rounds=$(( BENCH_ROUNDS < 2 ? BENCH_ROUNDS : 2 ))

CITUS_NODE_SETTINGS="shared_buffers = 256MB
jit = off
max_wal_size = 4GB
checkpoint_timeout = 30min"
bench_log "starting a Citus coordinator and two workers"
citus_cluster_start
citus_create_db ms_bench_citus_queue
export PGHOST=127.0.0.1 PGPORT=$CITUS_COORD_PORT PGUSER=postgres
unset PGPASSWORD PGDATABASE
CITUS_DB=ms_bench_citus_queue
SINGLE_DB=ms_bench_single_queue
psql -X -q -d postgres -c "CREATE DATABASE $SINGLE_DB"
work=$(mktemp -d)
on_exit "rm -rf '$work'"

models_array="ARRAY[$(seq -f "'model-%g'" -s, 1 "$models")]"
for db in "$CITUS_DB" "$SINGLE_DB"; do
    BENCH_DB=$db bench_psql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION multisample;
INSERT INTO multisample.definitions (id, name) VALUES ('bench-def', 'throughput');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'bench-s' || pg_catalog.lpad(i::text, 4, '0'), 'bench-def', 'scenario ' || i,
       '{"prompt": "How would you answer?", "dimensions": {"risk": 1}}', '2026-01-01'::timestamptz + i * interval '1 second'
  FROM pg_catalog.generate_series(1, $scenarios) AS i;
SQL
done
BENCH_DB=$CITUS_DB bench_value "SET client_min_messages = warning; SELECT count(*) FROM multisample.distribute_on_citus()" > /dev/null
bench_log "setup: $runs runs x $scenarios scenarios x $models models = $jobs jobs per drain; Citus: 8 shards on 2 workers"

# queue DB TAG: starts the runs of one drain.
queue() {
    BENCH_DB=$1 bench_value "SELECT count(*) FROM pg_catalog.generate_series(1, $runs) AS r,
                             LATERAL multisample.start_run('bench-def', $models_array, 1, id => '$2-' || r)" > /dev/null
    BENCH_DB=$1 bench_value "VACUUM ANALYZE multisample.probe_jobs" > /dev/null
}

# verify DB TAG: every job of the drain done exactly once.
verify() {
    local got
    got=$(BENCH_DB=$1 bench_value "
        SELECT count(*) FILTER (WHERE j.state = 'COMPLETED' AND j.attempts = 1 AND r.status = 'SUCCESS' AND t.n = 1
                                      AND t.id = r.transcript_id)
          FROM multisample.probe_jobs AS j
          LEFT JOIN multisample.probe_results AS r USING (run_id, scenario_id, model_id, sample_index)
          LEFT JOIN (SELECT run_id, scenario_id, model_id, sample_index, count(*) AS n, min(id) AS id
                       FROM multisample.transcripts WHERE run_id LIKE '$2-%' GROUP BY 1, 2, 3, 4) AS t
            USING (run_id, scenario_id, model_id, sample_index)
         WHERE j.run_id LIKE '$2-%'")
    got="$got $(BENCH_DB=$1 bench_value "SELECT count(*) FROM multisample.run_status WHERE run_id LIKE '$2-%' AND status = 'COMPLETED'")"
    if [ "$got" != "$jobs $runs" ]; then
        bench_log "$1, $2: NOT every job done exactly once (jobs done once, runs COMPLETED: $got; want $jobs $runs)"
        exit 1
    fi
    bench_log "$1, $2: all $jobs jobs done exactly once, all $runs runs COMPLETED"
}

declare -A rate
for ((r = 1; r <= rounds; r++)); do
    for c in "$clients" 1; do
        for db in "$SINGLE_DB" "$CITUS_DB"; do
            tag="r$r-c$c"
            queue "$db" "$tag"
            bench_log "round $r, $c client(s), $db: draining $jobs jobs"
            got=$(BENCH_DB=$db bench_drain bench/claim_complete.pgbench "$jobs" "$c") || exit 1
            verify "$db" "$tag"
            bench_log "round $r, $c client(s), $db: $got jobs/s"
            rate[$db-$c]+="$got "
        done
    done
done

# What one claim and one completion send to the workers (a run queued, as
# in the drains; BEGIN/COMMIT and transaction bookkeeping counted apart).
queue "$CITUS_DB" remote
remote=$(psql -X -q -At -d "$CITUS_DB" -c "SET citus.log_remote_commands = on; SET client_min_messages = notice;
    SELECT run_id || ' ' || scenario_id || ' ' || model_id || ' ' || sample_index
      FROM multisample.claim_probe_jobs('bench-remote', 1)" 2>&1)
read -r rid sid mid idx <<< "$(grep -v '^NOTICE\|^DETAIL' <<< "$remote")"
remote_complete=$(psql -X -q -At -d "$CITUS_DB" -c "SET citus.log_remote_commands = on; SET client_min_messages = notice;
    SELECT outcome FROM multisample.complete_probe_job('$rid', '$sid', '$mid', $idx, 'bench-remote', '{}', 3)" 2>&1)
# kinds CALL OUTPUT: the remote commands by kind.
kinds() {
    grep '^NOTICE:  issuing' <<< "$2" | sed 's/^NOTICE:  issuing //' | awk -v call="$1" '
        /^BEGIN|^COMMIT|^PREPARE|^SELECT assign_distributed/ { t["transaction control"]++; next }
        /FOR UPDATE|UPDATE |INSERT / { t["shard writes and locks"]++; next }
        { t["shard reads"]++ }
        END { for (k in t) printf "%s: %d %s; ", call, t[k], k }'
}
bench_log "remote commands: $(kinds "one claim" "$remote")"
bench_log "remote commands: $(kinds "one completion" "$remote_complete")"
bench_log "shards a claim reads: $(grep -c 'issuing SELECT .*FROM multisample.probe_jobs_[0-9]* j WHERE' <<< "$remote") (expired leases and the head of the queue, each on all 8 shards), then the head run's shard"

median() { printf '%s\n' $1 | bench_median; }
s8=$(median "${rate[$SINGLE_DB-$clients]}")
c8=$(median "${rate[$CITUS_DB-$clients]}")
s1=$(median "${rate[$SINGLE_DB-1]}")
c1=$(median "${rate[$CITUS_DB-1]}")
awk -v s8="$s8" -v c8="$c8" -v s1="$s1" -v c1="$c1" -v n="$clients" -v runs="$runs" 'BEGIN {
    printf "claim+complete, %d clients, %d runs: jobs/s, one node vs Citus\t%.1f\t%.1f\t%.3f\t-\t-\n", n, runs, s8, c8, c8 / s8
    printf "claim+complete, 1 client: jobs/s, one node vs Citus\t%.1f\t%.1f\t%.3f\t-\t-\n", s1, c1, c1 / s1
    printf "claim+complete on Citus: jobs/s, 1 client vs %d clients\t%.1f\t%.1f\t%.3f\t-\t-\n", n, c1, c8, c8 / c1
}'
