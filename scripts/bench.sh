#!/usr/bin/env bash
# Benchmarks against a PostgreSQL and Redis of their own. Prints JSON lines (and keeps them in
# $BENCH_DIR/results-<time>.jsonl).
#
#   scripts/bench.sh                  all of them: claim pages ingest sla
#   scripts/bench.sh claim pages      only those
#
# The data lives in $BENCH_DIR (default /tmp/tsconsole-bench) and is kept between runs, so the
# million-case databases are generated once: `tsc_bench` (1M cases, 5 % open) for claim, pages and
# ingest, `tsc_bench_sla` (1M open cases) for the SLA sweep. `rm -rf $BENCH_DIR` starts afresh.
# The services are stopped when the run ends. Run it on a quiet machine: the figures measure it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/services.lib.sh
source "$ROOT/scripts/services.lib.sh"

BENCH_DIR="${BENCH_DIR:-/tmp/tsconsole-bench}"
BENCH_CASES="${BENCH_CASES:-1000000}"
BENCH_SLA_OPEN="${BENCH_SLA_OPEN:-1000000}"
WANTED=("$@")
[[ ${#WANTED[@]} -gt 0 ]] || WANTED=(claim pages ingest sla)
for name in "${WANTED[@]}"; do
    case "$name" in claim | pages | ingest | sla) ;; *) svc_die "unknown benchmark '$name' (claim, pages, ingest, sla)" ;; esac
done

svc_ensure_packages postgresql redis
scripts/venv.sh dev

mkdir -p "$BENCH_DIR"
PGPORT="$(svc_free_port)"
REDISPORT="$(svc_free_port)"
while [[ "$REDISPORT" == "$PGPORT" ]]; do REDISPORT="$(svc_free_port)"; done
cleanup() {
    svc_redis_stop "$BENCH_DIR" || true
    svc_pg_stop "$BENCH_DIR" fast || true
}
trap cleanup EXIT
svc_pg_stop "$BENCH_DIR" fast
# A benchmark cluster keeps its data but takes the port it is given this time.
if [[ -f "$BENCH_DIR/pgdata/postgresql.conf" ]]; then
    svc_as_pg sed -i "s/^port = .*/port = $PGPORT/" "$BENCH_DIR/pgdata/postgresql.conf"
fi
svc_log "PostgreSQL on 127.0.0.1:$PGPORT, Redis on 127.0.0.1:$REDISPORT ($BENCH_DIR)"
svc_pg_start "$BENCH_DIR" "$PGPORT"
svc_redis_start "$BENCH_DIR" "$REDISPORT"

PGBIN="$(svc_find_pgbin)"
export PGBIN
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export SECRET_KEY=bench-secret-key DEBUG=0
RESULTS="$BENCH_DIR/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
PY="$ROOT/.venv/bin/python"

use_db() {
    svc_pg_createdb "$PGPORT" "$1"
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/$1"
    "$PY" manage.py migrate --noinput -v 0
}

run() {
    echo "==> $*" >&2
    "$PY" "$@" | tee -a "$RESULTS"
}

wants() { [[ " ${WANTED[*]} " == *" $1 "* ]]; }

if wants claim || wants pages || wants ingest; then
    use_db tsc_bench
    # The claim benchmark fills the database when it holds fewer than --cases cases.
    if wants claim; then run bench/claim.py --generate --cases "$BENCH_CASES"; else
        run bench/claim.py --generate --cases "$BENCH_CASES" --skip http,floor,raw_sql,pgbench; fi
    wants pages && run bench/pages.py
    wants ingest && run bench/ingest.py
fi
if wants sla; then
    use_db tsc_bench_sla
    run bench/sla_sweep.py --generate --open "$BENCH_SLA_OPEN"
fi
svc_log "results: $RESULTS"
