#!/usr/bin/env bash
# Installer attack campaign (SPEC 12.1; issue 10, items 1 and 2): a database
# owner without superuser installs the extension (trusted = true; it logs in
# with a password over loopback) and tries every way to another role's
# rights: triggers, the schema (renamed, taken, pre-created, added to),
# planted functions and operators with a hostile search_path, GRANT OPTIONs,
# and its own update from a 1.1 install it prepared. Everything planted
# records who ran it; the outcome is that nothing planted ever ran as another
# role and the installer's rights did not grow. See
# test/lib/attack_installer.py.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

sfx="$$"
inst="ms_ai_installer_$sfx"
accomplice="ms_ai_accomplice_$sfx"
third="ms_ai_third_$sfx"
pw=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
q postgres "CREATE ROLE $inst LOGIN PASSWORD '$pw'; CREATE ROLE $accomplice; CREATE ROLE $third" >/dev/null
on_exit "psql -X -q -d postgres -c 'DROP ROLE IF EXISTS $inst' -c 'DROP ROLE IF EXISTS $accomplice' -c 'DROP ROLE IF EXISTS $third'"
dbs=()
for part in a b c d; do
    d=$(new_db "attack_installer_$part") || { not_ok "create database"; finish; }
    q postgres "ALTER DATABASE $d OWNER TO $inst" >/dev/null
    dbs+=("$d")
done
# (the databases go first at exit: they hold what the roles own)
on_exit "for d in ${dbs[*]}; do dropdb --if-exists --force \$d; done"
tap_py "$REPO/test/lib/attack_installer.py" "${dbs[@]}" "$inst" "$pw" "$accomplice" "$third"
finish
