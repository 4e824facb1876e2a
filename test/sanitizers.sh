#!/usr/bin/env bash
# Memory-safety campaign, in two parts, each on a private cluster (never the
# shared one), failing on any report that involves our code.
#
# 1. UndefinedBehaviorSanitizer: the extension is built with
#    -fsanitize=undefined,float-cast-overflow into a private DESTDIR, the
#    server runs with libubsan preloaded (halt_on_error) and loads the
#    extension from there; pg_regress and a short hostile-input pass run
#    against it. Catches signed overflow, bad shifts, misaligned access,
#    out-of-range float-to-integer casts, NULL dereference in our code.
# 2. valgrind memcheck: the server (the extension as installed for this
#    run) runs under valgrind --trace-children=yes; pg_regress runs against
#    it; every error report whose stack passes through multisample.so fails
#    the campaign (PostgreSQL's own, uninstrumented, writes of padding bytes
#    and the like are shown as counts only).
#
# Why not AddressSanitizer: with ASan preloaded into Debian's (uninstrumented)
# postgres binary, the server deadlocks before main() finishes, inside
# glibc's bindtextdomain (_nl_state_lock), so ASan cannot run here; valgrind
# takes its place for invalid reads and writes and uninitialised values.
# Limit of both: palloc chunks are carved out of large malloc blocks, so an
# overrun that stays inside a memory-context block is invisible without a
# PostgreSQL built with USE_VALGRIND.
# The default run does part 1 (about 40 s); MULTISAMPLE_LONG=1 adds part 2
# (about 2-3 minutes on 2 cores).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

tmp=$(mktemp -d /tmp/ms_sanitize.XXXXXX)
chmod 755 "$tmp"
on_exit "rm -rf '$tmp'"
libdir=$(pg_config --pkglibdir)
ubsan=$(gcc -print-file-name=libubsan.so)
[ -e "$ubsan" ] || { not_ok "gcc's libubsan found"; finish; }

# regress DIR LABEL: pg_regress from a copy of the tree (results/ stay there).
regress() {
    if make -C "$1" installcheck > "$1/regress.log" 2>&1; then
        ok "$2: pg_regress suite passes ($(grep -cE '\.\.\. +ok' "$1/regress.log") tests)"
    else
        not_ok "$2: pg_regress suite passes"
        grep -E '\.\.\. ' "$1/regress.log" | sed 's/^/# /'
        head -40 "$1/regression.diffs" 2>/dev/null | sed 's/^/# /'
    fi
}
# hostile DB LABEL ARGS...: a hostile-input pass (test/lib/hostile.py).
hostile() {
    local db=$1 label=$2; shift 2
    createdb "$db"
    q "$db" "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.0'" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -v runs=2 -d "$db" -f "$REPO/test/sql/legacy_1_0_data.sql" >/dev/null
    q "$db" "SET client_min_messages = error; ALTER EXTENSION multisample UPDATE" >/dev/null
    if PYTHONPATH="$REPO/test/lib" "$PY" "$REPO/test/lib/hostile.py" "$db" "$@" > "$tmp/$db.log" 2>&1; then
        ok "$label: hostile-input pass ($(sed -n 's/^# hostile calls: \([0-9]*\).*/\1/p' "$tmp/$db.log") calls) passes"
    else
        not_ok "$label: hostile-input pass"; grep -A3 '^not ok' "$tmp/$db.log" | head -30 | sed 's/^/# /'
    fi
}

mkdir -p "$tmp/src"
(cd "$REPO" && tar --exclude=./.inst --exclude=./results --exclude=./test/output --exclude=./.git \
    --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - .) | tar -C "$tmp/src" -xf -

# ---- 1. UBSan ----------------------------------------------------------------
flags="-fsanitize=undefined -fsanitize=float-cast-overflow -fno-omit-frame-pointer -g"
mkdir -p "$tmp/inst" "$tmp/reports"
chmod 777 "$tmp/reports"
if make -C "$tmp/src" WERROR=1 COPT="$flags" > "$tmp/build.log" 2>&1 &&
   make -C "$tmp/src" install DESTDIR="$tmp/inst" COPT="$flags" >> "$tmp/build.log" 2>&1; then
    ok "extension builds with $flags (-Werror)"
else
    not_ok "extension builds with UBSan"; tail -20 "$tmp/build.log" | sed 's/^/# /'; finish
fi
so="$tmp/inst$libdir/multisample.so"
check "the private build is instrumented (links libubsan)" bash -c "ldd '$so' | grep -q libubsan"

private_cluster_init "$tmp/inst" || { not_ok "initdb a private cluster"; finish; }
if private_cluster_start LD_PRELOAD="$ubsan" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$tmp/reports/ubsan"; then
    ok "UBSan: private cluster with libubsan preloaded on 127.0.0.1:$PRIV_PORT"
else
    not_ok "UBSan: start the cluster"; tail -20 "$PRIV_LOG" | sed 's/^/# /'; finish
fi
createdb sancheck
q sancheck "CREATE EXTENSION multisample" >/dev/null
check "UBSan: a backend runs the instrumented multisample.so from the private install" \
    test "$(q sancheck "LOAD 'multisample'; SELECT strpos(pg_read_file('/proc/self/maps'), '$so') > 0" | tail -1)" == t
diag "UBSan: built and started after ${SECONDS}s"
regress "$tmp/src" "UBSan"
diag "UBSan: pg_regress done after ${SECONDS}s"
hostile sanhostile "UBSan" --only-c --random 300 --timeout 60
diag "UBSan: hostile input done after ${SECONDS}s"
reports=$(ls "$tmp/reports" 2>/dev/null)
if [ -z "$reports" ] && ! grep -qE "runtime error:|terminated by signal" "$PRIV_LOG"; then
    ok "UBSan: no undefined-behaviour report, no backend killed by a signal"
else
    not_ok "UBSan: no undefined-behaviour report"
    for f in $reports; do head -30 "$tmp/reports/$f" | sed 's/^/# /'; done
    grep -E -A10 "runtime error:|terminated by signal" "$PRIV_LOG" | head -30 | sed 's/^/# /'
fi
private_cluster_stop

# ---- 2. valgrind (long variant only: about two minutes here) -----------------
if [ "$LONG" != 1 ]; then
    skip "valgrind: pg_regress and hostile input under memcheck" "MULTISAMPLE_LONG=1 runs it (about 2-3 minutes)"
    finish
fi
if ! command -v valgrind >/dev/null; then not_ok "valgrind installed (bin/setup-deps test)"; finish; fi
private_cluster_init || { not_ok "initdb a private cluster for valgrind"; finish; }
mkdir -p "$tmp/vg"
chmod 777 "$tmp/vg"
as_owner valgrind --quiet --trace-children=yes --leak-check=no --track-origins=no --num-callers=30 \
    --read-var-info=no --error-limit=no --log-file="$tmp/vg/vg.%p.log" \
    "$PGBIN/postgres" -D "$PRIV_DATA" > "$PRIV_LOG" 2>&1 &
vg_pid=$!
on_exit "kill $vg_pid"
export PGHOST=127.0.0.1 PGPORT=$PRIV_PORT PGUSER=postgres
unset PGPASSWORD PGDATABASE
for _ in $(seq 1 240); do pg_isready -q && break; sleep 0.5; done
if pg_isready -q; then ok "valgrind: server running under valgrind memcheck on 127.0.0.1:$PRIV_PORT"; else
    not_ok "valgrind: server starts under valgrind"; tail -20 "$PRIV_LOG" | sed 's/^/# /'; finish; fi
createdb vgcheck
check "valgrind: a backend runs under memcheck with multisample.so loaded" \
    test "$(q vgcheck "LOAD 'multisample'; SELECT strpos(pg_read_file('/proc/self/maps'), 'vgpreload_memcheck') > 0
                       AND strpos(pg_read_file('/proc/self/maps'), 'multisample.so') > 0" | tail -1)" == t
make -C "$tmp/src" clean >/dev/null 2>&1
diag "valgrind: server up after ${SECONDS}s"
regress "$tmp/src" "valgrind"
diag "valgrind: pg_regress done after ${SECONDS}s"
hostile vghostile "valgrind" --only-c --random 200 --timeout 300
as_owner "$PGBIN/pg_ctl" -D "$PRIV_DATA" -m fast -w -t 120 stop >/dev/null 2>&1
wait "$vg_pid" 2>/dev/null

# Error blocks: "==pid== <kind>" followed by stack lines up to a blank "==pid==".
"$PY" - "$tmp/vg" <<'PY'
import glob, re, sys
ours, other, kinds, shown = [], 0, {}, []
for path in glob.glob(sys.argv[1] + "/vg.*.log"):
    text = open(path, errors="replace").read()
    for block in re.split(r"\n==\d+== \n", text):
        lines = [l.split("== ", 1)[-1] for l in block.splitlines() if l.startswith("==")]
        if not lines or not re.match(r"(Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)", lines[0]):
            continue
        if any("multisample" in l for l in lines):
            ours.append("\n".join(lines[:14]))
        else:
            other += 1
            kinds[lines[0][:60]] = kinds.get(lines[0][:60], 0) + 1
            if not lines[0].startswith("Syscall param"):
                shown.append("\n".join(lines[:6]))
for k, v in sorted(kinds.items()):
    print(f"# valgrind report outside our code (PostgreSQL itself): {v} x {k}")
for b in shown[:2]:
    print("\n".join("#   " + l for l in b.splitlines()))
if ours:
    print(f"not ok - valgrind: no invalid access or uninitialised value in multisample.so ({len(ours)} reports)")
    for b in ours[:5]:
        print("\n".join("#   " + l for l in b.splitlines()))
    sys.exit(1)
print(f"ok - valgrind: no invalid access or uninitialised value in multisample.so "
      f"({len(glob.glob(sys.argv[1] + '/vg.*.log'))} processes traced)")
PY
[ $? -eq 0 ] || TAP_FAILED=$((TAP_FAILED + 1))
finish
