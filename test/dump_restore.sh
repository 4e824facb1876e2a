#!/usr/bin/env bash
# pg_dump / pg_restore campaign: a database whose extension was created at
# 1.0, filled with legacy data, upgraded to 1.1 and then given 1.1 data
# (multi-sample transcripts, prices, runs with jobs being worked) is dumped
# in custom format and restored into a new database, and dumped as plain SQL
# and replayed into another. Proves every row of every extension table comes
# back (count and checksum of each table's rows), sequences too, and that the
# queue still works in the restored database.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

src=$(new_db dump_src) || { not_ok "create database"; finish; }
tmp=$(mktemp -d)
on_exit "rm -rf '$tmp'"

q "$src" "CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs=20 -d "$src" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null \
    || { not_ok "load 1.0 data"; finish; }
q "$src" "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null \
    || { not_ok "upgrade to 1.1"; finish; }

# 1.1 data: a multi-sample run written directly ...
psql -X -q -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL' || { not_ok "load 1.1 data"; finish; }
INSERT INTO multisample.runs (id, definition_id, status, config)
VALUES ('dump-run', 'def-1', 'COMPLETED', '{"models": ["model-a", "model-b"], "samplesPerScenario": 4, "samplePercentage": 100}');
INSERT INTO multisample.run_scenario_selections
SELECT 'dump-run', id FROM multisample.scenarios WHERE definition_id = 'def-1' AND deleted_at IS NULL;
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, content, score, decision_text)
SELECT format('dump-%s-%s-%s', s.scenario_id, m, i), 'dump-run', s.scenario_id, m, i,
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'text', E'ünïcødé \\ "q" \t tab ' || i)),
       CASE WHEN i = 3 THEN NULL ELSE (i * 7 + length(s.scenario_id)) % 5 + 1 END,
       E'line one\nline two, "quoted"'
  FROM multisample.run_scenario_selections s,
       (VALUES ('model-a'), ('model-b')) AS mm(m), generate_series(0, 3) AS i
 WHERE s.run_id = 'dump-run';
INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status, transcript_id)
SELECT run_id, scenario_id, model_id, sample_index, 'SUCCESS', id
  FROM multisample.transcripts WHERE run_id = 'dump-run';
SQL
# ... and, once the queue exists, prices and token statistics and a run
# started through start_run with some jobs completed and some claimed.
if has_relation "$src" model_pricing; then
    q "$src" "INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million)
              VALUES ('model-a', 2.5, 10), ('model-b', 0.15, 0.6)" >/dev/null
fi
if has_relation "$src" model_token_statistics; then
    q "$src" "INSERT INTO multisample.model_token_statistics (model_id, definition_id, avg_input_tokens, avg_output_tokens, probe_count)
              VALUES ('model-a', '', 120.5, 880.25, 400), ('model-a', 'def-3', 99, 701, 12), ('model-b', '', 130, 950, 0)" >/dev/null
fi
if has_function "$src" start_run; then
    PYTHONPATH="$REPO/test/lib" "$PY" "$REPO/test/lib/queue_round.py" "$src" def-3 3 --leave-some \
        || not_ok "start and partly work a run through the queue"
fi
# ... and a plan per pair with the request that wrote it (adaptive sampling).
if has_function "$src" add_samples; then
    q "$src" "SELECT count(*) FROM multisample.add_samples('dump-run', 5, request_id => 'dump-request')" >/dev/null \
        || not_ok "add samples to a run"
fi

# checksums DB: "table count md5" per extension table, plus sequence values.
checksums() {
    q "$1" "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'multisample'::regnamespace
             AND c.relkind IN ('r', 'p') ORDER BY 1" | while read -r t; do
        q "$1" "SELECT '$t', count(*), coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '-')
                  FROM multisample.$t AS x"
    done
    q "$1" "SELECT c.relname, 'sequence', pg_sequence_last_value(c.oid) FROM pg_class c
             WHERE c.relnamespace = 'multisample'::regnamespace AND c.relkind = 'S' ORDER BY 1"
}
checksums "$src" > "$tmp/src.sums"
diag "source tables: $(tr '\n' ' ' < "$tmp/src.sums" | sed 's/|[0-9a-f]\{32\}//g')"

empty=$(awk -F'|' '$2 == 0 {print $1}' "$tmp/src.sums" | tr '\n' ' ')
is "$empty" "" "every extension table holds rows before the dump"
unregistered=$(q "$src" "SELECT string_agg(c.relname, ' ') FROM pg_class c
    WHERE c.relnamespace = 'multisample'::regnamespace AND c.relkind IN ('r', 'p', 'S')
      AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'multisample')::oid[])")
is "$unregistered" "" "every extension table and sequence is registered with pg_extension_config_dump"

compare() {  # compare LABEL DB
    checksums "$2" > "$tmp/$1.sums"
    if diff "$tmp/src.sums" "$tmp/$1.sums" > "$tmp/$1.diff"; then
        ok "$1: every table has the same row count and row checksum ($(wc -l < "$tmp/src.sums") tables/sequences)"
    else
        not_ok "$1: every table has the same row count and row checksum"
        sed 's/^/# /' "$tmp/$1.diff"
    fi
    is "$(q "$2" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")" \
       "$(q "$src" "SELECT extversion FROM pg_extension WHERE extname = 'multisample'")" "$1: same extension version"
    is "$(q "$2" "SELECT count(*) FROM multisample.transcripts t JOIN multisample.probe_results r
                    ON r.run_id = t.run_id AND r.transcript_id = t.id WHERE r.sample_index <> t.sample_index")" 0 \
       "$1: probe results still match their transcripts' sample_index"
    if has_function "$2" claim_probe_jobs && has_function "$2" complete_probe_job; then
        PYTHONPATH="$REPO/test/lib" "$PY" "$REPO/test/lib/queue_round.py" "$2" def-4 2 \
            && ok "$1: the queue works after the restore (start, claim, complete)" \
            || not_ok "$1: the queue works after the restore (start, claim, complete)"
    else
        skip "$1: the queue works after the restore" "queue not merged yet"
    fi
}

if pg_dump -Fc -f "$tmp/db.dump" "$src" 2> "$tmp/dump.err"; then
    ok "pg_dump -Fc succeeds"
    dst=$(new_db dump_dst)
    if pg_restore --exit-on-error -d "$dst" "$tmp/db.dump" 2> "$tmp/restore.err"; then
        ok "pg_restore into a new database succeeds without errors"
        compare "custom format" "$dst"
    else
        not_ok "pg_restore into a new database succeeds without errors"; sed 's/^/# /' "$tmp/restore.err" | head -20
    fi
else
    not_ok "pg_dump -Fc succeeds"; sed 's/^/# /' "$tmp/dump.err" | head -20
fi

if pg_dump -Fp -f "$tmp/db.sql" "$src" 2> "$tmp/dump.err"; then
    dst2=$(new_db dump_plain)
    if psql -X -q -v ON_ERROR_STOP=1 -d "$dst2" -f "$tmp/db.sql" > /dev/null 2> "$tmp/plain.err"; then
        ok "plain-SQL dump replays into a new database without errors"
        compare "plain SQL" "$dst2"
    else
        not_ok "plain-SQL dump replays into a new database without errors"; sed 's/^/# /' "$tmp/plain.err" | head -20
    fi
else
    not_ok "pg_dump -Fp succeeds"; sed 's/^/# /' "$tmp/dump.err" | head -20
fi
finish
