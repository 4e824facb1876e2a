#!/usr/bin/env bash
# Hostile search_path (SPEC 8): a schema of look-alike functions, aggregates,
# operators and tables placed first in search_path changes no result of any
# of our functions, aggregates or views (test/lib/search_path.py); every SQL
# and PL/pgSQL function fixes its search_path; none is SECURITY DEFINER.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db search_path) || { not_ok "create database"; finish; }
q "$db" "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs=4 -d "$db" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null
q "$db" "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null
if has_function "$db" start_run; then
    PYTHONPATH="$REPO/test/lib" "$PY" "$REPO/test/lib/queue_round.py" "$db" def-1 3 >/dev/null \
        || not_ok "a multi-sample run to read"
fi
tap_py "$REPO/test/lib/search_path.py" "$db"
finish
