#!/usr/bin/env bash
# Citus (SPEC 9 and 12.2): the extension on a real coordinator and two
# workers, compared with a single node on the same data.
#
# Citus 13.2.2 is built from ../shared/vendor/ once and cached (see
# test/lib/citus.sh); without the vendored source and without an installed
# Citus the suite says so and is skipped (one "ok ... # SKIP" line). The
# nodes run as user postgres on 127.0.0.1 only and are stopped at exit.
#
# What it checks:
#   - the cluster: coordinator and two workers registered, CREATE EXTENSION
#     multisample on the coordinator reaching both workers;
#   - distribute_on_citus(): refused without Citus, on a worker node, for a
#     role that does not own the tables, and over a table another layout
#     already took; on a database with two runs of data it makes the four
#     shared tables reference tables and distributes the five run-scoped ones
#     by run id, co-located, every row kept, the originals truncated; a
#     second call changes nothing; tables added to the extension follow the
#     same rule; a layout made by hand is kept (or co-located), another one
#     refused; the four triggers of 1.2 exist on the shards and run there;
#   - one run lives on one shard: a query filtered by run is routed to one
#     node;
#   - the aggregates are pushed down as partial aggregates (EXPLAIN shows
#     worker_partial_agg on the shards and coord_combine_agg on the
#     coordinator, plain and grouped) and equal one node's result to 1e-12
#     relative, on the transcripts and on 200 000 values offset by 1e9;
#   - the analysis, progress and comparison views, run_status,
#     transcript_samples/turns, transcript_export (by run and across runs),
#     export_run_csv, export_run_json, first_divergence and analysis_json of
#     every run equal one node's (analysis_json apart from computedAt);
#   - a dashboard role with the README's grants reads the views on Citus and
#     no table; the README's list of what to avoid fails as it says;
#   - the example evaluation end to end: two runs worked off by four
#     simulated workers logging in as a worker role, and the same on one
#     node at the same time; no job lost or done twice, the analysis equal;
#   - lease expiry: a stalled worker's jobs taken over, its late reports
#     lease_lost, the last attempt failed for good;
#   - the race campaign (run control with jobs in flight, short leases, two
#     worker roles) and the worker attack campaign on the distributed layout
#     (test/lib/race.py, test/lib/attack_worker.py);
#   - the 1.1 -> 1.2 upgrade of a 1.1 database distributed by hand with runs
#     in flight: every node at 1.2, each change made once on every table,
#     worker copy and shard, the rows as on one node, then the runs finished
#     under 1.2 with the same analysis as on one node.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/citus.sh"

if ! citus_locate; then
    if [ -n "$CITUS_BUILD_FAILED" ]; then
        not_ok "Citus $CITUS_VERSION builds from $CITUS_TARBALL"
        diag "$CITUS_MISSING; its end:"
        tail -25 "${CITUS_MISSING##* see }" | sed 's/^/#   /'
        finish
    fi
    diag "Citus is not available on this machine: $CITUS_MISSING."
    diag "The Citus suite is skipped (counted as passed, nothing was tested)."
    skip "Citus suite" "no Citus: $CITUS_MISSING"
    finish
fi
if [ -n "$CITUS_BUILD_SECONDS" ]; then
    diag "built Citus $CITUS_VERSION in $CITUS_BUILD_SECONDS s; cached in $CITUS_IMAGE"
else
    diag "Citus $CITUS_VERSION from ${CITUS_IMAGE:-the installed Citus}"
fi

started=$SECONDS
if ! citus_cluster_start; then
    not_ok "a coordinator and two workers start"
    finish
fi
DB=ms_citus
if ! citus_create_db "$DB"; then
    not_ok "the test database with Citus on every node, workers registered"
    finish
fi
C=$CITUS_COORD_PORT
W1=${CITUS_PORTS[1]}
W2=${CITUS_PORTS[2]}
SINGLE=$(new_db citus_single) || { not_ok "a single-node database"; finish; }

# lap: the time so far, at the start of each part.
lap() { diag "$((SECONDS - started)) s so far"; }
# c SQL / s SQL: one value from the coordinator / the single node.
c() { cq "$C" "$DB" "$1"; }
s() { q "$SINGLE" "$1"; }
# sqlstate PORT DB SQL: the SQLSTATE the statement fails with, or "ok".
sqlstate() {
    local out
    out=$(psql -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d "$2" -v VERBOSITY=sqlstate -c "$3" 2>&1) && { echo ok; return; }
    echo "$out" | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' | head -1
}
# error PORT DB SQL: the error message, or "ok".
error() {
    local out
    out=$(psql -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$3" 2>&1) && { echo ok; return; }
    echo "$out" | sed -n 's/^ERROR:  //p' | head -1
}

is "$(c "SELECT count(*) FILTER (WHERE isactive AND noderole = 'primary'), count(*) FILTER (WHERE groupid = 0) FROM pg_dist_node")" "3|1" \
   "a coordinator and two workers on 127.0.0.1 ($((SECONDS - started)) s)"
diag "Citus $(c "SELECT extversion FROM pg_extension WHERE extname = 'citus'") on PostgreSQL $(c "SHOW server_version"); ports $C (coordinator), $W1, $W2"

c "CREATE EXTENSION multisample" > /dev/null
version=$(c "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")
is "$(cq "$W1" "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")|$(cq "$W2" "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")" \
   "$version|$version" "CREATE EXTENSION multisample on the coordinator reaches both workers ($version)"
s "CREATE EXTENSION multisample" > /dev/null

# ---- distribute_on_citus: refusals --------------------------------------------
out=$(psql -X -q -At -d "$SINGLE" -v VERBOSITY=sqlstate -c "SELECT * FROM multisample.distribute_on_citus()" 2>&1)
is "$(echo "$out" | head -1)" "ERROR:  55000" "distribute_on_citus without Citus: 55000"
is "$(error "$W1" "$DB" "SELECT * FROM multisample.distribute_on_citus()")" \
   "distribute_on_citus must run on the Citus coordinator" "distribute_on_citus on a worker node: refused, saying where to run it"
c "CREATE ROLE ms_citus_user; GRANT USAGE ON SCHEMA multisample TO ms_citus_user" > /dev/null
is "$(sqlstate "$C" "$DB" "SET ROLE ms_citus_user; SELECT * FROM multisample.distribute_on_citus()")" "42501" \
   "distribute_on_citus by a role that does not own the tables: 42501"

# The example evaluation and two finished runs, before distribution (as in a
# database that grew on one node first), on both servers.
# both ARGS...: psql with ARGS on the coordinator, then on the single node.
both() {
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$C" -U postgres -d "$DB" "$@" &&
    psql -X -q -v ON_ERROR_STOP=1 -d "$SINGLE" "$@"
}
load_run() {  # RUN SAMPLES MODELS SHORT
    both -v run="$1" -v samples="$2" -v models="$3" -v short="$4" -f "$REPO/test/sql/citus_fixture.sql"
}
both -f "$REPO/examples/evaluation.sql" || not_ok "examples/evaluation.sql loads"
load_run r1 5 '{gpt-sim-large,claude-sim,local-llama}' 0 || not_ok "run r1 loads"
load_run r2 1 '{gpt-sim-large,claude-sim}' 0 || not_ok "run r2 loads"

counts="SELECT (SELECT count(*) FROM multisample.definitions) || ' ' || (SELECT count(*) FROM multisample.scenarios)
        || ' ' || (SELECT count(*) FROM multisample.model_pricing) || ' ' || (SELECT count(*) FROM multisample.model_token_statistics)
        || ' ' || (SELECT count(*) FROM multisample.runs) || ' ' || (SELECT count(*) FROM multisample.run_scenario_selections)
        || ' ' || (SELECT count(*) FROM multisample.probe_jobs) || ' ' || (SELECT count(*) FROM multisample.transcripts)
        || ' ' || (SELECT count(*) FROM multisample.probe_results)"
before=$(c "$counts")

# ---- distribute_on_citus ----------------------------------------------------
expected_layout="multisample.definitions|reference||created
multisample.model_pricing|reference||created
multisample.model_token_statistics|reference||created
multisample.scenarios|reference||created
multisample.runs|distributed|id|created
multisample.probe_jobs|distributed|run_id|created
multisample.run_sample_requests|distributed|run_id|created
multisample.run_scenario_selections|distributed|run_id|created
multisample.run_pair_plans|distributed|run_id|created
multisample.transcripts|distributed|run_id|created
multisample.probe_results|distributed|run_id|created"
t0=$SECONDS
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U postgres -d "$DB" -v ON_ERROR_STOP=1 \
           -c "SELECT * FROM multisample.distribute_on_citus()" 2>&1)
is "$(echo "$out" | grep -v '^NOTICE')" "$expected_layout" \
   "distribute_on_citus: 4 reference tables, 7 tables distributed by run id ($((SECONDS - t0)) s)"
check "distribute_on_citus says which Citus settings it uses (a NOTICE)" \
    grep -q 'NOTICE:.*citus.enable_local_reference_table_foreign_keys = off.*citus.enable_unsafe_triggers = on' <<< "$out"
check "distribute_on_citus shows none of Citus' copy notices" \
    bash -c '! grep -q "truncate_local_data_after_distributing_table" <<< "$1"' _ "$out"
layout="SELECT p.logicalrelid::text || ' ' || p.partmethod::text || ' ' || p.repmodel::text || ' '
               || coalesce(column_to_column_name(p.logicalrelid, p.partkey), '-') || ' '
               || (p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'multisample.runs'::regclass))
          FROM pg_dist_partition AS p
         WHERE p.logicalrelid::text LIKE 'multisample.%' ORDER BY 1"
is "$(c "$layout")" "multisample.definitions n t - false
multisample.model_pricing n t - false
multisample.model_token_statistics n t - false
multisample.probe_jobs h s run_id true
multisample.probe_results h s run_id true
multisample.run_pair_plans h s run_id true
multisample.run_sample_requests h s run_id true
multisample.run_scenario_selections h s run_id true
multisample.runs h s id true
multisample.scenarios n t - false
multisample.transcripts h s run_id true" \
   "pg_dist_partition: reference tables replicated (n/t); runs by id and the run-scoped tables by run_id, hash, co-located with runs"
is "$(c "SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
          WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'multisample') AND d.deptype = 'e'
            AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)")" "" \
   "no table of the extension is left outside Citus"
is "$(c "$counts")" "$before" "every row kept: the same count in each of the 9 tables ($before)"
is "$(c "SELECT count(*) FROM pg_dist_partition p WHERE p.logicalrelid::text LIKE 'multisample.%'
            AND p.partmethod = 'h' AND pg_relation_size(p.logicalrelid) > 0")" "0" \
   "the coordinator's copies of the distributed tables were truncated (the rows live in the shards)"
is "$(c "SELECT count(DISTINCT s.nodeport) FROM pg_dist_shard_placement s JOIN pg_dist_shard d USING (shardid)
          WHERE d.logicalrelid = 'multisample.transcripts'::regclass")" "2" "the transcripts' shards are on both workers"

snapshot="SELECT string_agg(p.logicalrelid::text || ':' || p.colocationid || ':' || (SELECT string_agg(shardid::text, ',' ORDER BY shardid) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid), ' ' ORDER BY p.logicalrelid::text)
            FROM pg_dist_partition p WHERE p.logicalrelid::text LIKE 'multisample.%'"
snap1=$(c "$snapshot")
out=$(c "SET client_min_messages = warning; SELECT action, count(*) FROM multisample.distribute_on_citus() GROUP BY action")
is "$out" "unchanged|11" "distribute_on_citus again: every table unchanged"
is "$(c "$snapshot")" "$snap1" "... the same shards and co-location groups as before"

# The triggers exist on the shards and run there: a finished job stays finished.
for w in "$W1" "$W2"; do
    out=$(cq "$w" "$DB" "SET citus.override_table_visibility = off;
        SELECT b.tbl || ' ' || count(*) || ' '
               || count(*) FILTER (WHERE b.triggers = CASE b.tbl WHEN 'probe_jobs' THEN 'probe_jobs_guard'
                                                                WHEN 'transcripts' THEN 'transcripts_guard'
                                                                WHEN 'probe_results' THEN 'probe_results_guard'
                                                                WHEN 'runs' THEN 'runs_audit' END || b.suffix)
          FROM (SELECT regexp_replace(c.relname, '_[0-9]+\$', '') AS tbl, substring(c.relname from '_[0-9]+\$') AS suffix,
                       (SELECT string_agg(t.tgname, ',' ORDER BY t.tgname) FROM pg_trigger AS t
                         WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers
                  FROM pg_class AS c
                 WHERE c.relnamespace = 'multisample'::regnamespace AND c.relkind = 'r'
                   AND c.relname ~ '^(runs|probe_jobs|transcripts|probe_results)_[0-9]+\$') AS b
         GROUP BY b.tbl ORDER BY b.tbl")
    is "$out" "probe_jobs 4 4
probe_results 4 4
runs 4 4
transcripts 4 4" "worker $w: each of its 4 shards of probe_jobs, transcripts, probe_results and runs has its table's trigger (probe_jobs_guard, transcripts_guard, probe_results_guard, runs_audit; named with the shard id, as Citus names them), and no other"
done
is "$(sqlstate "$C" "$DB" "UPDATE multisample.probe_jobs SET state = 'QUEUED' WHERE run_id = 'r1' AND scenario_id = 'lifeboat' AND model_id = 'claude-sim' AND sample_index = 0")" "23514" \
   "a finished job cannot be queued again on Citus: the trigger runs on the shard (23514)"

# On one node a trigger deletes a deleted selection's jobs; on Citus the
# foreign key of 1.1 does (a trigger on a shard cannot reach other tables).
is "$(c "SELECT (SELECT count(*) FROM pg_constraint WHERE conname = 'probe_jobs_selection_fkey'
                    AND conrelid = 'multisample.probe_jobs'::regclass)
                || ' ' || (SELECT count(*) FROM pg_trigger WHERE tgname = 'run_scenario_selections_jobs')")" "1 0" \
   "distribute_on_citus put the foreign key from probe_jobs to run_scenario_selections in place of the one-node trigger"
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$C" -U postgres -d "$DB" -v run=r_deleted -v samples=2 \
     -v models='{claude-sim}' -v short=0 -f "$REPO/test/sql/citus_fixture.sql" > /dev/null || not_ok "run r_deleted loads"
deleted_counts="SELECT (SELECT count(*) FROM multisample.run_scenario_selections WHERE run_id = 'r_deleted')
                       || ' ' || (SELECT count(*) FROM multisample.probe_jobs WHERE run_id = 'r_deleted')"
jobs_before=$(c "$deleted_counts")
c "DELETE FROM multisample.runs WHERE id = 'r_deleted'" > /dev/null
jobs_after=$(c "$deleted_counts")
check "deleting a run on Citus deletes its selections and jobs (the key cascades on the shards): $jobs_before, then $jobs_after" \
    bash -c '[[ $1 =~ ^[1-9][0-9]*\ [1-9][0-9]*$ && $2 == "0 0" ]]' _ "$jobs_before" "$jobs_after"

lap
# ---- distribute_on_citus over layouts made by hand ---------------------------
# A table with another layout is refused, naming it, and the call changes
# nothing (Citus cannot change the layout of an extension's table in place).
DB2=ms_citus_other_layout
if citus_create_db "$DB2" && cq "$C" "$DB2" "CREATE EXTENSION multisample" > /dev/null &&
   cq "$C" "$DB2" "SET client_min_messages = warning;
       SELECT create_distributed_table('multisample.model_token_statistics', 'model_id')" > /dev/null; then
    out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U postgres -d "$DB2" -c "SELECT * FROM multisample.distribute_on_citus()" 2>&1)
    is "$(sed -n 's/^ERROR:  //p' <<< "$out")" \
       "distribute_on_citus: multisample.model_token_statistics is already distributed by model_id, not a reference table as multisample needs" \
       "a table distributed by hand another way: refused, naming it and the layout needed"
    check "... with a HINT on what to do instead" grep -q '^HINT:  Citus cannot change the layout of a table that belongs to an extension' <<< "$out"
    is "$(cq "$C" "$DB2" "SELECT string_agg(logicalrelid::text, ' ') FROM pg_dist_partition WHERE logicalrelid::text LIKE 'multisample.%'")" \
       "multisample.model_token_statistics" "... and the call changed nothing (the tables laid out before the refusal were rolled back)"
else
    not_ok "a database with a table distributed by hand another way"
fi

# Tables added to the extension are laid out by the same rule (a run_id
# column: distributed by run; none: reference), a reference table made by
# hand is kept, and a run-scoped table distributed by run_id outside the
# runs' co-location group is moved into it. Citus does not create tables added to
# an extension on the workers: an update script that adds a table creates it
# on every node (where Citus runs the script again), as done here.
DB3=ms_citus_added_tables
extra_tables="SET client_min_messages = warning;
    CREATE TABLE multisample.extra_run_notes (run_id text NOT NULL, note text NOT NULL, PRIMARY KEY (run_id, note));
    CREATE TABLE multisample.extra_labels (id text PRIMARY KEY, label text);
    ALTER EXTENSION multisample ADD TABLE multisample.extra_run_notes;
    ALTER EXTENSION multisample ADD TABLE multisample.extra_labels"
if citus_create_db "$DB3" && cq "$C" "$DB3" "CREATE EXTENSION multisample" > /dev/null &&
   cq "$C" "$DB3" "$extra_tables" > /dev/null && cq "$W1" "$DB3" "$extra_tables" > /dev/null && cq "$W2" "$DB3" "$extra_tables" > /dev/null &&
   cq "$C" "$DB3" "SET client_min_messages = warning;
       SELECT create_reference_table('multisample.model_pricing');
       SELECT create_distributed_table('multisample.extra_run_notes', 'run_id', colocate_with => 'none')" > /dev/null; then
    is "$(cq "$C" "$DB3" "SET client_min_messages = warning; SELECT table_name || ' ' || layout || ' ' || coalesce(distribution_column, '-') || ' ' || action FROM multisample.distribute_on_citus()")" \
       "multisample.definitions reference - created
multisample.extra_labels reference - created
multisample.model_pricing reference - unchanged
multisample.model_token_statistics reference - created
multisample.scenarios reference - created
multisample.runs distributed id created
multisample.extra_run_notes distributed run_id co-located
multisample.probe_jobs distributed run_id created
multisample.run_sample_requests distributed run_id created
multisample.run_scenario_selections distributed run_id created
multisample.run_pair_plans distributed run_id created
multisample.transcripts distributed run_id created
multisample.probe_results distributed run_id created" \
       "an empty database: the two tables added to the extension laid out by the rule, the reference table made by hand kept, the run-scoped one moved into the runs' co-location group"
    is "$(cq "$C" "$DB3" "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h' AND logicalrelid::text LIKE 'multisample.%'")" "1" \
       "... every distributed table in one co-location group"
    is "$(cq "$C" "$DB3" "SET client_min_messages = warning; SELECT action, count(*) FROM multisample.distribute_on_citus() GROUP BY action")" \
       "unchanged|13" "... and a second call finds all 13 tables unchanged"
else
    not_ok "a database with tables added to the extension"
fi

# A run loaded after distribution (short pairs: the SHORT_PAIRS warning).
load_run r3 4 '{gpt-sim-large,claude-sim,local-llama}' 1 || not_ok "run r3 loads after distribution"
is "$(c "$counts")" "$(s "$counts")" "after a third run: the same row counts on Citus and on one node"

# One run lives on one shard: a query filtered by run goes to one node.
for view in scenario_variance model_variance transcript_export; do
    is "$(c "EXPLAIN (COSTS OFF) SELECT * FROM multisample.$view WHERE run_id = 'r1'" | sed -n 's/^ *Task Count: //p')" "1" \
       "a query on $view filtered by run is routed to one shard"
done

lap
# ---- aggregates: partial aggregation pushed down ----------------------------
explain_has() {  # SQL: prints which markers the plan shows
    local plan
    plan=$(c "EXPLAIN (VERBOSE, COSTS OFF) $1")
    printf '%s %s\n' "$(grep -c 'worker_partial_agg' <<< "$plan")" "$(grep -c 'coord_combine_agg' <<< "$plan")"
}
for agg in "variance_stats(score)" "confidence_interval(score)" "confidence_interval(score, 0.9)"; do
    for grouping in "" "model_id"; do
        sql="SELECT ${grouping:+$grouping, }multisample.$agg FROM multisample.transcripts${grouping:+ GROUP BY $grouping}"
        read -r partial combine <<< "$(explain_has "$sql")"
        check "EXPLAIN ${grouping:+grouped by $grouping: }$agg runs worker_partial_agg on the shards and coord_combine_agg on the coordinator" \
            test "$partial" -ge 1 -a "$combine" -ge 1
    done
done

# Hostile data for the combine step: 200 000 values offset by 1e9, spread
# over the 8 shards (distributed by k), in 100 groups.
agg_table="CREATE TABLE agg_data (k integer, g integer, x float8);
           INSERT INTO agg_data SELECT i, i % 100, 1e9 + ((i::bigint * 7919) % 100003) / 64.0 + (i % 7) * 1e-3
             FROM generate_series(1, 200000) AS i"
c "$agg_table" > /dev/null
c "SET client_min_messages = warning; SELECT create_distributed_table('agg_data', 'k'); SELECT truncate_local_data_after_distributing_table('agg_data')" > /dev/null
s "$agg_table" > /dev/null
read -r partial combine <<< "$(explain_has "SELECT g, multisample.variance_stats(x) FROM agg_data GROUP BY g")"
check "EXPLAIN variance_stats over agg_data grouped by g: partial aggregation on the shards" test "$partial" -ge 1 -a "$combine" -ge 1

checks=$(mktemp)
on_exit "rm -f '$checks'"
cat > "$checks" <<'SQL'
-- variance_stats over every transcript score
SELECT (v).* FROM (SELECT multisample.variance_stats(score) AS v FROM multisample.transcripts) AS a

-- confidence_interval over every transcript score, 95 % and 90 %
SELECT (a).*, (b).* FROM (SELECT multisample.confidence_interval(score) AS a, multisample.confidence_interval(score, 0.9) AS b FROM multisample.transcripts) AS x

-- variance_stats and confidence_interval grouped by model
SELECT model_id, (v).*, (ci).* FROM (SELECT model_id, multisample.variance_stats(score) AS v, multisample.confidence_interval(score) AS ci FROM multisample.transcripts GROUP BY model_id) AS a ORDER BY model_id

-- variance_stats grouped by run and scenario (pushed down whole: grouped by the distribution column)
SELECT run_id, scenario_id, (v).* FROM (SELECT run_id, scenario_id, multisample.variance_stats(score) AS v FROM multisample.transcripts GROUP BY run_id, scenario_id) AS a ORDER BY run_id, scenario_id

-- variance_stats over 200 000 values offset by 1e9
SELECT (v).* FROM (SELECT multisample.variance_stats(x) AS v FROM agg_data) AS a

-- confidence_interval over 200 000 values offset by 1e9, 100 groups
SELECT g, (ci).* FROM (SELECT g, multisample.confidence_interval(x, 0.99) AS ci FROM agg_data GROUP BY g) AS a ORDER BY g

-- scenario_variance, every run
SELECT * FROM multisample.scenario_variance ORDER BY run_id, scenario_id, model_id

-- scenario_variance_overall, every run
SELECT * FROM multisample.scenario_variance_overall ORDER BY run_id, scenario_id

-- model_variance, every run
SELECT * FROM multisample.model_variance ORDER BY run_id, model_id

-- model_variance of run r3
SELECT * FROM multisample.model_variance WHERE run_id = 'r3' ORDER BY model_id

-- run_analysis_settings
SELECT * FROM multisample.run_analysis_settings ORDER BY run_id

-- transcript_samples of run r1
SELECT * FROM multisample.transcript_samples WHERE run_id = 'r1' ORDER BY scenario_id, model_id, sample_index, transcript_id

-- transcript_turns of run r3
SELECT * FROM multisample.transcript_turns WHERE run_id = 'r3' ORDER BY transcript_id, turn_index

-- transcript_export of run r1
SELECT * FROM multisample.transcript_export WHERE run_id = 'r1' ORDER BY transcript_id

-- transcript_export of run r3
SELECT * FROM multisample.transcript_export WHERE run_id = 'r3' ORDER BY transcript_id

-- export_run_csv of run r1
SELECT * FROM multisample.export_run_csv('r1') WITH ORDINALITY

-- first_divergence of two samples
SELECT * FROM multisample.first_divergence('r1', 'lifeboat', 'claude-sim', 0, 3)

-- analysis_json of run r1 (apart from computedAt)
SELECT multisample.analysis_json('r1')

-- analysis_json of run r2, one sample per scenario (apart from computedAt)
SELECT multisample.analysis_json('r2')

-- analysis_json of run r3, short pairs (apart from computedAt)
SELECT multisample.analysis_json('r3')

-- run_job_counts, every run
SELECT * FROM multisample.run_job_counts ORDER BY run_id

-- run_status, every run
SELECT * FROM multisample.run_status ORDER BY run_id

-- run_progress, every run
SELECT * FROM multisample.run_progress ORDER BY run_id

-- run_model_progress, every run
SELECT * FROM multisample.run_model_progress ORDER BY run_id, model_id

-- run_progress of run r3
SELECT * FROM multisample.run_progress WHERE run_id = 'r3'

-- transcript_export, every run (no run filter)
SELECT * FROM multisample.transcript_export ORDER BY run_id, transcript_id

-- model_comparison, every run
SELECT * FROM multisample.model_comparison ORDER BY run_id, model_a, model_b

-- model_comparison of run r1
SELECT * FROM multisample.model_comparison WHERE run_id = 'r1' ORDER BY model_a, model_b

-- analysis_json of run r1 in the reference platform's format (apart from computedAt)
SELECT multisample.analysis_json('r1', 'reference')

-- analysis_json of run r3 in the reference platform's format (apart from computedAt)
SELECT multisample.analysis_json('r3', 'reference')

-- export_run_json of run r1
SELECT * FROM multisample.export_run_json('r1') WITH ORDINALITY

-- export_run_csv of run r3 in the reference layout
SELECT * FROM multisample.export_run_csv('r3', reference_layout => true) WITH ORDINALITY
SQL
tap_py "$REPO/test/lib/citus_compare.py" "host=127.0.0.1 port=$C user=postgres dbname=$DB" "dbname=$SINGLE" "$checks"
check "analysis_json of r3 warns about its short pairs" \
    test "$(c "SELECT multisample.analysis_json('r3') -> 'warnings' @> '[{\"code\": \"SHORT_PAIRS\"}]'")" = t

lap
# ---- a dashboard role -------------------------------------------------------
# The README's recipe. On Citus the views alone are not enough: Citus runs
# the shard queries of a view as the calling role (citusdata/citus#1683), so
# the README's Citus section also grants SELECT on the tables the views read.
# The role still writes nothing.
dashboard_views="multisample.run_status, multisample.run_progress, multisample.run_model_progress,
                 multisample.scenario_variance, multisample.scenario_variance_overall,
                 multisample.model_variance, multisample.run_analysis_settings,
                 multisample.transcript_samples, multisample.transcript_turns,
                 multisample.transcript_export"
c "CREATE ROLE ms_citus_dashboard LOGIN;
   GRANT USAGE ON SCHEMA multisample TO ms_citus_dashboard;
   GRANT SELECT ON $dashboard_views TO ms_citus_dashboard" > /dev/null || not_ok "the dashboard role and its grants"
is "$(sqlstate "$C" "$DB" "SET ROLE ms_citus_dashboard; SELECT count(*) FROM multisample.scenario_variance WHERE run_id = 'r1'")" "42501" \
   "with SELECT on the views only, the dashboard cannot read them on Citus (42501: Citus checks the shards with the caller's rights)"
# One GRANT per table: one naming a distributed and a reference table fails
# ("parallel DDL access ... in the same transaction").
for table in runs run_scenario_selections probe_jobs transcripts scenarios run_pair_plans; do
    c "GRANT SELECT ON multisample.$table TO ms_citus_dashboard" > /dev/null || not_ok "GRANT SELECT ON $table"
done
for view in scenario_variance scenario_variance_overall model_variance run_analysis_settings transcript_samples transcript_turns transcript_export run_status run_progress run_model_progress; do
    as_dashboard=$(c "SET ROLE ms_citus_dashboard; SELECT count(*) FROM multisample.$view WHERE run_id = 'r1'" 2>&1)
    is "$as_dashboard" "$(c "SELECT count(*) FROM multisample.$view WHERE run_id = 'r1'")" \
       "with the README's Citus grants the dashboard reads $view (run r1: the owner's row count)"
done
is "$(c "SET ROLE ms_citus_dashboard; SELECT multisample.analysis_json('r3') -> 'perModel' = (SELECT multisample.analysis_json('r3') -> 'perModel')" 2>&1)" "t" \
   "... and analysis_json"
for statement in "INSERT INTO multisample.runs (id, definition_id) VALUES ('d1', 'moral-dilemmas-v1')" \
                 "UPDATE multisample.transcripts SET score = 1 WHERE run_id = 'r1'" \
                 "DELETE FROM multisample.probe_jobs WHERE run_id = 'r1'" \
                 "SELECT count(*) FROM multisample.model_pricing" \
                 "SELECT multisample.cancel_run('r1')"; do
    is "$(sqlstate "$C" "$DB" "SET ROLE ms_citus_dashboard; $statement")" "42501" \
       "the dashboard role cannot: ${statement:0:60} (42501)"
done

# ---- what to avoid on Citus (the README's list) -------------------------------
# An API function called once per row of a distributed query runs inside a
# shard query, where Citus refuses the function's own distributed queries.
is "$(error "$C" "$DB" "SELECT count(*) FROM multisample.scenario_variance v, multisample.first_divergence(v.run_id, v.scenario_id, v.model_id, 0, 1) f WHERE v.run_id = 'r1'")" \
   "cannot execute a distributed query from a query on a shard" \
   "README, what to avoid: first_divergence once per row of scenario_variance fails on Citus"
is "$(error "$C" "$DB" "SELECT multisample.cancel_run(id) FROM multisample.runs WHERE id = 'r1'")" \
   "cannot execute a distributed query from a query on a shard" \
   "README, what to avoid: cancel_run once per row of runs fails on Citus"
is "$(error "$C" "$DB" "SELECT * FROM multisample.first_divergence('r1', (SELECT min(scenario_id) FROM multisample.transcripts WHERE run_id = 'r1'), 'claude-sim', 0, 1)")" \
   "cannot execute a distributed query from a query on a shard" \
   "README, what to avoid: an API function given a subquery over one run's rows as an argument fails on Citus (the whole call is sent to the shard)"

lap
# ---- the example evaluation, end to end, on Citus and on one node ---------------
# examples/evaluation.sql and two runs (3 models x 12 scenarios x 5 samples,
# and 2 models x 12 x 3 at HIGH priority: 252 jobs on different shards),
# worked off by four simulated workers (examples/simulated_worker.py: scores
# drawn from a generator seeded per sample, one probe in about twenty failing
# once with a retryable error) logging in as a worker role of the README's
# recipe on Citus, and by four on a plain node as the superuser, at the same
# time. No job may be lost or done twice; the analysis must agree.
E2E=ms_citus_e2e
logs=$(mktemp -d)   # the simulated workers' output
on_exit "rm -rf '$logs'"
# simulate N TAG CITUS-DB SINGLE-DB: N simulated workers on the Citus
# database (logging in as ms_citus_worker) and N on the single-node one, all
# at once; their output in $logs/TAG-citus-I.out and TAG-single-I.out
# (.err). Returns when every one has finished.
simulate() {
    local i
    for i in $(seq 1 "$1"); do
        (cd "$REPO/examples" && PGHOST=127.0.0.1 PGPORT=$C PGUSER=ms_citus_worker PGDATABASE=$3 \
            "$PY" simulated_worker.py "$2-citus-$i" > "$logs/$2-citus-$i.out" 2> "$logs/$2-citus-$i.err") &
        (cd "$REPO/examples" && PGDATABASE=$4 \
            "$PY" simulated_worker.py "$2-single-$i" > "$logs/$2-single-$i.out" 2> "$logs/$2-single-$i.err") &
    done
    wait
}
E2E_SINGLE=$(new_db citus_e2e) || not_ok "a single-node database for the example evaluation"
worker_grants() {  # PORT DB ROLE: the README's worker recipe, table by table (Citus)
    local t
    cq "$1" "$2" "GRANT USAGE ON SCHEMA multisample TO $3" > /dev/null || return 1
    for t in runs scenarios model_pricing; do
        cq "$1" "$2" "GRANT SELECT ON multisample.$t TO $3" > /dev/null || return 1
    done
    cq "$1" "$2" "GRANT SELECT, UPDATE (state, attempts, lease_holder, lease_role, lease_expires_at, next_attempt_at,
                                        last_error_code, last_error_message, claimed_at, finished_at)
                      ON multisample.probe_jobs TO $3" > /dev/null || return 1
    for t in transcripts probe_results; do
        cq "$1" "$2" "GRANT SELECT, INSERT ON multisample.$t TO $3" > /dev/null || return 1
    done
}
e2e_runs="SELECT run_id || ' ' || job_count FROM multisample.start_run('moral-dilemmas-v1', ARRAY['gpt-sim-large', 'claude-sim', 'local-llama'],
                                                                     samples_per_scenario => 5, id => 'demo',
                                                                     success_threshold => 4)
          UNION ALL
          SELECT run_id || ' ' || job_count FROM multisample.start_run('moral-dilemmas-v1', ARRAY['gpt-sim-large', 'claude-sim'],
                                                                     samples_per_scenario => 3, priority => 'HIGH', id => 'demo-high')"
c_e2e() { cq "$C" "$E2E" "$1"; }
if citus_create_db "$E2E" &&
   c_e2e "CREATE EXTENSION multisample" > /dev/null &&
   psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$C" -U postgres -d "$E2E" -f "$REPO/examples/evaluation.sql" &&
   c_e2e "SET client_min_messages = warning; SELECT count(*) FROM multisample.distribute_on_citus()" > /dev/null &&
   c_e2e "CREATE ROLE ms_citus_worker LOGIN; CREATE ROLE ms_citus_worker2 LOGIN" > /dev/null &&
   worker_grants "$C" "$E2E" ms_citus_worker && worker_grants "$C" "$E2E" ms_citus_worker2 &&
   q "$E2E_SINGLE" "CREATE EXTENSION multisample" > /dev/null &&
   psql -X -q -v ON_ERROR_STOP=1 -d "$E2E_SINGLE" -f "$REPO/examples/evaluation.sql"; then
    is "$(c_e2e "$e2e_runs")" "demo 180
demo-high 72" "start_run on Citus: two runs of the example evaluation (180 + 72 jobs)"
    q "$E2E_SINGLE" "$e2e_runs" > /dev/null
    is "$(c_e2e "SELECT count(DISTINCT get_shard_id_for_distribution_column('multisample.runs', id)) FROM multisample.runs")" "2" \
       "... the two runs live on two shards"
    t0=$SECONDS
    simulate 4 e2e "$E2E" "$E2E_SINGLE"
    diag "four simulated workers each on Citus and on one node: $((SECONDS - t0)) s; $(cat "$logs"/e2e-citus-*.out | tr '\n' ' ')"
    is "$(cat "$logs"/e2e-*.err)$(ls "$logs"/e2e-*.out | wc -l)" "8" "eight simulated workers ran and none raised an error (Citus and one node)"
    # tally SIDE: completions and simulated failures the workers reported.
    tally() { cat "$logs"/e2e-"$1"-*.out | sed -n 's/.*completed \([0-9]*\) probes, \([0-9]*\) simulated.*/\1 \2/p' |
              awk '{ c += $1; f += $2 } END { print c + 0, f + 0 }'; }
    read -r completes failures <<< "$(tally citus)"
    is "$completes" "252" "Citus: the workers completed 252 probes, one per job: no job handed out twice"
    # One job per sample, done once: COMPLETED, one SUCCESS result naming
    # its sample's only transcript, and one retry per simulated failure.
    done_once="SELECT count(*) FILTER (WHERE j.state = 'COMPLETED') || ' ' || count(r.status) FILTER (WHERE r.status = 'SUCCESS')
                      || ' ' || count(*) FILTER (WHERE t.n = 1 AND t.id = r.transcript_id) || ' ' || coalesce(sum(j.attempts - 1), 0)
                 FROM multisample.probe_jobs AS j
                 LEFT JOIN multisample.probe_results AS r USING (run_id, scenario_id, model_id, sample_index)
                 LEFT JOIN (SELECT run_id, scenario_id, model_id, sample_index, count(*) AS n, min(id) AS id
                              FROM multisample.transcripts GROUP BY 1, 2, 3, 4) AS t
                   USING (run_id, scenario_id, model_id, sample_index)"
    is "$(c_e2e "$done_once")" "252 252 252 $failures" \
       "Citus: all 252 jobs COMPLETED, each with one SUCCESS result naming its sample's one transcript; $failures retries, one per simulated failure"
    read -r s_completes s_failures <<< "$(tally single)"
    is "$(q "$E2E_SINGLE" "$done_once")" "252 252 252 $s_failures" "one node: the same ($s_completes completions, $s_failures retries)"
    is "$(c_e2e "SELECT string_agg(run_id || ' ' || status, ', ' ORDER BY run_id) FROM multisample.run_status")" \
       "demo COMPLETED, demo-high COMPLETED" "Citus: run_status COMPLETED for both runs"
    e2e_checks=$(mktemp)
    on_exit "rm -f '$e2e_checks'"
    cat > "$e2e_checks" <<'SQL'
-- example evaluation: analysis_json of run demo (apart from computedAt)
SELECT multisample.analysis_json('demo')

-- example evaluation: analysis_json of run demo-high (apart from computedAt)
SELECT multisample.analysis_json('demo-high')

-- example evaluation: model_comparison of both runs
SELECT * FROM multisample.model_comparison ORDER BY run_id, model_a, model_b

-- example evaluation: model_pass_at_k of run demo (success from a score of 4)
SELECT * FROM multisample.model_pass_at_k ORDER BY run_id, model_id, k

-- example evaluation: analysis_json of run demo in the reference platform's format (apart from computedAt)
SELECT multisample.analysis_json('demo', 'reference')

-- example evaluation: model_variance of both runs
SELECT * FROM multisample.model_variance ORDER BY run_id, model_id

-- example evaluation: scenario_variance of both runs
SELECT * FROM multisample.scenario_variance ORDER BY run_id, scenario_id, model_id

-- example evaluation: scenario_variance_overall of both runs
SELECT * FROM multisample.scenario_variance_overall ORDER BY run_id, scenario_id

-- example evaluation: run_progress (counts and bar)
SELECT run_id, status, total, completed, failed, running, queued, paused, cancelled, percent, bar FROM multisample.run_progress ORDER BY run_id

-- example evaluation: run_model_progress
SELECT * FROM multisample.run_model_progress ORDER BY run_id, model_id

-- example evaluation: every job's state, attempts and last error
SELECT run_id, scenario_id, model_id, sample_index, state, attempts, last_error_code FROM multisample.probe_jobs ORDER BY 1, 2, 3, 4

-- example evaluation: every probe result (tokens, retries)
SELECT run_id, scenario_id, model_id, sample_index, status, input_tokens, output_tokens, retry_count FROM multisample.probe_results ORDER BY 1, 2, 3, 4

-- example evaluation: transcript_export of run demo (but ids and times)
SELECT run_id, model_id, model_name, model_version, scenario_id, scenario_name, sample_index, dimensions, decision_code, decision_text, score, target_response, input_tokens, output_tokens, cost FROM multisample.transcript_export WHERE run_id = 'demo' ORDER BY scenario_id, model_id, sample_index

-- example evaluation: first_divergence of samples 0 and 1 of a pair of local-llama
SELECT * FROM multisample.first_divergence('demo', 'lifeboat', 'local-llama', 0, 1)

-- example evaluation: first_divergence of samples 2 and 4 of a pair of gpt-sim-large
SELECT * FROM multisample.first_divergence('demo', 'whistleblower', 'gpt-sim-large', 2, 4)
SQL
    tap_py "$REPO/test/lib/citus_compare.py" "host=127.0.0.1 port=$C user=postgres dbname=$E2E" "dbname=$E2E_SINGLE" "$e2e_checks"

    # ---- lease expiry: a worker that stops reporting ---------------------------
    # Two jobs of a run with 2 attempts each, claimed by ms_citus_worker with
    # a 1 s lease and never reported. The next claim (ms_citus_worker2) hands
    # them back and takes them; the first worker's late reports are
    # lease_lost. One is completed; the other is left to expire on its last
    # attempt and fails for good when release_expired_leases runs.
    as() { psql -X -q -At -h 127.0.0.1 -p "$C" -U "$1" -d "$E2E" -v ON_ERROR_STOP=1 -c "$2"; }
    c_e2e "INSERT INTO multisample.definitions (id, name) VALUES ('lease-def', 'two scenarios');
           INSERT INTO multisample.scenarios (id, definition_id, name) VALUES ('lifeboat-2', 'lease-def', 'a'), ('exam-leak-2', 'lease-def', 'b');
           SELECT count(*) FROM multisample.start_run('lease-def', ARRAY['claude-sim'], samples_per_scenario => 1,
                                                      max_attempts => 2, id => 'lease')" > /dev/null
    first=$(as ms_citus_worker "SELECT string_agg(scenario_id || '/' || attempt, ' ' ORDER BY scenario_id) FROM multisample.claim_probe_jobs('stalled', 2, '1 second')")
    is "$first" "exam-leak-2/1 lifeboat-2/1" "lease expiry: a worker claims both jobs of run lease with a 1 s lease"
    sleep 1.5
    second=$(as ms_citus_worker2 "SELECT string_agg(scenario_id || '/' || attempt, ' ' ORDER BY scenario_id) FROM multisample.claim_probe_jobs('rescuer', 2, '1 second')")
    is "$second" "exam-leak-2/2 lifeboat-2/2" "... after 1.5 s another worker role's claim hands them back and gets both, on their second attempt"
    is "$(c_e2e "SELECT string_agg(DISTINCT lease_role || ' ' || last_error_code, ', ') FROM multisample.probe_jobs WHERE run_id = 'lease'")" \
       "ms_citus_worker2 LEASE_EXPIRED" "... they record why they were handed back (LEASE_EXPIRED) and are held by the second role"
    is "$(as ms_citus_worker "SELECT outcome FROM multisample.complete_probe_job('lease', 'lifeboat-2', 'claude-sim', 0, 'stalled', '{}', score => 1)")" \
       "lease_lost" "... the first worker's late completion is lease_lost"
    is "$(as ms_citus_worker "SELECT outcome FROM multisample.fail_probe_job('lease', 'exam-leak-2', 'claude-sim', 0, 'stalled', 'E', 'late')")" \
       "lease_lost" "... and so is its late failure"
    is "$(as ms_citus_worker2 "SELECT outcome FROM multisample.complete_probe_job('lease', 'lifeboat-2', 'claude-sim', 0, 'rescuer', '{}', score => 4)")" \
       "completed" "... the second worker completes one job"
    sleep 1.5
    is "$(c_e2e "SELECT multisample.release_expired_leases('janitor')")" "1" \
       "release_expired_leases (run manager) deals with the other job, whose last lease ran out"
    is "$(c_e2e "SELECT j.state || ' ' || r.status || ' ' || r.error_code || ' ' || r.retry_count FROM multisample.probe_jobs j
                 JOIN multisample.probe_results r USING (run_id, scenario_id, model_id, sample_index) WHERE j.run_id = 'lease' AND j.scenario_id = 'exam-leak-2'")" \
       "FAILED FAILED LEASE_EXPIRED 1" "... it fails for good, with a FAILED result saying LEASE_EXPIRED after 1 retry"
    is "$(c_e2e "SELECT status || ' ' || completed || ' ' || failed FROM multisample.run_progress WHERE run_id = 'lease'")" \
       "COMPLETED 1 1" "... and run lease is COMPLETED with 1 job completed, 1 failed"
else
    not_ok "the example evaluation databases on Citus and one node"
fi

lap
# ---- run control, lease expiry and two worker roles racing (test/race.sh) ----
# The race campaign on the distributed layout: four worker threads of two
# LOGIN roles claim, complete, fail and abandon jobs of eight runs with 1 s
# and 20 s leases while a run manager pauses, resumes and cancels runs and
# releases leases (test/lib/race.py distributes the tables when it finds
# Citus).
RACE=ms_citus_race
if citus_create_db "$RACE" && c "CREATE ROLE ms_citus_race_a LOGIN; CREATE ROLE ms_citus_race_b LOGIN" > /dev/null; then
    t0=$SECONDS
    PGHOST=127.0.0.1 PGPORT=$C PGUSER=postgres tap_py "$REPO/test/lib/race.py" "$RACE" ms_citus_race_a ms_citus_race_b 12
    diag "race campaign on Citus: $((SECONDS - t0)) s"
else
    not_ok "a database for the race campaign"
fi

lap
# ---- a worker role attacks (test/attack_worker.sh, part one) -------------------
# The worker attack campaign on the distributed layout: the triggers and
# policies that stop a worker run on the shards (test/lib/attack_worker.py
# distributes the tables when it finds Citus).
ATTACK=ms_citus_attack
if citus_create_db "$ATTACK" &&
   c "CREATE ROLE ms_citus_attacker LOGIN; CREATE ROLE ms_citus_honest1 LOGIN; CREATE ROLE ms_citus_honest2 LOGIN" > /dev/null; then
    t0=$SECONDS
    PGHOST=127.0.0.1 PGPORT=$C PGUSER=postgres tap_py "$REPO/test/lib/attack_worker.py" "$ATTACK" - \
        ms_citus_attacker ms_citus_honest1 ms_citus_honest2
    diag "worker attack campaign on Citus: $((SECONDS - t0)) s"
else
    not_ok "a database for the worker attack campaign"
fi

lap
# ---- 1.1 -> 1.2 on a distributed database with runs in flight ------------------
# 1.1 installed on the cluster and distributed by hand the way a 1.1 user
# had to (README of 1.1 plus what this suite found: policies without
# subqueries on every node, Citus's foreign-key and trigger settings, one
# table at a time), with a finished run, a paused one and one in flight
# (test/sql/citus_upgrade_fixture.sql), the 1.1 worker's grants made before
# distribution. Then ALTER EXTENSION UPDATE on the coordinator: Citus runs
# the script on the coordinator and again on each worker. The same on a
# plain node, for comparison. Then the runs finish under 1.2.
UP=ms_citus_upgrade
UP_SINGLE=$(new_db citus_upgrade) || not_ok "a single-node database for the upgrade"
q postgres "DO \$\$ BEGIN CREATE ROLE ms_citus_old_worker; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
            DO \$\$ BEGIN CREATE ROLE ms_citus_installer; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" > /dev/null
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS ms_citus_old_worker' -c 'DROP ROLE IF EXISTS ms_citus_installer'"
on_exit "psql -X -q -d '$UP_SINGLE' -c 'DROP OWNED BY ms_citus_old_worker, ms_citus_installer'"
old_worker_grants="GRANT USAGE ON SCHEMA multisample TO ms_citus_old_worker;
    GRANT SELECT ON multisample.runs, multisample.scenarios, multisample.model_pricing TO ms_citus_old_worker;
    GRANT SELECT, UPDATE (state, attempts, lease_holder, lease_role, lease_expires_at, next_attempt_at,
                          last_error_code, last_error_message, claimed_at, finished_at)
        ON multisample.probe_jobs TO ms_citus_old_worker;
    GRANT SELECT, INSERT ON multisample.transcripts, multisample.probe_results TO ms_citus_old_worker;"
policies_11="ALTER POLICY probe_jobs_manage ON multisample.probe_jobs
        USING (has_table_privilege('multisample.runs'::regclass, 'UPDATE')) WITH CHECK (has_table_privilege('multisample.runs'::regclass, 'UPDATE'));
    ALTER POLICY transcripts_manage ON multisample.transcripts
        USING (has_table_privilege('multisample.runs'::regclass, 'UPDATE')) WITH CHECK (has_table_privilege('multisample.runs'::regclass, 'UPDATE'));
    ALTER POLICY probe_results_manage ON multisample.probe_results
        USING (has_table_privilege('multisample.runs'::regclass, 'UPDATE')) WITH CHECK (has_table_privilege('multisample.runs'::regclass, 'UPDATE'));
    ALTER POLICY transcripts_record ON multisample.transcripts WITH CHECK (true);
    ALTER POLICY probe_results_record ON multisample.probe_results WITH CHECK (true);"
distribute_11="SET client_min_messages = warning;
    SET citus.enable_local_reference_table_foreign_keys = off;
    SET citus.enable_unsafe_triggers = on;
    SET citus.multi_shard_modify_mode = sequential;
    SELECT create_reference_table('multisample.definitions');
    SELECT create_reference_table('multisample.scenarios');
    SELECT create_reference_table('multisample.model_pricing');
    SELECT create_reference_table('multisample.model_token_statistics');
    SELECT create_distributed_table('multisample.runs', 'id', colocate_with => 'none');
    SELECT create_distributed_table('multisample.run_scenario_selections', 'run_id', colocate_with => 'multisample.runs');
    SELECT create_distributed_table('multisample.probe_jobs', 'run_id', colocate_with => 'multisample.runs');
    SELECT create_distributed_table('multisample.transcripts', 'run_id', colocate_with => 'multisample.runs');
    SELECT create_distributed_table('multisample.probe_results', 'run_id', colocate_with => 'multisample.runs');
    SELECT count(truncate_local_data_after_distributing_table(t)) FROM unnest(ARRAY['multisample.definitions',
        'multisample.scenarios', 'multisample.model_pricing', 'multisample.model_token_statistics', 'multisample.runs',
        'multisample.run_scenario_selections', 'multisample.probe_jobs', 'multisample.transcripts',
        'multisample.probe_results']::regclass[]) AS t;"
# load_11 PSQL-ARGS...: 1.1 with the example evaluation, run u-done (the
# fixture of the comparisons above), the runs in flight, the 1.1 worker's
# grants, and a trigger whose function belongs to a role that is not a
# superuser (1.1 let the installer add one; 1.2 drops it first).
load_11() {
    psql -X -q -v ON_ERROR_STOP=1 "$@" -c "CREATE EXTENSION multisample VERSION '1.1'" &&
    psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$REPO/examples/evaluation.sql" &&
    psql -X -q -v ON_ERROR_STOP=1 "$@" -v run=u-done -v samples=3 -v models='{gpt-sim-large,claude-sim}' -v short=0 \
         -f "$REPO/test/sql/citus_fixture.sql" &&
    psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$REPO/test/sql/citus_upgrade_fixture.sql" &&
    psql -X -q -v ON_ERROR_STOP=1 "$@" -c "$old_worker_grants" &&
    psql -X -q -v ON_ERROR_STOP=1 "$@" \
         -c "CREATE FUNCTION public.ms_citus_installer_audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'" \
         -c "ALTER FUNCTION public.ms_citus_installer_audit() OWNER TO ms_citus_installer" \
         -c "CREATE TRIGGER installer_audit AFTER INSERT ON multisample.transcripts
                 FOR EACH ROW EXECUTE FUNCTION public.ms_citus_installer_audit()"
}
c_up() { cq "$C" "$UP" "$1"; }
on_every_node() {  # DB SQL
    local port
    for port in "${CITUS_PORTS[@]}"; do cq "$port" "$1" "$2" > /dev/null || return 1; done
}
if citus_create_db "$UP" && c_up "CREATE ROLE ms_citus_old_worker LOGIN; CREATE ROLE ms_citus_installer LOGIN" > /dev/null &&
   load_11 -h 127.0.0.1 -p "$C" -U postgres -d "$UP" && on_every_node "$UP" "$policies_11" &&
   c_up "$distribute_11" > /dev/null && load_11 -d "$UP_SINGLE"; then
    is "$(c_up "SELECT string_agg(extversion, ' ') FROM pg_extension WHERE extname = 'multisample'")|$(cq "$W1" "$UP" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")|$(cq "$W2" "$UP" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")" \
       "1.1|1.1|1.1" "1.1 on the coordinator and both workers"
    is "$(c_up "SELECT count(*) FILTER (WHERE partmethod = 'h') || ' ' || count(*) FILTER (WHERE partmethod = 'n') FROM pg_dist_partition WHERE logicalrelid::text LIKE 'multisample.%'")" \
       "5 4" "... distributed by hand: 5 tables by run, 4 reference tables"
    is "$(cq "$W2" "$UP" "SET citus.override_table_visibility = off; SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'installer_audit%'")" \
       "4" "... the installer's trigger on the 4 shards of transcripts on a worker (not on the worker's own copy of the table: made before distribution)"
    is "$(c_up "SELECT string_agg(run_id || ':' || state || '=' || n, ' ' ORDER BY run_id, state) FROM (SELECT run_id, state, count(*) AS n FROM multisample.probe_jobs GROUP BY 1, 2) AS x")" \
       "u-done:COMPLETED=72 u-live:COMPLETED=24 u-live:FAILED=2 u-live:QUEUED=36 u-live:RUNNING=10 u-paused:COMPLETED=4 u-paused:PAUSED=8" \
       "... with a finished run, runs in flight and a paused one"
    t0=$SECONDS
    out=$(psql -X -q -h 127.0.0.1 -p "$C" -U postgres -d "$UP" -c "ALTER EXTENSION multisample UPDATE TO '1.2'" 2>&1)
    status=$?
    diag "ALTER EXTENSION multisample UPDATE on the coordinator: $((SECONDS - t0)) s"
    is "$status" "0" "ALTER EXTENSION multisample UPDATE TO '1.2' on the coordinator of a distributed 1.1 database"
    [ "$status" = 0 ] || diag "$(echo "$out" | grep ERROR)"
    single_out=$(psql -X -q -d "$UP_SINGLE" -c "ALTER EXTENSION multisample UPDATE TO '1.2'" 2>&1)
    is "$(c_up "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")|$(cq "$W1" "$UP" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")|$(cq "$W2" "$UP" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")" \
       "1.2|1.2|1.2" "... the coordinator and both workers are at 1.2"
    # Each repair happened once, as on one node: the same WARNING lines
    # (a repair run again on a worker would repeat them or fail).
    warnings() { grep '^WARNING:  multisample 1.2' | sort; }
    is "$(warnings <<< "$out")" "$(warnings <<< "$single_out")" \
       "... the upgrade's repairs each ran once: the same $(warnings <<< "$single_out" | wc -l) WARNING lines as on one node"
    check "... (6 repairs: the installer's trigger, the 2e15 score, the recorded outcome, the job with no attempt left, the 3-day wait, the 3-day lease)" \
        test "$(warnings <<< "$out" | wc -l)" -eq 6
    # The table changes reached every relation once: the coordinator's
    # tables, the workers' copies and every shard.
    layout_up="SET citus.override_table_visibility = off;
        SELECT string_agg(x, ' ' ORDER BY x) FROM (
          SELECT regexp_replace(c.relname, '_[0-9]+\$', '') || ':' || count(*)
                 || ':' || count(*) FILTER (WHERE EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'first_claimed_at'))
                 || ':' || count(*) FILTER (WHERE (SELECT string_agg(t.tgname, ',' ORDER BY t.tgname) FROM pg_trigger t
                                                   WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) IS NOT DISTINCT FROM
                                                  CASE regexp_replace(c.relname, '_[0-9]+\$', '') WHEN 'probe_jobs' THEN 'probe_jobs_guard'
                                                      WHEN 'transcripts' THEN 'transcripts_guard' WHEN 'probe_results' THEN 'probe_results_guard'
                                                      WHEN 'runs' THEN 'runs_audit' END || coalesce(substring(c.relname from '_[0-9]+\$'), ''))
                 || ':' || count(*) FILTER (WHERE (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c'
                                                     AND regexp_replace(k.conname, '_[0-9]+\$', '') IN ('probe_jobs_open_attempts_check',
                                                         'transcripts_score_range', 'transcripts_cost_range', 'transcripts_tokens_check',
                                                         'probe_results_counts_check', 'model_pricing_prices_range',
                                                         'model_token_statistics_values_range'))
                                                  = CASE regexp_replace(c.relname, '_[0-9]+\$', '') WHEN 'transcripts' THEN 3
                                                        WHEN 'run_scenario_selections' THEN 0 WHEN 'runs' THEN 0
                                                        WHEN 'definitions' THEN 0 WHEN 'scenarios' THEN 0 ELSE 1 END
                                              AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = c.oid
                                                                 AND k.conname LIKE 'transcripts_score_finite%'))
                 || ':' || count(*) FILTER (WHERE EXISTS (SELECT FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                                          WHERE i.indrelid = c.oid AND ic.relname LIKE 'probe_jobs_claim_idx%'
                                                            AND pg_get_indexdef(i.indexrelid) LIKE '%(priority DESC, created_at, run_id, queue_order)%'))
                 || ':' || count(*) FILTER (WHERE NOT EXISTS (SELECT FROM pg_policy po WHERE po.polrelid = c.oid
                                                                AND (po.polqual::text LIKE '%SUBLINK%' OR po.polwithcheck::text LIKE '%SUBLINK%'))) AS x
            FROM pg_class c WHERE c.relnamespace = 'multisample'::regnamespace AND c.relkind = 'r' GROUP BY regexp_replace(c.relname, '_[0-9]+\$', '')) AS s"
    # name:relations:with first_claimed_at:with the 1.2 triggers only:with
    # the 1.2 constraints (none of 1.1's score_finite):with the new claim
    # index:with policies free of subqueries. The two tables of 1.2
    # (run_pair_plans, run_sample_requests) are plain tables on every node
    # until distribute_on_citus() below.
    is "$(c_up "$layout_up")" \
       "definitions:2:0:2:2:0:2 model_pricing:2:0:2:2:0:2 model_token_statistics:2:0:2:2:0:2 probe_jobs:1:1:1:1:1:1 probe_results:1:0:1:1:0:1 run_pair_plans:1:0:1:0:0:1 run_sample_requests:1:0:1:0:0:1 run_scenario_selections:1:0:1:1:0:1 runs:1:0:1:1:0:1 scenarios:2:0:2:2:0:2 transcripts:1:0:1:1:0:1" \
       "... on the coordinator: its tables (and reference-table copies) carry every change of 1.2"
    for w in "$W1" "$W2"; do
        is "$(cq "$w" "$UP" "$layout_up")" \
           "definitions:2:0:2:2:0:2 model_pricing:2:0:2:2:0:2 model_token_statistics:2:0:2:2:0:2 probe_jobs:5:5:5:5:5:5 probe_results:5:0:5:5:0:5 run_pair_plans:1:0:1:0:0:1 run_sample_requests:1:0:1:0:0:1 run_scenario_selections:5:0:5:5:0:5 runs:5:0:5:5:0:5 scenarios:2:0:2:2:0:2 transcripts:5:0:5:5:0:5" \
           "... on worker $w: its copies of the tables and its 4 shards of each run-scoped table carry every change once (column, triggers, constraints, claim index, policies)"
    done
    up_checks=$(mktemp)
    on_exit "rm -f '$up_checks'"
    cat > "$up_checks" <<'SQL'
-- upgraded: every job (but times relative to now)
SELECT run_id, scenario_id, model_id, sample_index, state, attempts, max_attempts, lease_holder, lease_role, last_error_code, last_error_message, first_claimed_at IS NOT NULL AS claimed, next_attempt_at <= now() AS due, lease_expires_at <= now() + interval '1 day' AS lease_within_a_day, finished_at IS NOT NULL AS finished FROM multisample.probe_jobs ORDER BY 1, 2, 3, 4

-- upgraded: every probe result
SELECT run_id, scenario_id, model_id, sample_index, status, transcript_id, error_code, error_message, retry_count FROM multisample.probe_results ORDER BY 1, 2, 3, 4

-- upgraded: every transcript's score and whether it is live
SELECT run_id, id, score, deleted_at IS NULL AS live FROM multisample.transcripts ORDER BY 1, 2

-- upgraded: run_status
SELECT run_id, status, stored_status, created_by, started_at FROM multisample.run_status ORDER BY 1

-- upgraded: run_progress (counts)
SELECT run_id, status, total, completed, failed, running, queued, paused, cancelled FROM multisample.run_progress ORDER BY 1
SQL
    tap_py "$REPO/test/lib/citus_compare.py" "host=127.0.0.1 port=$C user=postgres dbname=$UP" "dbname=$UP_SINGLE" "$up_checks"

    # Grants made before distribution reached the shards but not the
    # workers' copies of the tables, which the guard trigger reads through
    # on a worker; distribute_on_citus() (every table unchanged) grants them
    # again (README: call it after upgrading a database distributed by hand).
    held="SELECT scenario_id || ' ' || model_id || ' ' || sample_index FROM multisample.probe_jobs
           WHERE run_id = 'u-live' AND lease_holder = 'old-1' AND state = 'RUNNING' ORDER BY 1"
    read -r hs hm hi <<< "$(c_up "$held" | head -1)"
    old_complete="SELECT outcome FROM multisample.complete_probe_job('u-live', '$hs', '$hm', $hi, 'old-1', '{\"turns\": []}', score => 3)"
    is "$(psql -X -q -At -h 127.0.0.1 -p "$C" -U ms_citus_old_worker -d "$UP" -v VERBOSITY=sqlstate -c "$old_complete" 2>&1 | sed -n 's/^ERROR:  //p')" \
       "42501" "after the upgrade, the 1.1 worker role (granted before distribution) cannot report yet: its rights are missing on the workers' copies of the tables"
    is "$(c_up "SET client_min_messages = warning; SELECT string_agg(table_name || ' ' || action, ', ' ORDER BY table_name::text) FILTER (WHERE action <> 'unchanged') || '; ' || count(*) FILTER (WHERE action = 'unchanged') || ' unchanged' FROM multisample.distribute_on_citus()")" \
       "multisample.run_pair_plans created, multisample.run_sample_requests created; 9 unchanged" \
       "distribute_on_citus() on the upgraded database: the two tables of 1.2 distributed, every other table unchanged (the layout made by hand is right)"
    is "$(c_up "SELECT string_agg(conname, ' ' ORDER BY conname) FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('multisample.run_pair_plans'::regclass, 'multisample.run_sample_requests'::regclass)")" \
       "run_pair_plans_selection_fkey run_sample_requests_run_id_fkey" "... with their foreign keys, which the upgrade could not make on a distributed database"
    is "$(cq "$W1" "$UP" "SELECT has_table_privilege('ms_citus_old_worker', 'multisample.runs', 'SELECT') AND has_column_privilege('ms_citus_old_worker', 'multisample.probe_jobs', 'lease_role', 'UPDATE')")" \
       "t" "... and the workers' copies of the tables now carry the grants made before distribution"
    # The 1.1 worker reports the jobs it still holds, on both servers.
    finish_held() {  # PSQL-CONNECTION-ARGS...: completes the held jobs; prints the outcomes
        local job s m i
        while read -r s m i; do
            psql -X -q -At -v ON_ERROR_STOP=1 "$@" -c "SET ROLE ms_citus_old_worker; SELECT outcome FROM multisample.complete_probe_job('u-live', '$s', '$m', $i, 'old-1', '{\"turns\": []}', score => 3)"
        done < <(psql -X -q -At "$@" -c "$held")
    }
    is "$(finish_held -h 127.0.0.1 -p "$C" -U postgres -d "$UP" | tr '\n' ' ')" "completed completed completed completed " \
       "the 1.1 worker completes under 1.2 the four jobs it held (Citus)"
    is "$(finish_held -d "$UP_SINGLE" | tr '\n' ' ')" "completed completed completed completed " "... and on one node"
    # Then the paused run resumes, the lease a 1.1 worker took for 3 days
    # (capped to 1) is given up, and simulated workers finish both runs.
    resume="SELECT multisample.resume_run('u-paused');
            UPDATE multisample.probe_jobs SET lease_expires_at = now() - interval '1 second' WHERE state = 'RUNNING'"
    c_up "$resume" > /dev/null && q "$UP_SINGLE" "$resume" > /dev/null
    worker_grants "$C" "$UP" ms_citus_worker
    simulate 2 up "$UP" "$UP_SINGLE"
    is "$(cat "$logs"/up-*.err)$(ls "$logs"/up-*.out | wc -l)" "4" "simulated workers of 1.2 finish the runs on both servers, without an error"
    is "$(c_up "SELECT string_agg(run_id || ' ' || status, ', ' ORDER BY run_id) FROM multisample.run_status")" \
       "u-done COMPLETED, u-live COMPLETED, u-paused COMPLETED" "... every run COMPLETED (run_status, Citus)"
    one_outcome="SELECT count(*) || ' ' || count(*) FILTER (WHERE r.status IS NOT NULL AND (j.state = 'COMPLETED') = (r.status = 'SUCCESS'))
                        || ' ' || count(*) FILTER (WHERE j.state IN ('COMPLETED', 'FAILED'))
                   FROM multisample.probe_jobs AS j LEFT JOIN multisample.probe_results AS r USING (run_id, scenario_id, model_id, sample_index)"
    is "$(c_up "$one_outcome")" "156 156 156" "... all 156 jobs finished, each with one outcome agreeing with its state (Citus)"
    cat > "$up_checks" <<'SQL'
-- after the upgrade and the rest of the work: every job's state, attempts and last error
SELECT run_id, scenario_id, model_id, sample_index, state, attempts, last_error_code FROM multisample.probe_jobs ORDER BY 1, 2, 3, 4

-- after the upgrade and the rest of the work: analysis_json of run u-live
SELECT multisample.analysis_json('u-live')

-- after the upgrade and the rest of the work: analysis_json of run u-paused
SELECT multisample.analysis_json('u-paused')

-- after the upgrade and the rest of the work: analysis_json of run u-done
SELECT multisample.analysis_json('u-done')

-- after the upgrade and the rest of the work: run_progress
SELECT run_id, status, total, completed, failed, running, queued, paused, cancelled, percent, bar FROM multisample.run_progress ORDER BY 1
SQL
    tap_py "$REPO/test/lib/citus_compare.py" "host=127.0.0.1 port=$C user=postgres dbname=$UP" "dbname=$UP_SINGLE" "$up_checks"
else
    not_ok "a distributed 1.1 database with runs in flight, and the same on one node"
fi

diag "Citus suite: $((SECONDS - started)) s after the build"
finish
