#!/usr/bin/env bash
# Worker attack campaign (SPEC 12.1; issue 10, items 3 and 4): a worker role
# of the README's least-privilege recipe tries to wedge, starve or corrupt
# other workers' jobs and runs, by its own UPDATEs and INSERTs and through the
# functions; honest workers of two other roles then work every run off. The
# outcome is checked (every run completes, one outcome per sample, no honest
# call raised, nothing of other runs changed, the attacker's rights the same),
# not only the errors. Part two: the attacks 1.1 allowed, then the upgrade.
# See test/lib/attack_worker.py.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

db=$(new_db attack_worker) || { not_ok "create database"; finish; }
db11=$(new_db attack_worker11) || { not_ok "create database"; finish; }
sfx="$$"
roles=("ms_aw_attacker_$sfx" "ms_aw_honest1_$sfx" "ms_aw_honest2_$sfx")
for r in "${roles[@]}"; do
    q postgres "CREATE ROLE $r" >/dev/null
    on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $r'"
done
all_roles=$(IFS=,; echo "${roles[*]}")
on_exit "for d in $db $db11; do psql -X -q -d \$d -c \"DROP OWNED BY $all_roles\"; done"
tap_py "$REPO/test/lib/attack_worker.py" "$db" "$db11" "${roles[@]}"
finish
