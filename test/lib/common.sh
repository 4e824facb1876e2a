# Shared helpers for the test/*.sh drivers (sourced, never run on its own):
# TAP output, throwaway databases dropped on exit, catalog probes, and crash
# detection (a sentinel backend that a crash-restart would kill, plus the
# server log when it can be found).
# shellcheck shell=bash

PY=/usr/bin/python3
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LONG=${MULTISAMPLE_LONG:-0}
TAP_PASSED=0
TAP_FAILED=0
_CLEANUP=()

ok()     { echo "ok - $*"; TAP_PASSED=$((TAP_PASSED + 1)); }
not_ok() { echo "not ok - $*"; TAP_FAILED=$((TAP_FAILED + 1)); }
skip()   { echo "ok - $1 # SKIP $2"; TAP_PASSED=$((TAP_PASSED + 1)); }
diag()   { echo "# $*"; }

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
    local desc=$1; shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# is GOT EXPECTED DESCRIPTION: string equality, showing both on failure.
is() {
    if [ "$1" == "$2" ]; then ok "$3"; else not_ok "$3"; diag "got:      $1"; diag "expected: $2"; fi
}

# finish: prints the tally and exits non-zero when a check failed.
finish() {
    echo "# $TAP_PASSED passed, $TAP_FAILED failed"
    [ "$TAP_FAILED" -eq 0 ] && [ "$TAP_PASSED" -gt 0 ]
    exit $?
}

# on_exit COMMAND: run at exit, last registered first.
on_exit() { _CLEANUP=("$*" "${_CLEANUP[@]}"); }
_run_cleanup() {
    local c
    for c in "${_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
}
trap _run_cleanup EXIT

# q DB SQL: one value (or rows, unaligned, |-separated); stops on error.
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"; }

# new_db PREFIX: creates a database (dropped at exit) and prints its name.
new_db() {
    local name="ms_${1}_$$_${RANDOM}"
    createdb "$name" || return 1
    on_exit "dropdb --if-exists --force '$name'"
    echo "$name"
}

# has_function DB NAME: does schema multisample hold a function of that name?
has_function() {
    [ "$(q "$1" "SELECT count(*) FROM pg_proc WHERE pronamespace = 'multisample'::regnamespace AND proname = '$2'")" -gt 0 ]
}

# has_relation DB NAME: a table or view of that name in schema multisample?
has_relation() {
    [ "$(q "$1" "SELECT count(*) FROM pg_class WHERE relnamespace = 'multisample'::regnamespace AND relname = '$2'")" -gt 0 ]
}

# ---- crash detection --------------------------------------------------------
# A crash of any backend makes the postmaster kill every other backend and
# reinitialise; so a sentinel backend connected before a campaign and still
# there after it proves no crash happened. The server log, when we can find it
# (pg_virtualenv keeps it next to PG_CLUSTER_CONF_ROOT), must also show no
# "terminated by signal" or "reinitializing" lines written during the campaign.
_SENTINEL_PID=""
_SENTINEL_BACKEND=""
_LOG_FILE=""
_LOG_START=0

crash_watch_start() {
    local db=$1 i
    PGAPPNAME="ms_sentinel_$$" psql -X -q -At -d "$db" -c "SELECT pg_catalog.pg_sleep(3600)" >/dev/null 2>&1 &
    _SENTINEL_PID=$!
    on_exit "kill $_SENTINEL_PID"
    for i in $(seq 1 50); do
        _SENTINEL_BACKEND=$(q "$db" "SELECT pid FROM pg_stat_activity WHERE application_name = 'ms_sentinel_$$'")
        [ -n "$_SENTINEL_BACKEND" ] && break
        sleep 0.1
    done
    if [ -n "${PG_CLUSTER_CONF_ROOT:-}" ]; then
        _LOG_FILE=$(ls "$(dirname "$PG_CLUSTER_CONF_ROOT")"/log/*.log 2>/dev/null | head -1)
    fi
    [ -n "$_LOG_FILE" ] && _LOG_START=$(wc -l < "$_LOG_FILE")
    [ -n "$_SENTINEL_BACKEND" ]
}

# crash_watch_end DB DESCRIPTION: one TAP line, ok when nothing crashed.
crash_watch_end() {
    local db=$1 desc=$2 alive crashes=""
    alive=$(q "$db" "SELECT count(*) FROM pg_stat_activity WHERE pid = '$_SENTINEL_BACKEND'" 2>/dev/null)
    if [ -n "$_LOG_FILE" ]; then
        crashes=$(tail -n +"$((_LOG_START + 1))" "$_LOG_FILE" | grep -E 'terminated by signal|exited with exit code|terminating any other active server processes|reinitializing' | head -5)
    fi
    if [ "$alive" == 1 ] && kill -0 "$_SENTINEL_PID" 2>/dev/null && [ -z "$crashes" ]; then
        ok "$desc (sentinel backend survived${_LOG_FILE:+, server log clean})"
    else
        not_ok "$desc"
        diag "sentinel backend alive: ${alive:-no}"
        [ -n "$crashes" ] && echo "$crashes" | sed 's/^/# log: /'
    fi
    q "$db" "SELECT pg_catalog.pg_terminate_backend($_SENTINEL_BACKEND)" >/dev/null 2>&1
    kill "$_SENTINEL_PID" 2>/dev/null
    wait "$_SENTINEL_PID" 2>/dev/null
    true
}

# ---- a private cluster ------------------------------------------------------
# For campaigns that kill the postmaster or preload a sanitizer: initdb in a
# temporary directory (as user postgres when run as root), listening only on
# 127.0.0.1 and a socket in that directory, on a free port, loading the
# extension from wherever the environment's cluster does. Never the shared
# cluster. Sets PRIV_DIR, PRIV_DATA, PRIV_LOG, PRIV_PORT; stopped at exit.
# private_cluster_init [DESTDIR]: load the extension from a private
# `make install DESTDIR=...` instead.
PGBIN=$(pg_config --bindir)
_ENV_PG=(PGHOST="${PGHOST:-}" PGPORT="${PGPORT:-}" PGUSER="${PGUSER:-}" PGPASSWORD="${PGPASSWORD:-}")
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

private_cluster_init() {
    local ext_destdir dynpath
    if [ -n "${1:-}" ]; then
        ext_destdir=$1
        dynpath="$1$(pg_config --pkglibdir):$(pg_config --pkglibdir)"
    else
        ext_destdir=$(env "${_ENV_PG[@]}" psql -X -At -d postgres -c "SHOW extension_destdir")
        dynpath=$(env "${_ENV_PG[@]}" psql -X -At -d postgres -c "SHOW dynamic_library_path")
    fi
    PRIV_DIR=$(mktemp -d /tmp/ms_cluster.XXXXXX)
    on_exit "rm -rf '$PRIV_DIR'"
    PRIV_DATA="$PRIV_DIR/data"
    PRIV_LOG="$PRIV_DIR/server.log"
    PRIV_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PRIV_DIR"
    as_owner "$PGBIN/initdb" -D "$PRIV_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
    cat >> "$PRIV_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PRIV_PORT
unix_socket_directories = '$PRIV_DIR'
extension_destdir = '$ext_destdir'
dynamic_library_path = '$dynpath'
max_connections = 30
shared_buffers = 32MB
fsync = on
restart_after_crash = on
log_min_messages = warning
CONF
    on_exit "private_cluster_stop"
}

# private_cluster_start [ENV=VALUE ...]: starts the server (with those
# environment variables, e.g. LD_PRELOAD) and points PG* at it.
private_cluster_start() {
    as_owner env "$@" "$PGBIN/pg_ctl" -D "$PRIV_DATA" -l "$PRIV_LOG" -w -t 60 start >/dev/null || return 1
    export PGHOST=127.0.0.1 PGPORT=$PRIV_PORT PGUSER=postgres
    unset PGPASSWORD PGDATABASE
}

private_cluster_stop() {
    [ -n "${PRIV_DATA:-}" ] && [ -f "$PRIV_DATA/postmaster.pid" ] &&
        as_owner "$PGBIN/pg_ctl" -D "$PRIV_DATA" -m immediate -w stop >/dev/null 2>&1
    true
}

# postmaster_pid: the private cluster's postmaster, from postmaster.pid.
postmaster_pid() { head -1 "$PRIV_DATA/postmaster.pid" 2>/dev/null; }

# tap_py SCRIPT ARGS...: runs a Python part of a driver (with test/lib on
# PYTHONPATH); its TAP lines count in this driver's tally, and a non-zero
# exit without a "not ok" line counts as one failure.
tap_py() {
    local out status
    out=$(mktemp)
    PYTHONPATH="$REPO/test/lib" "$PY" "$@" | tee "$out"
    status=${PIPESTATUS[0]}
    TAP_PASSED=$((TAP_PASSED + $(grep -cE '^ok\b' "$out")))
    TAP_FAILED=$((TAP_FAILED + $(grep -cE '^not ok\b' "$out")))
    if [ "$status" -ne 0 ] && ! grep -qE '^not ok\b' "$out"; then
        not_ok "$(basename "$1") exited with status $status"
    fi
    rm -f "$out"
}
