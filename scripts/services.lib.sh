# shellcheck shell=bash
# Shared helpers for scripts/test.sh and scripts/devservices.sh: locate/install the
# system packages and start/stop a private PostgreSQL cluster and Redis server.
# Source this file; it does not change shell options of the caller.

svc_log() { echo "[services] $*" >&2; }
svc_die() { echo "[services] ERROR: $*" >&2; exit 1; }

# Newest /usr/lib/postgresql/<ver>/bin, else pg_config --bindir, else empty.
svc_find_pgbin() {
    local d best=""
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
        [[ -x "$d/postgres" && -x "$d/initdb" ]] && best="$d"
    done
    if [[ -z "$best" ]] && command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        [[ -n "$d" && -x "$d/postgres" && -x "$d/initdb" ]] && best="$d"
    fi
    echo "$best"
}

svc_find_redis() {
    if [[ -x /usr/bin/redis-server ]]; then echo /usr/bin/redis-server
    else command -v redis-server 2>/dev/null || true
    fi
}

svc_find_redis_cli() {
    if [[ -x /usr/bin/redis-cli ]]; then echo /usr/bin/redis-cli
    else command -v redis-cli 2>/dev/null || true
    fi
}

svc_find_chromium() {
    if [[ -x /usr/bin/chromium ]]; then echo /usr/bin/chromium
    else command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true
    fi
}

# Install the Debian packages whose binaries are missing. Args: any of postgresql redis chromium.
svc_ensure_packages() {
    local missing=() want
    for want in "$@"; do
        case "$want" in
            postgresql) [[ -n "$(svc_find_pgbin)" ]] || missing+=(postgresql) ;;
            redis) [[ -n "$(svc_find_redis)" && -n "$(svc_find_redis_cli)" ]] || missing+=(redis-server) ;;
            chromium) [[ -n "$(svc_find_chromium)" ]] || missing+=(chromium) ;;
            *) svc_die "unknown package group: $want" ;;
        esac
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ "$(id -u)" != 0 ]]; then
        svc_die "missing system packages: ${missing[*]}. Install them as root:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
and re-run (this script installs them itself only when run as root)."
    fi
    command -v apt-get >/dev/null 2>&1 || svc_die "missing packages (${missing[*]}) and no apt-get to install them"
    svc_log "installing missing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Free TCP port on 127.0.0.1 (the kernel picks one; tiny race window, acceptable for tests).
svc_free_port() {
    local py
    py="$(command -v python3 || command -v python3.11 || command -v python)"
    "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Run a command as the unprivileged PostgreSQL owner: "postgres" when we are root, else ourselves.
svc_as_pg() {
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || svc_die "user 'postgres' does not exist (install the postgresql package)"
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

# Wait until a command succeeds, at most $1 seconds.
svc_wait_for() {
    local timeout="$1"; shift
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then return 1; fi
        sleep 0.2
    done
}

# svc_pg_start DIR PORT: initialise (if needed) and start a cluster in DIR/pgdata,
# listening on 127.0.0.1:PORT with its unix socket in DIR/pgsock. Trust auth, superuser "postgres".
svc_pg_start() {
    local dir="$1" port="$2" pgbin
    pgbin="$(svc_find_pgbin)"
    [[ -n "$pgbin" ]] || svc_die "PostgreSQL binaries not found"
    mkdir -p "$dir/pgsock"
    if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir" "$dir/pgsock"; fi
    chmod 0700 "$dir"
    if [[ ! -f "$dir/pgdata/PG_VERSION" ]]; then
        # cd / so the postgres user is never stuck in an unreadable working directory.
        (cd / && svc_as_pg "$pgbin/initdb" -D "$dir/pgdata" -U postgres -E UTF8 --locale=C \
            --auth=trust --no-sync >"$dir/initdb.log" 2>&1) \
            || { cat "$dir/initdb.log" >&2; svc_die "initdb failed"; }
        svc_as_pg tee -a "$dir/pgdata/postgresql.conf" >/dev/null <<CONF

# --- throwaway cluster settings ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/pgsock'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
CONF
        svc_as_pg tee "$dir/pgdata/pg_hba.conf" >/dev/null <<HBA
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
HBA
    fi
    # setsid: own session, so a Ctrl-C in the caller's terminal does not reach the postmaster.
    (cd / && svc_as_pg setsid -w "$pgbin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -o "-p $port" \
        -w -t 60 start >/dev/null) \
        || { tail -n 50 "$dir/postgres.log" >&2 2>/dev/null || true; svc_die "PostgreSQL failed to start"; }
    svc_wait_for 30 "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres \
        || { tail -n 50 "$dir/postgres.log" >&2; svc_die "PostgreSQL did not become ready on port $port"; }
}

svc_pg_running() {
    local dir="$1" pgbin
    pgbin="$(svc_find_pgbin)"
    [[ -n "$pgbin" && -f "$dir/pgdata/postmaster.pid" ]] || return 1
    (cd / && svc_as_pg "$pgbin/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1)
}

# svc_pg_stop DIR [MODE]  (MODE: immediate|fast, default immediate)
svc_pg_stop() {
    local dir="$1" mode="${2:-immediate}" pgbin
    pgbin="$(svc_find_pgbin)"
    [[ -n "$pgbin" && -f "$dir/pgdata/postmaster.pid" ]] || return 0
    (cd / && svc_as_pg "$pgbin/pg_ctl" -D "$dir/pgdata" stop -m "$mode" -w -t 30 >/dev/null 2>&1) || true
}

# svc_pg_createdb PORT NAME  (no error if it already exists)
svc_pg_createdb() {
    local port="$1" name="$2" pgbin
    pgbin="$(svc_find_pgbin)"
    if ! "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "select 1 from pg_database where datname = '$name'" | grep -q 1; then
        "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
    fi
}

# svc_redis_start DIR PORT: start redis-server bound to 127.0.0.1:PORT, no persistence,
# in the background (own session), pid in DIR/redis.pid, log in DIR/redis.log.
svc_redis_start() {
    local dir="$1" port="$2" server cli
    server="$(svc_find_redis)"; cli="$(svc_find_redis_cli)"
    [[ -n "$server" && -n "$cli" ]] || svc_die "redis-server/redis-cli not found"
    mkdir -p "$dir/redis"
    rm -f "$dir/redis.pid"
    setsid "$server" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
        --dir "$dir/redis" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        </dev/null >/dev/null 2>&1 &
    disown 2>/dev/null || true
    svc_wait_for 30 "$cli" -h 127.0.0.1 -p "$port" ping \
        || { tail -n 50 "$dir/redis.log" >&2 2>/dev/null || true; svc_die "Redis did not answer on port $port"; }
    [[ "$("$cli" -h 127.0.0.1 -p "$port" ping)" == PONG ]] || svc_die "Redis on port $port did not answer PONG"
}

svc_redis_running() {
    local dir="$1" port="$2" cli pid
    cli="$(svc_find_redis_cli)"
    [[ -f "$dir/redis.pid" ]] || return 1
    pid="$(cat "$dir/redis.pid")"
    kill -0 "$pid" 2>/dev/null || return 1
    [[ "$("$cli" -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]
}

# svc_redis_stop DIR
svc_redis_stop() {
    local dir="$1" pid i
    [[ -f "$dir/redis.pid" ]] || return 0
    pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/redis.pid"
}
