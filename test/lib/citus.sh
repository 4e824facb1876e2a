# Citus for the tests and benchmarks (sourced, never run on its own): finds
# or builds Citus, and runs a throwaway coordinator with two workers that
# load both Citus and our extension.
#
# Where Citus comes from, first found wins:
#   1. the vendored source ../shared/vendor/citus-$CITUS_VERSION.tar.gz (or
#      $MULTISAMPLE_CITUS_TARBALL), built once and cached outside the work
#      tree in $MULTISAMPLE_CITUS_CACHE (default /var/cache/multisample-test,
#      or ~/.cache/multisample-test when that is not writable), keyed by the
#      Citus version and the PostgreSQL major: citus-13.2.2-pg15/ holds a
#      `make install DESTDIR=...` image, so the system installation is never
#      touched;
#   2. a Citus installed into the server (citus.so in pg_config --pkglibdir).
# citus_locate sets CITUS_IMAGE (the image directory, empty for an installed
# Citus) or returns 1 with CITUS_MISSING saying why (and CITUS_BUILD_FAILED
# set when the vendored source is there but did not build).
#
# The nodes are the system PostgreSQL 15 server run as user postgres (when
# the caller is root) on 127.0.0.1 only, with trust authentication for
# 127.0.0.1 and no Unix socket. Citus must be found in the server's own
# extension directory (it checks pg_available_extensions(), which does not
# look at extension_destdir), so each cluster runs from a private tree: a
# copy of the postgres binary, which PostgreSQL relocates by its own path,
# and symbolic links to the system's libraries and share files, with the
# Citus image and the extension files of the environment's server (installed
# system-wide by bin/test, or into ./.inst by bin/dev-cluster) linked in
# over them. Nothing outside that tree is written. citus_cluster_start
# starts the nodes; they are stopped at exit by their postmaster pids, and
# nothing else is.
# shellcheck shell=bash

CITUS_VERSION=13.2.2
CITUS_PG_MAJOR=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
CITUS_TARBALL=${MULTISAMPLE_CITUS_TARBALL:-$REPO/../shared/vendor/citus-$CITUS_VERSION.tar.gz}
CITUS_IMAGE=""
CITUS_MISSING=""
CITUS_BUILD_SECONDS=""
CITUS_BUILD_FAILED=""
CITUS_NODE_PIDS=()

_citus_cache_root() {
    local root=${MULTISAMPLE_CITUS_CACHE:-/var/cache/multisample-test}
    if mkdir -p "$root" 2>/dev/null && [ -w "$root" ]; then
        echo "$root"
    else
        root=${XDG_CACHE_HOME:-$HOME/.cache}/multisample-test
        mkdir -p "$root" && echo "$root"
    fi
}

# citus_locate: sets CITUS_IMAGE, building the vendored source if needed.
citus_locate() {
    local libdir sharedir
    libdir=$(pg_config --pkglibdir)
    sharedir=$(pg_config --sharedir)
    if [ -f "$CITUS_TARBALL" ]; then
        citus_build
        return
    fi
    if [ -f "$libdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ]; then
        CITUS_IMAGE=""
        return 0
    fi
    CITUS_MISSING="neither the vendored Citus source ($CITUS_TARBALL) nor an installed Citus ($libdir/citus.so) exists"
    return 1
}

# citus_build: the cached image of the vendored source, built when missing
# (without the LLVM bitcode for JIT inlining, which would double the build
# time for nothing the tests use). Build output goes to $CITUS_IMAGE.log. Builds are serialised by a lock, so
# two drivers starting together build once.
citus_build() {
    local root key image src stage start patched
    root=$(_citus_cache_root) || { CITUS_MISSING="no writable cache directory"; return 1; }
    key=citus-$CITUS_VERSION-pg$CITUS_PG_MAJOR
    image=$root/$key
    exec 9> "$root/$key.lock"
    flock 9
    if [ ! -f "$image/.complete" ]; then
        start=$SECONDS
        rm -rf "$image" "$image.stage"
        src=$(mktemp -d /tmp/citus-build.XXXXXX)
        stage=$image.stage
        {
            echo "building Citus $CITUS_VERSION for $(pg_config --version) from $CITUS_TARBALL"
            tar -xzf "$CITUS_TARBALL" -C "$src" --strip-components=1 &&
            citus_patch_source "$src" &&
            (cd "$src" &&
             ./configure --without-libcurl PG_CONFIG="$(command -v pg_config)" &&
             make -j"$(nproc)" with_llvm=no &&
             make install with_llvm=no DESTDIR="$stage")
        } > "$image.log" 2>&1
        patched=$?
        rm -rf "$src"
        if [ "$patched" -ne 0 ]; then
            rm -rf "$stage"
            flock -u 9
            CITUS_BUILD_FAILED=1
            CITUS_MISSING="building Citus $CITUS_VERSION failed; see $image.log"
            return 1
        fi
        CITUS_BUILD_SECONDS=$((SECONDS - start))
        echo "built in $CITUS_BUILD_SECONDS s" >> "$image.log"
        # Readable by the nodes' user whatever the umask of the build was.
        chmod -R a+rX "$stage"
        touch "$stage/.complete"
        mv "$stage" "$image"
    fi
    flock -u 9
    CITUS_IMAGE=$image
}

# citus_patch_source DIR: build fixes for this machine, each guarded so that
# it changes nothing where it is not needed.
#   PostgreSQL 15.20 exports have_createdb_privilege(), which Citus 13.2.2's
#   pg_version_compat.h also defines for PostgreSQL 15: its copy is kept for
#   15.0-15.19 only.
citus_patch_source() {
    /usr/bin/python3 - "$1/src/include/pg_version_compat.h" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
pattern = re.compile(r'(static inline bool\nhave_createdb_privilege\(void\)\n\{.*?\n\}\n)', re.S)
new, n = pattern.subn(r'#if PG_VERSION_NUM < 150020\n\1#endif\n', text)
if n != 1:
    sys.exit("pg_version_compat.h: expected one have_createdb_privilege() definition, found %d" % n)
open(path, "w").write(new)
PY
}

# ---- the cluster ------------------------------------------------------------

_citus_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_citus_free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# _citus_link_tree FROM TO: symbolic links in TO to every file under FROM
# (FROM absolute), replacing links already there.
_citus_link_tree() {
    mkdir -p "$2" && cp -rs --remove-destination "$1/." "$2/"
}

# citus_cluster_start: a coordinator and two workers. Sets CITUS_DIR,
# CITUS_PORTS (coordinator first) and CITUS_COORD_PORT. Needs CITUS_IMAGE
# (citus_locate) and the environment's server (PGHOST/PGPORT), whose
# extension files the nodes load. CITUS_SHARD_COUNT (default 8) and
# CITUS_NODE_SETTINGS (lines for postgresql.conf) adjust the nodes.
citus_cluster_start() {
    local bindir libdir sharedir env_destdir tree postgres i port data f attempt
    bindir=$(pg_config --bindir)
    libdir=$(pg_config --pkglibdir)
    sharedir=$(pg_config --sharedir)
    CITUS_DIR=$(mktemp -d /tmp/ms_citus.XXXXXX)
    on_exit "rm -rf '$CITUS_DIR'"
    on_exit "citus_cluster_stop"

    # The private tree: the binary copied, the rest linked.
    tree=$CITUS_DIR/pg
    postgres=$tree$bindir/postgres
    mkdir -p "$tree$bindir"
    cp "$bindir/postgres" "$postgres"
    _citus_link_tree "$libdir" "$tree$libdir"
    _citus_link_tree "$sharedir" "$tree$sharedir"
    rm -f "$tree$libdir"/multisample.so "$tree$sharedir"/extension/multisample*
    [ -n "$CITUS_IMAGE" ] && _citus_link_tree "$CITUS_IMAGE" "$tree"
    env_destdir=$(psql -X -At -d postgres -c "SHOW extension_destdir" 2>/dev/null || true)
    for f in "$env_destdir$libdir"/multisample.so "$env_destdir$sharedir"/extension/multisample*; do
        [ -e "$f" ] || continue
        case $f in
            *.so) ln -sf "$f" "$tree$libdir/" ;;
            *) ln -sf "$f" "$tree$sharedir/extension/" ;;
        esac
    done
    [ -e "$tree$libdir/multisample.so" ] || { echo "# multisample.so not found under '$env_destdir$libdir'"; return 1; }
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$CITUS_DIR"

    _citus_owner "$PGBIN/initdb" -D "$CITUS_DIR/node0" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        > "$CITUS_DIR/initdb.log" 2>&1 || { cat "$CITUS_DIR/initdb.log"; return 1; }
    cat > "$CITUS_DIR/node0/pg_hba.conf" <<'HBA'
# Citus test nodes: trust, from 127.0.0.1 only.
host all all 127.0.0.1/32 trust
HBA
    cat >> "$CITUS_DIR/node0/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
shared_preload_libraries = 'citus'
max_connections = 80
max_prepared_transactions = 100
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
citus.enable_statistics_collection = off
citus.node_conninfo = 'sslmode=disable'
citus.shard_count = ${CITUS_SHARD_COUNT:-8}
CONF
    # More settings for every node, one "name = value" a line (the benchmark's).
    [ -n "${CITUS_NODE_SETTINGS:-}" ] && printf '%s\n' "$CITUS_NODE_SETTINGS" >> "$CITUS_DIR/node0/postgresql.conf"
    _citus_owner cp -a "$CITUS_DIR/node0" "$CITUS_DIR/node1"
    _citus_owner cp -a "$CITUS_DIR/node0" "$CITUS_DIR/node2"

    CITUS_PORTS=()
    for i in 0 1 2; do
        data=$CITUS_DIR/node$i
        # A free port can be taken by someone else before the server binds
        # it: up to three tries, each with another port.
        for attempt in 1 2 3; do
            port=$(_citus_free_port)
            _citus_owner sed -i '/^port = /d' "$data/postgresql.conf"
            echo "port = $port" | _citus_owner tee -a "$data/postgresql.conf" > /dev/null
            _citus_owner "$PGBIN/pg_ctl" -D "$data" -p "$postgres" -l "$CITUS_DIR/node$i.log" -w -t 60 start > /dev/null && break
            if [ "$attempt" -eq 3 ]; then
                tail -20 "$CITUS_DIR/node$i.log"
                return 1
            fi
        done
        CITUS_NODE_PIDS+=("$(head -1 "$data/postmaster.pid")")
        CITUS_PORTS+=("$port")
    done
    CITUS_COORD_PORT=${CITUS_PORTS[0]}
}

# citus_cluster_stop: fast shutdown of the postmasters this file started, by
# pid (each checked to still be a postmaster of our data directory), then
# immediate shutdown of any that did not stop within 30 s.
citus_cluster_stop() {
    local pid i
    for pid in "${CITUS_NODE_PIDS[@]}"; do
        _citus_is_ours "$pid" && kill -INT "$pid" 2>/dev/null
    done
    for i in $(seq 1 300); do
        local alive=0
        for pid in "${CITUS_NODE_PIDS[@]}"; do
            _citus_is_ours "$pid" && alive=1
        done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    for pid in "${CITUS_NODE_PIDS[@]}"; do
        _citus_is_ours "$pid" && kill -QUIT "$pid" 2>/dev/null
    done
    CITUS_NODE_PIDS=()
    true
}

_citus_is_ours() {
    [ -n "$1" ] && [ -n "${CITUS_DIR:-}" ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$CITUS_DIR/node"
}

# cq PORT DB SQL: one value (or rows, unaligned, |-separated) from a node.
cq() { psql -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$3"; }

# citus_create_db NAME: the database on every node, with the citus
# extension, the workers registered with the coordinator.
citus_create_db() {
    local name=$1 port
    for port in "${CITUS_PORTS[@]}"; do
        cq "$port" postgres "CREATE DATABASE $name" || return 1
        cq "$port" "$name" "SET client_min_messages = warning; CREATE EXTENSION citus" || return 1
    done
    cq "$CITUS_COORD_PORT" "$name" "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_COORD_PORT)" > /dev/null || return 1
    for port in "${CITUS_PORTS[@]:1}"; do
        cq "$CITUS_COORD_PORT" "$name" "SELECT citus_add_node('127.0.0.1', $port)" > /dev/null || return 1
    done
}
