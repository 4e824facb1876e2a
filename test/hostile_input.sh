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
crash_watch_end "$db" "no server crash during the hostile-input campaign"
finish
