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
# trusted = true: a database owner without superuser installs the extension.
owner="ms_owner_$suffix"
pw=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
q postgres "CREATE ROLE $owner LOGIN PASSWORD '$pw'" >/dev/null
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $owner'"
owned=$(new_db owned)
q postgres "ALTER DATABASE $owned OWNER TO $owner" >/dev/null
if PGUSER=$owner PGPASSWORD=$pw psql -X -q -v ON_ERROR_STOP=1 -d "$owned" \
        -c "SET client_min_messages = error; CREATE EXTENSION multisample" 2>/dev/null; then
    ok "a database owner without superuser installs the extension (trusted = true)"
    is "$(q "$owned" "SELECT e.extowner::regrole::text || ' ' || (SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'multisample'::regnamespace AND c.relowner <> 10)
                       FROM pg_extension e WHERE e.extname = 'multisample'")" "$owner 0" \
       "the installing role owns the extension; its tables and views belong to the bootstrap superuser"
    # The installing role can use what it installed and pass rights on.
    out=$(PGUSER=$owner PGPASSWORD=$pw psql -X -q -At -v ON_ERROR_STOP=1 -d "$owned" 2>&1 <<'SQL'
INSERT INTO multisample.definitions (id, name) VALUES ('own-def', 'owned');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES ('own-s1', 'own-def', 's1'), ('own-s2', 'own-def', 's2');
SELECT job_count FROM multisample.start_run('own-def', ARRAY['m1'], samples_per_scenario => 2);
SELECT count(*) FROM multisample.run_progress;
SQL
)
    is "$out" "$(printf '4\n1')" "the installing role writes definitions, starts a run and reads the progress view"
    # CREATE ROLE needs CREATEROLE; the grants are what the owner must be able to give.
    grants_only=$(awk '/<!-- security and privileges -->/{f=1} f&&/^```sql/{g=1;next} g&&/^```/{exit} g' "$REPO/README.md" |
        grep -v '^CREATE ROLE' | sed -E "s/\b(dashboard|worker)\b/\1_o$suffix/g")
    q postgres "CREATE ROLE dashboard_o$suffix; CREATE ROLE worker_o$suffix" >/dev/null
    on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS dashboard_o$suffix' -c 'DROP ROLE IF EXISTS worker_o$suffix'"
    on_exit "psql -X -q -d '$owned' -c 'DROP OWNED BY dashboard_o$suffix, worker_o$suffix'"
    if echo "$grants_only" | PGUSER=$owner PGPASSWORD=$pw psql -X -q -v ON_ERROR_STOP=1 -d "$owned" >/dev/null 2>&1; then
        ok "the installing role can give the README recipe's rights to a dashboard and a worker role"
    else
        not_ok "the installing role can give the README recipe's rights to a dashboard and a worker role"
        echo "$grants_only" | PGUSER=$owner PGPASSWORD=$pw psql -X -q -v ON_ERROR_STOP=1 -d "$owned" 2>&1 | sed 's/^/# /' | head -5
    fi
else
    not_ok "a database owner without superuser installs the extension (trusted = true)"
    PGUSER=$owner PGPASSWORD=$pw psql -X -q -d "$owned" -c "CREATE EXTENSION multisample" 2>&1 | sed 's/^/# /' | head -3
fi

if has_function "$db" claim_probe_jobs; then
    tap_py "$REPO/test/lib/privileges.py" "$db" "$REPO/README.md" "$suffix"
else
    skip "least-privilege recipe" "queue not merged yet"
fi
finish
