# bench/lib.bash — shared helpers for the comparison scripts in bench/.
#
# Source it from a bench script that runs inside a cluster environment
# (PGHOST, PGPORT, PGUSER, PGPASSWORD set, PGUSER a superuser, the extension
# installed). Every comparison prints one TSV line on stdout:
#
#   comparison <TAB> baseline <TAB> ours <TAB> ratio <TAB> target <TAB> met
#
# Targets are written "<=X" (ratio = ours / baseline, lower is better) or
# ">=X" (ratio = baseline / ours, a speed-up, higher is better). Progress and
# details go to stderr, which bench/run keeps in bench/output/<script>.log.
#
# Settings from the environment:
#   BENCH_ROUNDS  timed rounds per comparison, interleaved (default 5)
#   BENCH_SCALE   multiplies the data sizes (default 1; the targets of SPEC
#                 section 10 are stated for 1)

set -euo pipefail
shopt -s extglob

BENCH_ROUNDS=${BENCH_ROUNDS:-5}
BENCH_SCALE=${BENCH_SCALE:-1}
BENCH_PYTHON=/usr/bin/python3

# bench_log MESSAGE: a progress line on stderr.
bench_log() {
    printf '# %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

# bench_scaled N: N times BENCH_SCALE, rounded, at least 1.
bench_scaled() {
    awk -v n="$1" -v s="$BENCH_SCALE" 'BEGIN { v = int(n * s + 0.5); print (v < 1 ? 1 : v) }'
}

# bench_count N: N for a label (10M, 100k, 999).
bench_count() {
    awk -v n="$1" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) print n / 1e6 "M"; else if (n >= 1e3 && n % 1e3 == 0) print n / 1e3 "k"; else print n }'
}

# bench_psql ARGS...: psql on the benchmark database, stopping at the first error.
bench_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$BENCH_DB" "$@"
}

# bench_value SQL: the single value a query returns.
bench_value() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$BENCH_DB" -c "$1"
}

# bench_create_db NAME: a fresh database with the extension; dropped on exit.
bench_create_db() {
    BENCH_DB=$1
    dropdb --if-exists "$BENCH_DB" 2>/dev/null
    createdb "$BENCH_DB"
    bench_psql -c 'CREATE EXTENSION multisample'
    trap 'dropdb --if-exists "$BENCH_DB" >/dev/null 2>&1 || true' EXIT
}

# bench_has_function NAME: true when multisample.NAME exists.
bench_has_function() {
    [ "$(bench_value "SELECT count(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'multisample' AND p.proname = '$1'")" != 0 ]
}

# bench_drain SCRIPT JOBS CLIENTS: pgbench on $BENCH_DB with CLIENTS clients
# until JOBS transactions of SCRIPT (one job each) are done; prints jobs/s.
# Returns 1 when a client found no job or got an unexpected outcome (the
# script divides by zero then), or not every transaction ran.
bench_drain() {
    local out
    if ! out=$(pgbench -n -M prepared -c "$3" -j 2 -t $(($2 / $3)) -f "$1" "$BENCH_DB" 2>&1); then
        printf '%s\n' "$out" | tail -20 | sed 's/^/#   /' >&2
        bench_log "pgbench failed on $BENCH_DB: some client found no job or got an unexpected outcome"
        return 1
    fi
    printf '%s\n' "$out" | grep -E '^(number of (transactions|failed)|latency average|tps)' | sed 's/^/#   /' >&2
    printf '%s\n' "$out" | grep -q "^number of transactions actually processed: $2/$2\$" || {
        bench_log "pgbench did not process all $2 transactions on $BENCH_DB"; return 1; }
    printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p'
}

# bench_citus: Citus for a bench script that starts its own cluster (it
# sources test/lib/common.sh and test/lib/citus.sh first): built from
# ../shared/vendor/ and cached, or installed. Without it, prints an
# informational line saying so and exits 0.
bench_citus() {
    if ! citus_locate; then
        bench_log "Citus is not available: $CITUS_MISSING"
        printf 'Citus not available here: nothing measured\t0\t0\t0\t-\t-\n'
        exit 0
    fi
}

# bench_median: the median of the numbers on stdin, one a line.
bench_median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_emit NAME BASELINE OURS TARGET [info]: computes the ratio the target
# is phrased in, decides whether it is met and prints the TSV line. With
# "info", the line is informational: the ratio is computed the same way but
# target and met are printed as "-".
bench_emit() {
    local name=$1 base=$2 ours=$3 target=$4 info=${5:-}
    awk -v name="$name" -v b="$base" -v o="$ours" -v t="$target" -v info="$info" 'BEGIN {
        op = substr(t, 1, 2); lim = substr(t, 3) + 0
        if (op == "<=") { r = (b > 0) ? o / b : 0; met = (r <= lim) }
        else if (op == ">=") { r = (o > 0) ? b / o : 0; met = (r >= lim) }
        else { print "bench_emit: bad target " t > "/dev/stderr"; exit 2 }
        if (info != "") printf "%s\t%.1f\t%.1f\t%.3f\t-\t-\n", name, b, o, r
        else printf "%s\t%.1f\t%.1f\t%.3f\t%s\t%s\n", name, b, o, r, t, (met ? "yes" : "no")
    }'
}

# bench_time_pair NAME TARGET SETUP BASELINE_SQL OURS_SQL [info]
# Times two statements in one session: SETUP first (SET commands and the
# like, untimed), one untimed warm-up of each, then BENCH_ROUNDS rounds that
# alternate which of the two goes first (AB, BA, AB ...). Prints the TSV line
# with the medians in milliseconds (informational with "info", see
# bench_emit). Statements are given without the final
# semicolon. The statements' results are discarded;
# wrap a large result in count(*) so that the client does not time transfer.
bench_time_pair() {
    local name=$1 target=$2 setup=$3 base_sql=$4 ours_sql=$5 info=${6:-}
    local script times r base ours
    base_sql="${base_sql%%*([[:space:];])};"
    ours_sql="${ours_sql%%*([[:space:];])};"
    [ -z "$setup" ] || setup="${setup%%*([[:space:];])};"
    script=$(mktemp)
    {
        printf '%s\n' "$setup"
        printf '\\o /dev/null\n'
        printf '%s\n%s\n' "$base_sql" "$ours_sql"
        printf '\\timing on\n'
        for ((r = 1; r <= BENCH_ROUNDS; r++)); do
            if ((r % 2)); then
                printf '\\echo @base\n%s\n\\echo @ours\n%s\n' "$base_sql" "$ours_sql"
            else
                printf '\\echo @ours\n%s\n\\echo @base\n%s\n' "$ours_sql" "$base_sql"
            fi
        done
    } > "$script"
    bench_log "timing: $name ($BENCH_ROUNDS rounds)"
    times=$(bench_psql -f "$script")
    rm -f "$script"
    printf '%s\n' "$times" | awk '/^@/ { k = $1 } /^Time:/ { print k, $2 }' | sed 's/^/#   /' >&2
    base=$(printf '%s\n' "$times" | awk '/^@/ { k = $1 } /^Time:/ && k == "@base" { print $2 }' | bench_median)
    ours=$(printf '%s\n' "$times" | awk '/^@/ { k = $1 } /^Time:/ && k == "@ours" { print $2 }' | bench_median)
    bench_emit "$name" "$base" "$ours" "$target" "$info"
}

# bench_cpu_pair NAME TARGET SETUP BASELINE_SQL OURS_SQL [info]: like
# bench_time_pair (one untimed warm-up each, then BENCH_ROUNDS rounds
# alternating AB, BA ...), but measures the backend's CPU time in ms
# (utime + stime from /proc/self/stat, read with pg_read_file: superuser), so
# that other load on a shared machine does not decide the ratio. With
# "info", the line is informational (see bench_emit). With
# BENCH_CPU_USER_ONLY=1, only the user time counts (not the kernel's, e.g.
# page faults).
bench_cpu_pair() {
    local name=$1 target=$2 setup=$3 base_sql=$4 ours_sql=$5 info=${6:-} script times r side sql base ours
    local system=1
    [ -z "${BENCH_CPU_USER_ONLY:-}" ] || system=0
    script=$(mktemp)
    {
        printf '%s;\n' "$setup"
        printf 'CREATE FUNCTION pg_temp.cpu_ms() RETURNS bigint LANGUAGE sql AS $$ SELECT (pg_catalog.split_part(s, %s, 14)::bigint + %s * pg_catalog.split_part(s, %s, 15)::bigint) * 1000 / %s FROM pg_catalog.pg_read_file(%s) AS s $$;\n' \
            "' '" "$system" "' '" "$(getconf CLK_TCK)" "'/proc/self/stat'"
        printf '\\o /dev/null\n%s;\n%s;\n\\o\n' "$base_sql" "$ours_sql"
        for ((r = 1; r <= BENCH_ROUNDS; r++)); do
            for side in $( ((r % 2)) && echo base ours || echo ours base); do
                sql=$([ "$side" = base ] && printf '%s' "$base_sql" || printf '%s' "$ours_sql")
                printf 'SELECT pg_temp.cpu_ms() AS c0 \\gset\n\\o /dev/null\n%s;\n\\o\n' "$sql"
                printf "SELECT '@%s', pg_temp.cpu_ms() - :c0;\n" "$side"
            done
        done
    } > "$script"
    bench_log "CPU time: $name ($BENCH_ROUNDS rounds)"
    times=$(bench_psql -A -t -F ' ' -f "$script")
    rm -f "$script"
    printf '%s\n' "$times" | grep '^@' | sed 's/^/#   /' >&2
    base=$(printf '%s\n' "$times" | awk '$1 == "@base" { print $2 }' | bench_median)
    ours=$(printf '%s\n' "$times" | awk '$1 == "@ours" { print $2 }' | bench_median)
    bench_emit "$name" "$base" "$ours" "$target" "$info"
}

# bench_same_result NAME SETUP_A SQL_A SETUP_B SQL_B: true when two queries
# (each after its own untimed setup) print exactly the same rows.
bench_same_result() {
    local name=$1 a b
    a=$(printf '%s\n%s\n' "$2" "$3" | psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$BENCH_DB")
    b=$(printf '%s\n%s\n' "$4" "$5" | psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$BENCH_DB")
    if [ "$a" = "$b" ]; then
        bench_log "same result: $name"
    else
        bench_log "DIFFERENT results: $name"
        printf '#   A: %s\n#   B: %s\n' "$a" "$b" >&2
        return 1
    fi
}
