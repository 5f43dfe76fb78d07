#!/usr/bin/env bash
# Full test run: venv -> ruff -> throwaway PostgreSQL + Redis (from the venv's wheels) -> pytest.
# Extra arguments are passed to pytest:  scripts/test.sh -k appeals -x
#
# PostgreSQL and Redis come from pip wheels (tsconsole/localservices.py); nothing is installed
# system-wide for them. The browser tests need a Chromium: CHROMIUM_PATH, else the system's
# `chromium`; when there is none and we are root on Debian, apt installs Debian's `chromium`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

find_chromium() {
    if [[ -n "${CHROMIUM_PATH:-}" ]]; then echo "$CHROMIUM_PATH"; return; fi
    command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true
}

CHROMIUM_PATH="$(find_chromium)"
if [[ -z "$CHROMIUM_PATH" ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Debian's chromium for the browser tests"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends chromium
        CHROMIUM_PATH="$(find_chromium)"
    else
        echo "test.sh: no Chromium found for the browser tests. Install one (Debian/Ubuntu: apt-get install chromium;" >&2
        echo "         macOS: the Chromium app) and re-run, or point CHROMIUM_PATH at its executable." >&2
        exit 1
    fi
fi
export CHROMIUM_PATH

scripts/venv.sh dev,local

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
    .venv/bin/python -m tsconsole.localservices stop --dir "$TMP" --throwaway || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> starting throwaway PostgreSQL and Redis in $TMP"
eval "$(.venv/bin/python -m tsconsole.localservices start --dir "$TMP" --throwaway)"
export SECRET_KEY=test-secret
export DEBUG=0
# Static files, evidence and anything else the settings keep under var/ go to the temporary folder:
# a test run writes nothing into the checkout.
export TSCONSOLE_VAR_DIR="$TMP/var"

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
