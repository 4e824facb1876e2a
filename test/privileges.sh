#!/usr/bin/env bash
# Least privilege (SPEC 8): applies the README's recipe for a dashboard and a
# worker role (plus a second worker role built the same way) and proves that
# the dashboard reads the views and nothing else, and that a worker claims,
# completes and fails jobs but cannot change runs, prices or another worker
# role's lease; every attempt outside its rights fails with 42501 or changes
# no row (test/lib/privileges.py).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db privileges) || { not_ok "create database"; finish; }
q "$db" "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs=2 -d "$db" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null
q "$db" "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null
suffix="t$$"
on_exit "for r in \$(psql -X -At -d postgres -c \"SELECT rolname FROM pg_roles WHERE rolname LIKE '%_$suffix' OR rolname LIKE '%_${suffix}2'\"); do psql -X -q -d '$db' -c \"DROP OWNED BY \$r\"; psql -X -q -d postgres -c \"DROP ROLE \$r\"; done"
if has_function "$db" claim_probe_jobs; then
    tap_py "$REPO/test/lib/privileges.py" "$db" "$REPO/README.md" "$suffix"
else
    skip "least-privilege recipe" "queue not merged yet"
fi
finish
