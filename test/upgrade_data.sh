#!/usr/bin/env bash
# Upgrade campaign: a larger 1.0 database with realistic legacy data (many
# runs, duplicate live transcripts for many pairs, deleted ones, ties on
# created_at, NaN and infinite scores) goes through ALTER EXTENSION UPDATE.
# Proves: no row lost (counts per table identical, every other column
# unchanged), every pair renumbered 0..k-1 by (created_at, id), deleted
# transcripts and probe results consistent, the WARNING counts right; then a
# round of 1.1 work on the upgraded database.
# MULTISAMPLE_LONG=1 uses ten times as many runs.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

runs=120
[ "$LONG" == 1 ] && runs=1200
db=$(new_db upgrade) || { not_ok "create database"; finish; }

q "$db" "CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs="$runs" -d "$db" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null \
    || { not_ok "load legacy 1.0 data"; finish; }

# Expectations, computed before the upgrade by a different formulation than
# the migration's window function: a live transcript's index is the number of
# live transcripts of its pair that sort before it by (created_at, id).
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || { not_ok "compute expectations"; finish; }
CREATE SCHEMA expect;
CREATE TABLE expect.counts AS
SELECT 'definitions' AS tbl, count(*) AS n FROM multisample.definitions
UNION ALL SELECT 'scenarios', count(*) FROM multisample.scenarios
UNION ALL SELECT 'runs', count(*) FROM multisample.runs
UNION ALL SELECT 'run_scenario_selections', count(*) FROM multisample.run_scenario_selections
UNION ALL SELECT 'transcripts', count(*) FROM multisample.transcripts
UNION ALL SELECT 'probe_results', count(*) FROM multisample.probe_results;
CREATE TABLE expect.transcripts AS
SELECT t.id,
       CASE WHEN t.deleted_at IS NOT NULL THEN 0
            ELSE (SELECT count(*) FROM multisample.transcripts o
                   WHERE o.run_id = t.run_id AND o.scenario_id = t.scenario_id
                     AND o.model_id = t.model_id AND o.deleted_at IS NULL
                     AND (o.created_at < t.created_at OR (o.created_at = t.created_at AND o.id < t.id)))
       END::int AS sample_index,
       CASE WHEN t.score IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE t.score END AS score,
       md5(row(t.id, t.run_id, t.scenario_id, t.model_id, t.model_version, t.content, t.input_tokens,
               t.output_tokens, t.cost, t.decision_code, t.decision_text, t.created_at, t.deleted_at)::text) AS rest
  FROM multisample.transcripts t;
CREATE TABLE expect.probe_results AS
SELECT r.run_id, r.scenario_id, r.model_id, coalesce(e.sample_index, 0) AS sample_index,
       md5(row(r.run_id, r.scenario_id, r.model_id, r.status, r.transcript_id, r.input_tokens, r.output_tokens,
               r.duration_ms, r.error_code, r.error_message, r.retry_count, r.created_at)::text) AS rest
  FROM multisample.probe_results r
  LEFT JOIN multisample.transcripts t ON t.id = r.transcript_id AND t.deleted_at IS NULL
  LEFT JOIN expect.transcripts e ON e.id = t.id;
CREATE TABLE expect.other AS
SELECT (SELECT md5(string_agg(d::text, '|' ORDER BY d.id)) FROM multisample.definitions d) AS definitions,
       (SELECT md5(string_agg(s::text, '|' ORDER BY s.id)) FROM multisample.scenarios s) AS scenarios,
       (SELECT md5(string_agg(r::text, '|' ORDER BY r.id)) FROM multisample.runs r) AS runs,
       (SELECT md5(string_agg(x::text, '|' ORDER BY x.run_id, x.scenario_id)) FROM multisample.run_scenario_selections x) AS selections;
SQL

pairs_dup=$(q "$db" "SELECT count(*) FROM (SELECT 1 FROM multisample.transcripts WHERE deleted_at IS NULL GROUP BY run_id, scenario_id, model_id HAVING count(*) > 1) p")
nonfinite=$(q "$db" "SELECT count(*) FROM multisample.transcripts WHERE score IN ('NaN', 'Infinity', '-Infinity')")
ties=$(q "$db" "SELECT count(*) FROM (SELECT 1 FROM multisample.transcripts WHERE deleted_at IS NULL GROUP BY run_id, scenario_id, model_id, created_at HAVING count(*) > 1) p")
only_deleted=$(q "$db" "SELECT count(*) FROM (SELECT 1 FROM multisample.transcripts GROUP BY run_id, scenario_id, model_id HAVING bool_and(deleted_at IS NOT NULL)) p")
total=$(q "$db" "SELECT n FROM expect.counts WHERE tbl = 'transcripts'")
diag "legacy data: $runs runs, $total transcripts, $pairs_dup pairs with duplicates ($ties with ties on created_at), $only_deleted pairs with only deleted transcripts, $nonfinite non-finite scores"
check "legacy data exercises duplicates, ties, deleted-only pairs and non-finite scores" \
    test "$pairs_dup" -gt 50 -a "$ties" -gt 10 -a "$only_deleted" -gt 5 -a "$nonfinite" -gt 10

start=$(date +%s%N)
warnings=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER EXTENSION multisample UPDATE" 2>&1)
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$status" 0 "ALTER EXTENSION multisample UPDATE succeeds on the legacy data"
diag "upgrade took ${ms} ms"
is "$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")" \
   "$(sed -n 's/^   "version": *"\([0-9]*\.[0-9]*\)\.[0-9]*".*/\1/p' "$REPO/META.json")" "extension is at the current version"

renumbered=$(echo "$warnings" | sed -n 's/.*WARNING: *multisample 1.1: \([0-9]*\) scenario-model pair.*/\1/p')
cleared=$(echo "$warnings" | sed -n 's/.*WARNING: *multisample 1.1: \([0-9]*\) transcript(s) had a non-finite.*/\1/p')
is "$renumbered" "$pairs_dup" "WARNING reports the number of renumbered pairs"
is "$cleared" "$nonfinite" "WARNING reports the number of non-finite scores cleared"

counts=$(q "$db" "
SELECT string_agg(format('%s %s->%s', e.tbl, e.n, a.n), ', ' ORDER BY e.tbl)
  FROM expect.counts e
  JOIN (SELECT 'definitions' AS tbl, count(*) AS n FROM multisample.definitions
        UNION ALL SELECT 'scenarios', count(*) FROM multisample.scenarios
        UNION ALL SELECT 'runs', count(*) FROM multisample.runs
        UNION ALL SELECT 'run_scenario_selections', count(*) FROM multisample.run_scenario_selections
        UNION ALL SELECT 'transcripts', count(*) FROM multisample.transcripts
        UNION ALL SELECT 'probe_results', count(*) FROM multisample.probe_results) a USING (tbl)
 WHERE e.n <> a.n")
is "$counts" "" "row counts of every 1.0 table identical after the upgrade"

is "$(q "$db" "
SELECT count(*) FROM expect.transcripts e
  FULL JOIN multisample.transcripts t ON t.id = e.id
 WHERE t.id IS NULL OR e.id IS NULL OR t.sample_index <> e.sample_index")" 0 \
   "every transcript has its expected sample_index (live: 0..k-1 by created_at, id; deleted: 0)"
is "$(q "$db" "
SELECT count(*) FROM (
  SELECT run_id, scenario_id, model_id
    FROM multisample.transcripts WHERE deleted_at IS NULL
   GROUP BY 1, 2, 3
  HAVING min(sample_index) <> 0 OR max(sample_index) <> count(*) - 1 OR count(DISTINCT sample_index) <> count(*)) bad")" 0 \
   "live samples of every pair are exactly 0..k-1"
is "$(q "$db" "
SELECT count(*) FROM expect.transcripts e JOIN multisample.transcripts t USING (id)
 WHERE t.score IS DISTINCT FROM e.score
    OR md5(row(t.id, t.run_id, t.scenario_id, t.model_id, t.model_version, t.content, t.input_tokens,
               t.output_tokens, t.cost, t.decision_code, t.decision_text, t.created_at, t.deleted_at)::text) <> e.rest")" 0 \
   "transcripts keep every other column; non-finite scores became NULL, finite ones unchanged"
is "$(q "$db" "
SELECT count(*) FROM expect.probe_results e
  FULL JOIN multisample.probe_results r
    ON (r.run_id, r.scenario_id, r.model_id) = (e.run_id, e.scenario_id, e.model_id)
 WHERE r.run_id IS NULL OR e.run_id IS NULL OR r.sample_index <> e.sample_index
    OR md5(row(r.run_id, r.scenario_id, r.model_id, r.status, r.transcript_id, r.input_tokens, r.output_tokens,
               r.duration_ms, r.error_code, r.error_message, r.retry_count, r.created_at)::text) <> e.rest")" 0 \
   "probe results unchanged except sample_index, which is their live transcript's (else 0)"
is "$(q "$db" "
SELECT count(*) FROM multisample.probe_results r JOIN multisample.transcripts t
    ON t.run_id = r.run_id AND t.id = r.transcript_id
 WHERE t.deleted_at IS NULL AND t.sample_index <> r.sample_index")" 0 \
   "no probe result disagrees with its live transcript's sample_index"
is "$(q "$db" "
SELECT (SELECT md5(string_agg(d::text, '|' ORDER BY d.id)) FROM multisample.definitions d) = definitions
   AND (SELECT md5(string_agg(s::text, '|' ORDER BY s.id)) FROM multisample.scenarios s) = scenarios
   AND (SELECT md5(string_agg(r::text, '|' ORDER BY r.id)) FROM multisample.runs r) = runs
   AND (SELECT md5(string_agg(x::text, '|' ORDER BY x.run_id, x.scenario_id)) FROM multisample.run_scenario_selections x) = selections
  FROM expect.other")" t "definitions, scenarios, runs and selections unchanged row for row"

# ---- a round of 1.1 work on the upgraded database --------------------------
# A legacy pair can grow new samples after its renumbered ones; reusing a
# live sample index is refused.
pair=$(q "$db" "SELECT run_id || '|' || scenario_id || '|' || model_id || '|' || count(*)
                  FROM multisample.transcripts WHERE deleted_at IS NULL
                 GROUP BY run_id, scenario_id, model_id HAVING count(*) >= 3 ORDER BY 1 LIMIT 1")
IFS='|' read -r prun pscn pmod pk <<< "$pair"
check "a legacy pair takes its next sample ($pk) after the upgrade" \
    q "$db" "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
             VALUES ('new-after-upgrade', '$prun', '$pscn', '$pmod', $pk, 3)"
err=$(q "$db" "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
               VALUES ('dup-after-upgrade', '$prun', '$pscn', '$pmod', 1, 3)" 2>&1)
case "$err" in *transcripts_live_sample_key*) ok "a second live transcript for a renumbered sample is refused";;
               *) not_ok "a second live transcript for a renumbered sample is refused"; diag "$err";; esac

if has_function "$db" start_run && has_function "$db" claim_probe_jobs && has_function "$db" complete_probe_job; then
    PYTHONPATH="$REPO/test/lib" "$PY" "$REPO/test/lib/queue_round.py" "$db" def-2 3 \
        && ok "a multi-sample run on a legacy definition is started, claimed and completed" \
        || not_ok "a multi-sample run on a legacy definition is started, claimed and completed"
else
    skip "a multi-sample run on a legacy definition is started, claimed and completed" "queue functions not merged yet"
fi
if has_function "$db" variance_stats; then
    is "$(q "$db" "SELECT (multisample.variance_stats(score)).sample_count = count(score)
                     FROM multisample.transcripts WHERE deleted_at IS NULL")" t \
       "variance_stats runs over all upgraded legacy scores"
else
    skip "variance_stats runs over all upgraded legacy scores" "statistics not merged yet"
fi
finish
