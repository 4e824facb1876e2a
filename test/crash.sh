#!/usr/bin/env bash
# Crash campaign: on a private cluster (initdb in a temporary directory,
# loopback port; the shared cluster is never touched), a run is worked by
# two workers while a third holds claimed jobs and an uncommitted completion;
# its backend is killed with SIGKILL, then the postmaster is. After the
# restart: no committed result lost, the uncommitted one absent, every
# in-flight job claimable again once its lease expired (test/lib/crash.py).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

private_cluster_init || { not_ok "initdb a private cluster"; finish; }
private_cluster_start || { not_ok "start the private cluster"; cat "$PRIV_LOG"; finish; }
ok "private cluster on 127.0.0.1:$PRIV_PORT"
createdb crash || { not_ok "create database"; finish; }
q crash "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v runs=3 -d crash -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null
q crash "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null

start_cmd=("$PGBIN/pg_ctl" -D "$PRIV_DATA" -l "$PRIV_LOG" -w -t 60 start)
[ "$(id -u)" -eq 0 ] && start_cmd=(runuser -u postgres -- "${start_cmd[@]}")
tap_py "$REPO/test/lib/crash.py" crash "$PRIV_DATA" "${start_cmd[@]}"

check "server log shows the backend killed by signal 9" grep -q "terminated by signal 9" "$PRIV_LOG"
check "server log shows crash recovery after the postmaster was killed" \
    grep -qE "database system was interrupted|not properly shut down; automatic recovery in progress" "$PRIV_LOG"
finish
