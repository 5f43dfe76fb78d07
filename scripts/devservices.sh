#!/usr/bin/env bash
# Persistent PostgreSQL + Redis for local development.
#
#   scripts/devservices.sh start    start both (no-op for whichever is already running)
#   scripts/devservices.sh stop     stop both (data in $DEV_DIR is kept)
#   scripts/devservices.sh status   show what is running
#   scripts/devservices.sh env      print export lines:  eval "$(scripts/devservices.sh env)"
#
# Ports and location can be overridden with DEV_PGPORT, DEV_REDISPORT, DEV_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/services.lib.sh
source "$ROOT/scripts/services.lib.sh"

DEV_DIR="${DEV_DIR:-/tmp/tsconsole-dev}"
DEV_PGPORT="${DEV_PGPORT:-55432}"
DEV_REDISPORT="${DEV_REDISPORT:-56379}"
DEV_DB="${DEV_DB:-tsconsole}"

print_env() {
    cat <<ENV
export DATABASE_URL=postgres://postgres@127.0.0.1:$DEV_PGPORT/$DEV_DB
export REDIS_URL=redis://127.0.0.1:$DEV_REDISPORT/0
export PGBIN=$(svc_find_pgbin)
ENV
}

case "${1:-}" in
    start)
        svc_ensure_packages postgresql redis
        mkdir -p "$DEV_DIR"
        if svc_pg_running "$DEV_DIR"; then
            svc_log "PostgreSQL already running on 127.0.0.1:$DEV_PGPORT ($DEV_DIR/pgdata)"
        else
            svc_log "starting PostgreSQL on 127.0.0.1:$DEV_PGPORT ($DEV_DIR/pgdata)"
            svc_pg_start "$DEV_DIR" "$DEV_PGPORT"
        fi
        svc_pg_createdb "$DEV_PGPORT" "$DEV_DB"
        if svc_redis_running "$DEV_DIR" "$DEV_REDISPORT"; then
            svc_log "Redis already running on 127.0.0.1:$DEV_REDISPORT"
        else
            svc_log "starting Redis on 127.0.0.1:$DEV_REDISPORT"
            svc_redis_start "$DEV_DIR" "$DEV_REDISPORT"
        fi
        svc_log "ready; use:  eval \"\$(scripts/devservices.sh env)\""
        ;;
    stop)
        svc_redis_stop "$DEV_DIR"
        svc_pg_stop "$DEV_DIR" fast
        svc_log "stopped (data kept in $DEV_DIR; rm -rf it for a clean slate)"
        ;;
    status)
        rc=0
        if svc_pg_running "$DEV_DIR"; then echo "postgresql: running on 127.0.0.1:$DEV_PGPORT"
        else echo "postgresql: stopped"; rc=1; fi
        if svc_redis_running "$DEV_DIR" "$DEV_REDISPORT"; then echo "redis: running on 127.0.0.1:$DEV_REDISPORT"
        else echo "redis: stopped"; rc=1; fi
        exit "$rc"
        ;;
    env)
        print_env
        ;;
    *)
        echo "usage: $0 start|stop|status|env" >&2
        exit 2
        ;;
esac
