#!/usr/bin/env bash
# Hostile-input campaign (SPEC 7): every SQL function of schema multisample,
# discovered from pg_proc, gets NULLs, empty / NULL-holding / 2-D / huge
# arrays, extreme and non-finite numbers, forged aggregate states, odd JSON,
# very long strings and odd bytes, then seeded random argument values (see
# test/lib/hostile.py). Every call must answer or fail with a clear error,
# and the server must not crash (sentinel backend + server log).
# MULTISAMPLE_LONG=1: 30000 random calls instead of 1500.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db hostile) || { not_ok "create database"; finish; }
q "$db" "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs=3 -d "$db" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null
q "$db" "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null
crash_watch_start "$db" || not_ok "start the crash sentinel"

n=1500
[ "$LONG" == 1 ] && n=30000
tap_py "$REPO/test/lib/hostile.py" "$db" --random "$n"
# Scenario dimension names become CSV columns through dynamic SQL in
# export_run_csv: names built to break out of a literal or an identifier
# must come back as plain header text, and nothing else may run.
if has_function "$db" export_run_csv; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
INSERT INTO multisample.definitions (id, name) VALUES ('def-inject', 'injection');
INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES
    ('scn-inject', 'def-inject', 'x', jsonb_build_object('dimensions', jsonb_build_object(
        $$a'); DROP TABLE multisample.runs; --$$, 1, 'b") FROM pg_roles; --', 2, 'c\', 3, '%s%1$s', 4, 'ü😀', 5)));
INSERT INTO multisample.runs (id, definition_id) VALUES ('run-inject', 'def-inject');
INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score)
VALUES ('t-inject', 'run-inject', 'scn-inject', 'm', 0, 1);
SQL
    header=$(q "$db" "SELECT * FROM multisample.export_run_csv('run-inject') LIMIT 1" 2>&1)
    expected=$("$PY" - <<'PY'
import csv, io
names = sorted(["a'); DROP TABLE multisample.runs; --", 'b") FROM pg_roles; --', "c\\", "%s%1$s", "\u00fc\U0001F600"],
               key=lambda n: n.encode())
out = io.StringIO()
csv.writer(out, lineterminator="").writerow(["AI Model Name", "Sample Index"] + names
                                            + ["Decision Code", "Decision Text", "Transcript ID", "Target Response"])
print(out.getvalue())
PY
)
    is "$header" "$expected" "export_run_csv: hostile dimension names come back as quoted header text (no SQL injection)"
    is "$(q "$db" "SELECT count(*) > 0 FROM multisample.runs")" t "export_run_csv: the runs table is still there"
fi
crash_watch_end "$db" "no server crash during the hostile-input campaign"
finish
