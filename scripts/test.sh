#!/usr/bin/env bash
# Full test run: system packages -> venv -> ruff -> throwaway PostgreSQL + Redis -> pytest.
# Extra arguments are passed to pytest:  scripts/test.sh -k appeals -x
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/services.lib.sh
source "$ROOT/scripts/services.lib.sh"

svc_ensure_packages postgresql redis chromium
scripts/venv.sh dev

echo "==> ruff check ."
.venv/bin/ruff check .

TMP="$(mktemp -d "${TMPDIR:-/tmp}/tsconsole-test.XXXXXX")"
PYTEST_PID=""
cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    if [[ -n "$PYTEST_PID" ]] && kill -0 "$PYTEST_PID" 2>/dev/null; then
        # Interrupted. After Ctrl-C (which reaches pytest too) give it a moment to finish,
        # then stop it and anything it started (live servers, workers, browsers).
        if [[ "$rc" == 130 ]]; then
            for i in $(seq 1 30); do kill -0 "$PYTEST_PID" 2>/dev/null || break; sleep 0.1; done
        fi
        pkill -TERM -P "$PYTEST_PID" 2>/dev/null || true
        kill -TERM "$PYTEST_PID" 2>/dev/null || true
        for i in $(seq 1 50); do kill -0 "$PYTEST_PID" 2>/dev/null || break; sleep 0.1; done
        pkill -KILL -P "$PYTEST_PID" 2>/dev/null || true
        kill -KILL "$PYTEST_PID" 2>/dev/null || true
    fi
    svc_redis_stop "$TMP" || true
    svc_pg_stop "$TMP" immediate || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PGPORT="$(svc_free_port)"
REDISPORT="$(svc_free_port)"
while [[ "$REDISPORT" == "$PGPORT" ]]; do REDISPORT="$(svc_free_port)"; done

echo "==> starting PostgreSQL on 127.0.0.1:$PGPORT and Redis on 127.0.0.1:$REDISPORT ($TMP)"
svc_pg_start "$TMP" "$PGPORT"
svc_redis_start "$TMP" "$REDISPORT"
svc_pg_createdb "$PGPORT" tsconsole

PGBIN="$(svc_find_pgbin)"
export PGBIN PGPORT REDISPORT
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/tsconsole"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export SECRET_KEY=test-secret
export DEBUG=0
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(svc_find_chromium)}"

echo "==> pytest $*"
# Run pytest as a background job and wait for it, so that a SIGTERM to this script is
# handled at once (the EXIT trap stops pytest and the services). `trap - INT QUIT` undoes
# bash's SIG_IGN for background jobs so Ctrl-C still interrupts pytest, and stdin stays
# attached so that --pdb keeps working.
(trap - INT QUIT; exec .venv/bin/python -m pytest "$@") <&0 &
PYTEST_PID=$!
set +e
wait "$PYTEST_PID"
rc=$?
set -e
PYTEST_PID=""
if [[ $rc -eq 5 ]]; then
    echo "pytest collected no tests: treating as failure" >&2
    rc=1
fi
exit "$rc"
