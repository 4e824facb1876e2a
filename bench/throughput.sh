#!/usr/bin/env bash
# Queue throughput (SPEC 4.4, 10): 8 concurrent pgbench clients, each
# transaction one job's life: claim_probe_jobs(worker, 1), then
# complete_probe_job(...) with a transcript and a score, as two transactions
# the way a worker does it. Reported as jobs/s.
#
# Baseline (SPEC 10: "a bare SKIP LOCKED queue on the same tables"): plain
# SQL on multisample.probe_jobs, transcripts and probe_results themselves,
# with their constraints, foreign keys and triggers: one UPDATE ... FOR
# UPDATE SKIP LOCKED to claim, then one transaction that writes transcript
# and result and closes the job. What the ratio ours / baseline measures is
# the cost of the API itself (argument checks, the run-by-run walk, lease
# and attempt bookkeeping, idempotent reports). Target: at least 0.5.
# For information, the same bare queue on copies of the tables without
# foreign keys or triggers (CREATE TABLE ... (LIKE ... INCLUDING ALL)): the
# floor of any queue on PostgreSQL, which also shows what the schema's
# integrity rules cost.
#
# Each round drains a fresh run of scenarios x models x samples jobs (every
# side, interleaved). Every claim gets a job because the transactions
# (clients x per-client count) equal the jobs, so a claim that comes back
# empty means a job was lost and pgbench reports it.
#
# After every round of ours, the run is checked: every job COMPLETED after
# exactly one attempt, exactly one SUCCESS probe result per job, one live
# transcript per sample (the one the result names), nothing else, run status
# COMPLETED. A last, untimed round has every worker complete each job twice
# (a retried worker): every second call must be a no-op reporting
# already_completed, and the same checks must hold.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.bash

bench_create_db bench_throughput
for f in start_run claim_probe_jobs complete_probe_job; do
    bench_has_function "$f" || { bench_log "skipped: multisample.$f does not exist yet"; exit 0; }
done

clients=8
scenarios=100
models=10
samples=$(bench_scaled 20)
jobs=$((scenarios * models * samples))
rounds=$(( BENCH_ROUNDS < 3 ? BENCH_ROUNDS : 3 ))
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$BENCH_DB" >/dev/null 2>&1 || true' EXIT

bench_log "setup: $scenarios scenarios x $models models x $samples samples = $jobs jobs per run, $clients clients"
bench_psql <<SQL
INSERT INTO multisample.definitions (id, name) VALUES ('bench-def', 'throughput');
INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at)
SELECT 'bench-s' || pg_catalog.lpad(i::text, 4, '0'), 'bench-def', 'scenario ' || i,
       '{"prompt": "How would you answer?", "dimensions": {"risk": 1}}', '2026-01-01'::timestamptz + i * interval '1 second'
  FROM pg_catalog.generate_series(1, $scenarios) AS i;
CREATE TABLE bq_probe_jobs (LIKE multisample.probe_jobs INCLUDING ALL);
CREATE TABLE bq_transcripts (LIKE multisample.transcripts INCLUDING ALL);
CREATE TABLE bq_probe_results (LIKE multisample.probe_results INCLUDING ALL);
SQL

models_array="ARRAY[$(seq -f "'model-%g'" -s, 1 "$models")]"

cp claim_complete.pgbench "$work/ours.sql"

# A worker that retries: completes its job, then completes it again.
{
    cat "$work/ours.sql"
    cat <<'SQL'
SELECT 1 / (outcome = 'already_completed')::int AS no_op
  FROM multisample.complete_probe_job(:rid, :sid, :mid, :idx, 'bench-' || (:client_id)::text,
       '{"turns": []}', (:score)::float8);
SQL
} > "$work/twice.sql"

# The bare queue: $1 is the table prefix (multisample. for the same tables,
# bq_ for the copies).
bare_queue() {
    cat <<SQL
\\set score random(1, 5)
UPDATE ${1}probe_jobs AS j
   SET state = 'RUNNING', attempts = j.attempts + 1, lease_holder = 'bench-' || (:client_id)::text,
       lease_role = current_user, lease_expires_at = now() + interval '5 minutes', claimed_at = now()
 WHERE j.ctid = (SELECT q.ctid FROM ${1}probe_jobs AS q
                  WHERE q.state = 'QUEUED' AND q.next_attempt_at <= now()
                  ORDER BY q.priority DESC, q.created_at, q.run_id, q.queue_order
                  LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING j.run_id AS rid, j.scenario_id AS sid, j.model_id AS mid, j.sample_index AS idx \\gset
BEGIN;
WITH t AS (
    INSERT INTO ${1}transcripts (id, run_id, scenario_id, model_id, sample_index, content, score, decision_code)
    VALUES (gen_random_uuid()::text, :rid, :sid, :mid, (:idx)::int,
            '{"turns": [{"role": "user", "text": "How would you answer?"}, {"role": "assistant", "text": "Carefully."}]}',
            (:score)::float8, 'D' || (:score)::text)
    RETURNING id
)
INSERT INTO ${1}probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id)
SELECT :rid, :sid, :mid, (:idx)::int, 'SUCCESS', t.id FROM t;
UPDATE ${1}probe_jobs AS j SET state = 'COMPLETED', finished_at = now()
 WHERE j.run_id = :rid AND j.scenario_id = :sid AND j.model_id = :mid AND j.sample_index = (:idx)::int
   AND j.state = 'RUNNING' AND j.lease_holder = 'bench-' || (:client_id)::text;
COMMIT;
SQL
}
bare_queue multisample. > "$work/same.sql"
bare_queue bq_ > "$work/copies.sql"

# new_run ours|same|copies ROUND [SAMPLES]: queues a fresh run of scenarios
# x models x SAMPLES (default $samples) jobs; prints its id.
new_run() {
    local id="bench-$1-$2" samples=${3:-$samples}
    if [ "$1" = copies ]; then
        bench_psql -c "INSERT INTO bq_probe_jobs (run_id, scenario_id, model_id, sample_index, queue_order)
                       SELECT '$id', e.scenario_id, e.model_id, e.sample_index, e.ord
                         FROM multisample.expand_run_jobs(
                                (SELECT pg_catalog.array_agg(s.id ORDER BY s.created_at, s.id) FROM multisample.scenarios AS s
                                  WHERE s.definition_id = 'bench-def'),
                                $models_array, $samples) WITH ORDINALITY AS e(scenario_id, model_id, sample_index, ord)"
    else
        bench_value "SELECT job_count FROM multisample.start_run('bench-def', $models_array, $samples, id => '$id')" >/dev/null
    fi
    bench_psql -c "VACUUM ANALYZE multisample.probe_jobs, multisample.transcripts, multisample.probe_results, bq_probe_jobs"
    echo "$id"
}

# drain SCRIPT [JOBS]: runs the clients until every job (JOBS, default
# $jobs) is done; prints jobs/s.
drain() {
    bench_drain "$1" "${2:-$jobs}" "$clients"
}

# check RUN [JOBS]: every job of RUN (JOBS, default $jobs) done exactly
# once. Prints what is wrong.
check() {
    local jobs=${2:-$jobs}
    bench_value "
        WITH j AS (SELECT * FROM multisample.probe_jobs WHERE run_id = '$1'),
             r AS (SELECT * FROM multisample.probe_results WHERE run_id = '$1'),
             t AS (SELECT * FROM multisample.transcripts WHERE run_id = '$1')
        SELECT concat_ws('; ',
            CASE WHEN (SELECT count(*) FROM j) <> $jobs THEN 'jobs: ' || (SELECT count(*) FROM j) END,
            CASE WHEN (SELECT count(*) FROM j WHERE state <> 'COMPLETED' OR attempts <> 1) > 0
                 THEN 'jobs not COMPLETED after exactly one attempt: ' || (SELECT count(*) FROM j WHERE state <> 'COMPLETED' OR attempts <> 1) END,
            CASE WHEN (SELECT count(*) FROM r) <> $jobs THEN 'probe results: ' || (SELECT count(*) FROM r) END,
            CASE WHEN (SELECT count(*) FROM r WHERE status <> 'SUCCESS') > 0 THEN 'results not SUCCESS: ' || (SELECT count(*) FROM r WHERE status <> 'SUCCESS') END,
            CASE WHEN (SELECT count(*) FROM j LEFT JOIN r USING (run_id, scenario_id, model_id, sample_index) WHERE r.run_id IS NULL) > 0
                 THEN 'jobs without a result: ' || (SELECT count(*) FROM j LEFT JOIN r USING (run_id, scenario_id, model_id, sample_index) WHERE r.run_id IS NULL) END,
            CASE WHEN (SELECT count(*) FROM t) <> $jobs THEN 'transcripts: ' || (SELECT count(*) FROM t) END,
            CASE WHEN (SELECT count(*) FROM t WHERE deleted_at IS NULL) <> $jobs THEN 'live transcripts: ' || (SELECT count(*) FROM t WHERE deleted_at IS NULL) END,
            CASE WHEN (SELECT count(DISTINCT (scenario_id, model_id, sample_index)) FROM t WHERE deleted_at IS NULL) <> $jobs
                 THEN 'samples with a live transcript: ' || (SELECT count(DISTINCT (scenario_id, model_id, sample_index)) FROM t WHERE deleted_at IS NULL) END,
            CASE WHEN (SELECT count(*) FROM r JOIN t ON t.id = r.transcript_id AND t.run_id = r.run_id
                        AND (t.scenario_id, t.model_id, t.sample_index) = (r.scenario_id, r.model_id, r.sample_index)
                        AND t.deleted_at IS NULL AND t.score IS NOT NULL) <> $jobs
                 THEN 'results naming their own live scored transcript: ' || (SELECT count(*) FROM r JOIN t ON t.id = r.transcript_id AND t.run_id = r.run_id
                        AND (t.scenario_id, t.model_id, t.sample_index) = (r.scenario_id, r.model_id, r.sample_index)
                        AND t.deleted_at IS NULL AND t.score IS NOT NULL) END,
            CASE WHEN (SELECT status FROM multisample.run_status WHERE run_id = '$1') <> 'COMPLETED'
                 THEN 'run status ' || (SELECT status FROM multisample.run_status WHERE run_id = '$1') END)"
}

# verify RUN LABEL [JOBS]: fails the script unless check finds nothing wrong.
verify() {
    local problems jobs=${3:-$jobs}
    problems=$(check "$1" "$jobs")
    if [ -n "$problems" ]; then
        bench_log "$2: NOT every job done exactly once: $problems"
        exit 1
    fi
    bench_log "$2: all $jobs jobs done exactly once (one SUCCESS result, one live transcript per sample, run COMPLETED)"
}

same_rates=()
copy_rates=()
ours_rates=()
for ((r = 1; r <= rounds; r++)); do
    for side in $( ((r % 2)) && echo "same copies ours" || echo "ours copies same"); do
        run=$(new_run "$side" "$r")
        bench_log "round $r, $side: draining $run"
        rate=$(drain "$work/$side.sql")
        bench_log "round $r, $side: $rate jobs/s"
        case "$side" in
            ours) ours_rates+=("$rate"); verify "$run" "round $r" ;;
            same) same_rates+=("$rate"); verify "$run" "round $r (bare queue)" ;;
            copies) copy_rates+=("$rate") ;;
        esac
    done
done

run=$(new_run ours twice 2)
bench_log "untimed round: every job completed twice"
drain "$work/twice.sql" $((scenarios * models * 2)) >/dev/null
verify "$run" "every job completed twice" $((scenarios * models * 2))

same=$(printf '%s\n' "${same_rates[@]}" | bench_median)
copies=$(printf '%s\n' "${copy_rates[@]}" | bench_median)
ours=$(printf '%s\n' "${ours_rates[@]}" | bench_median)
awk -v b="$same" -v o="$ours" -v c="$clients" 'BEGIN {
    printf "claim+complete, %d workers, jobs/s (baseline: bare SKIP LOCKED queue on the same tables)\t%.1f\t%.1f\t%.3f\t>=0.5\t%s\n", c, b, o, o / b, (o / b >= 0.5 ? "yes" : "no")
}'
awk -v b="$copies" -v o="$ours" -v c="$clients" 'BEGIN {
    printf "claim+complete, %d workers, jobs/s (information: bare queue on copies without foreign keys or triggers)\t%.1f\t%.1f\t%.3f\treport\tyes\n", c, b, o, o / b
}'
