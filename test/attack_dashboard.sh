#!/usr/bin/env bash
# Dashboard attack campaign (SPEC 12.1): a role with SELECT on the views
# only tries to read the tables, the functions that read them and the rows
# the views hide (leaky functions of its own in WHERE and JOIN clauses of
# every view), and to write anything. Outcome: nothing readable beyond the
# views' rows, nothing changed. See test/lib/attack_dashboard.py.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db attack_dashboard) || { not_ok "create database"; finish; }
dash="ms_ad_dashboard_$$"
q postgres "CREATE ROLE $dash" >/dev/null
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $dash'"
on_exit "psql -X -q -d '$db' -c 'DROP OWNED BY $dash'"
tap_py "$REPO/test/lib/attack_dashboard.py" "$db" "$dash"
finish
