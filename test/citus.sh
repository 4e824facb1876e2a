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
#     refused; the job-transition trigger exists on the shards and runs there;
#   - one run lives on one shard: a query filtered by run is routed to one
#     node;
#   - the aggregates are pushed down as partial aggregates (EXPLAIN shows
#     worker_partial_agg on the shards and coord_combine_agg on the
#     coordinator, plain and grouped) and equal one node's result to 1e-12
#     relative, on the transcripts and on 200 000 values offset by 1e9;
#   - the analysis views, transcript_samples/turns, transcript_export
#     filtered by run, export_run_csv, first_divergence and analysis_json of
#     every run equal one node's (analysis_json apart from computedAt);
#   - a dashboard role with the README's grants reads the views on Citus and
#     no table.
#
# Not yet checked here (the queue and run control are being rewritten for
# 1.2): the queue, run control, progress views, lease expiry, worker role,
# the upgrade from 1.1. Their current state on Citus is probed at the end
# and printed as "# KNOWN" diagnostics (not counted either way).
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

# ---- the 1.1-era row-level security (until the security rewrite lands) ------
# Citus refuses policies with subqueries on distributed tables. Where the
# installed policies still have them, record the refusal, then replace them
# in this test database only: the *_manage policies without the sub-select,
# the *_record policies (EXISTS over probe_jobs) dropped.
# legacy_policies DB: the policies with subqueries in DB, if any.
legacy_policies() {
    cq "$C" "$1" "SELECT string_agg(polname, ', ' ORDER BY polname) FROM pg_policy
                   WHERE polrelid::regclass::text LIKE 'multisample.%'
                     AND (polqual::text LIKE '%SUBLINK%' OR polwithcheck::text LIKE '%SUBLINK%')"
}
# replace_legacy_policies DB
replace_legacy_policies() {
    cq "$C" "$1" "SET client_min_messages = warning;
       DROP POLICY IF EXISTS transcripts_record ON multisample.transcripts;
       DROP POLICY IF EXISTS probe_results_record ON multisample.probe_results;
       DO \$\$
       DECLARE p record;
       BEGIN
           FOR p IN SELECT polname, polrelid::regclass AS rel FROM pg_policy
                     WHERE polname LIKE '%_manage' AND polrelid::regclass::text LIKE 'multisample.%' LOOP
               EXECUTE format('DROP POLICY %I ON %s', p.polname, p.rel);
               EXECUTE format('CREATE POLICY %I ON %s FOR ALL USING (has_table_privilege(''multisample.runs''::regclass, ''UPDATE'')) WITH CHECK (has_table_privilege(''multisample.runs''::regclass, ''UPDATE''))', p.polname, p.rel);
           END LOOP;
       END \$\$" > /dev/null
}
legacy=$(legacy_policies "$DB")
if [ -n "$legacy" ]; then
    diag "KNOWN (1.1 policies): distribute_on_citus: $(error "$C" "$DB" "SELECT * FROM multisample.distribute_on_citus()") -- policies with subqueries: $legacy"
    replace_legacy_policies "$DB"
    diag "replaced for this test: $legacy"
fi

# ---- distribute_on_citus ----------------------------------------------------
expected_layout="multisample.definitions|reference||created
multisample.model_pricing|reference||created
multisample.model_token_statistics|reference||created
multisample.scenarios|reference||created
multisample.runs|distributed|id|created
multisample.run_sample_requests|distributed|run_id|created
multisample.run_scenario_selections|distributed|run_id|created
multisample.probe_jobs|distributed|run_id|created
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

# Triggers exist on the shards and run there: a finished job stays finished.
is "$(cq "$W1" "$DB" "SET citus.override_table_visibility = off;
                       SELECT count(*) > 0 AND count(*) = count(*) FILTER (WHERE EXISTS (
                           SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname LIKE 'probe_jobs_guard%'))
                       FROM pg_class c WHERE c.relname ~ '^probe_jobs_[0-9]+\$' AND c.relkind = 'r'")" "t" \
   "the job-transition trigger exists on every shard of probe_jobs on a worker"
is "$(sqlstate "$C" "$DB" "UPDATE multisample.probe_jobs SET state = 'QUEUED' WHERE run_id = 'r1' AND scenario_id = 'lifeboat' AND model_id = 'claude-sim' AND sample_index = 0")" "23514" \
   "a finished job cannot be queued again on Citus: the trigger runs on the shard (23514)"

# ---- distribute_on_citus over layouts made by hand ---------------------------
# A table with another layout is refused, naming it, and the call changes
# nothing (Citus cannot change the layout of an extension's table in place).
DB2=ms_citus_other_layout
if citus_create_db "$DB2" && cq "$C" "$DB2" "CREATE EXTENSION multisample" > /dev/null &&
   cq "$C" "$DB2" "SET client_min_messages = warning;
       SELECT create_distributed_table('multisample.model_token_statistics', 'model_id')" > /dev/null; then
    [ -n "$(legacy_policies "$DB2")" ] && replace_legacy_policies "$DB2"
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
    [ -n "$(legacy_policies "$DB3")" ] && replace_legacy_policies "$DB3"
    is "$(cq "$C" "$DB3" "SET client_min_messages = warning; SELECT table_name || ' ' || layout || ' ' || coalesce(distribution_column, '-') || ' ' || action FROM multisample.distribute_on_citus()")" \
       "multisample.definitions reference - created
multisample.extra_labels reference - created
multisample.model_pricing reference - unchanged
multisample.model_token_statistics reference - created
multisample.scenarios reference - created
multisample.runs distributed id created
multisample.extra_run_notes distributed run_id co-located
multisample.run_sample_requests distributed run_id created
multisample.run_scenario_selections distributed run_id created
multisample.probe_jobs distributed run_id created
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
SQL
tap_py "$REPO/test/lib/citus_compare.py" "host=127.0.0.1 port=$C user=postgres dbname=$DB" "dbname=$SINGLE" "$checks"
check "analysis_json of r3 warns about its short pairs" \
    test "$(c "SELECT multisample.analysis_json('r3') -> 'warnings' @> '[{\"code\": \"SHORT_PAIRS\"}]'")" = t

# ---- a dashboard role -------------------------------------------------------
# The README's recipe. On Citus the views alone are not enough: Citus runs
# the shard queries of a view as the calling role (citusdata/citus#1683), so
# the README's Citus section also grants SELECT on the tables the views read.
# The role still writes nothing.
dashboard_views="multisample.run_progress, multisample.run_model_progress,
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
for view in scenario_variance scenario_variance_overall model_variance run_analysis_settings transcript_samples transcript_turns transcript_export run_model_progress; do
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

# ---- known failures of the 1.1-era queue and views on Citus -----------------
# Recorded, not counted: they are what the 1.2 queue, run control and
# progress rewrite must fix (and what phase 2 of this suite will check).
known() {  # WHAT SQL
    local result
    result=$(error "$C" "$DB" "$2")
    if [ "$result" = ok ]; then
        diag "KNOWN-NOW-WORKS: $1"
    else
        diag "KNOWN: $1: $result"
    fi
}
known "start_run" "SELECT run_id FROM multisample.start_run('moral-dilemmas-v1', ARRAY['gpt-sim-large', 'claude-sim'], samples_per_scenario => 2, id => 'q1')"
known "claim_probe_jobs" "SELECT * FROM multisample.claim_probe_jobs('known-worker', 2)"
known "release_expired_leases" "SELECT multisample.release_expired_leases()"
known "a job moved to RUNNING (the run-status trigger)" \
      "UPDATE multisample.probe_jobs SET state = 'RUNNING', attempts = 1, lease_holder = 'w', lease_role = current_user, lease_expires_at = now() + interval '1 minute' WHERE run_id = 'q1' AND scenario_id = 'lifeboat' AND model_id = 'claude-sim' AND sample_index = 0"
known "pause_run" "SELECT multisample.pause_run('q1')"
known "resume_run of a run paused before its first claim" "SELECT multisample.resume_run('q1')"
known "cancel_run" "SELECT multisample.cancel_run('q1')"
known "run_progress" "SELECT count(*) FROM multisample.run_progress"
known "run_progress of one run" "SELECT count(*) FROM multisample.run_progress WHERE run_id = 'r1'"
known "run_model_progress" "SELECT count(*) FROM multisample.run_model_progress"
known "transcript_export without a run filter" "SELECT count(*) FROM multisample.transcript_export"
known "an API function per row of a distributed query (first_divergence over scenario_variance)" \
      "SELECT count(*) FROM multisample.scenario_variance v, multisample.first_divergence(v.run_id, v.scenario_id, v.model_id, 0, 1) f WHERE v.run_id = 'r1'"
known "cancel_run per row of runs" "SELECT multisample.cancel_run(id) FROM multisample.runs WHERE id = 'q1'"

diag "Citus suite: $((SECONDS - started)) s after the build"
finish
