#!/usr/bin/env bash
# sqlsmith campaign: random SQL (sqlsmith, Debian package) against a
# database with the extension and sample data (legacy runs, a multi-sample
# run worked through the queue), a bounded number of queries; zero server
# crashes (sentinel backend + server log). sqlsmith connects as an
# unprivileged role with rights on our tables only, so its random calls
# cannot reach superuser-only functions (files, signals, configuration).
# MULTISAMPLE_LONG=1: 20000 queries instead of 1500.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

command -v sqlsmith >/dev/null || { not_ok "sqlsmith installed (bin/setup-deps test)"; finish; }
db=$(new_db sqlsmith) || { not_ok "create database"; finish; }
q "$db" "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs=4 -d "$db" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null
q "$db" "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null
if has_function "$db" start_run; then
    PYTHONPATH="$REPO/test/lib" "$PY" "$REPO/test/lib/queue_round.py" "$db" def-2 3 >/dev/null
fi

role="ms_smith_$$"
pw=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
q "$db" "CREATE ROLE $role LOGIN PASSWORD '$pw';
         GRANT USAGE ON SCHEMA multisample TO $role;
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA multisample TO $role;" >/dev/null
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $role'"
on_exit "psql -X -q -d '$db' -c 'DROP OWNED BY $role'"

n=1500
[ "$LONG" == 1 ] && n=20000
seed=20261124
crash_watch_start "$db" || not_ok "start the crash sentinel"
tmp=$(mktemp -d)
on_exit "rm -rf '$tmp'"
start=$SECONDS
timeout 600 sqlsmith --target="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=$db user=$role password=$pw" \
    --seed=$seed --max-queries=$n --exclude-catalog --verbose > "$tmp/out" 2> "$tmp/err"
status=$?
secs=$((SECONDS - start))
# sqlsmith's --verbose progress reports "queries: N" and an error histogram.
tried=$(grep -aoE 'queries: [0-9]+' "$tmp/err" "$tmp/out" | tail -1 | grep -oE '[0-9]+$')
diag "sqlsmith exited with status $status after ${secs}s"
grep -aE 'queries:|error' "$tmp/err" | tail -3 | cut -c1-200 | sed 's/^/# /'
grep -aA12 'error rates' "$tmp/err" | head -14 | cut -c1-160 | sed 's/^/# /'
is "${tried:-0}" "$n" "sqlsmith ran $n random queries (seed $seed) as an unprivileged role"
if grep -aqiE 'server closed the connection|terminated abnormally|connection to server .* lost' "$tmp/err" "$tmp/out"; then
    not_ok "sqlsmith saw no lost connection"; grep -aiE -B2 'server closed|abnormally|lost' "$tmp/err" | head | sed 's/^/# /'
else
    ok "sqlsmith saw no lost connection"
fi
queries_mentioning=$(q "$db" "SELECT count(*) FROM pg_proc WHERE pronamespace = 'multisample'::regnamespace")
diag "functions of ours in the catalog sqlsmith draws from: $queries_mentioning"
crash_watch_end "$db" "no server crash during $n sqlsmith queries"
finish
