#!/usr/bin/env bash
# Race campaign (SPEC 12.1; issue 10, items 5 and 6): pause, resume and
# cancel interleaved with claims, completions, retries and lease expiry
# under four worker threads of two roles; 40P01 and 40001 are counted (they
# must not occur at READ COMMITTED), then the final states are checked; and
# each queue and run-control function refuses REPEATABLE READ and
# SERIALIZABLE (25000) without changing anything. See test/lib/race.py.
# MULTISAMPLE_LONG=1: a longer race.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db race) || { not_ok "create database"; finish; }
a="ms_race_a_$$"
b="ms_race_b_$$"
q postgres "CREATE ROLE $a; CREATE ROLE $b" >/dev/null
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $a' -c 'DROP ROLE IF EXISTS $b'"
on_exit "psql -X -q -d '$db' -c 'DROP OWNED BY $a, $b'"
seconds=20
[ "$LONG" = 1 ] && seconds=90
tap_py "$REPO/test/lib/race.py" "$db" "$a" "$b" "$seconds"
finish
