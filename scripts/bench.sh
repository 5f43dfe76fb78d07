#!/usr/bin/env bash
# Benchmarks against a PostgreSQL and Redis of their own (from the venv's wheels, like make run).
# Prints JSON lines (and keeps them in $BENCH_DIR/results-<time>.jsonl).
#
#   scripts/bench.sh                  all but peer and memory: claim pages ingest appeals sla qa insights
#   scripts/bench.sh claim pages      only those
#   scripts/bench.sh peer             tsconsole beside django-helpdesk (bench/peer.py; installs the peer
#                                     under /tmp/helpdesk-bench with $HELPDESK_PEER_DIR/setup.sh once)
#   scripts/bench.sh memory           web and Celery worker RSS over a long run (bench/memory.py)
#   scripts/bench.sh hotspots         what a surge makes (bench/hotspots.py): a signal on 200,000 accounts
#                                     and a post with 200,000 reports, added to tsc_bench for good
#
# The data lives in $BENCH_DIR (default /tmp/tsconsole-bench) and is kept between runs, so the
# million-case databases are generated once: `tsc_bench` (1M cases, 5 % open) for claim, pages,
# ingest and appeals, `tsc_bench_sla` (1M open cases) for the SLA sweep, `tsc_bench_qa` (1M decisions)
# for QA sampling and pages, `tsc_bench_insights` for the dashboards. `rm -rf $BENCH_DIR` starts afresh.
# The services are stopped when the run ends. Run it on a quiet machine: the figures measure it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

BENCH_DIR="${BENCH_DIR:-/tmp/tsconsole-bench}"
BENCH_CASES="${BENCH_CASES:-1000000}"
BENCH_SLA_OPEN="${BENCH_SLA_OPEN:-1000000}"
BENCH_INSIGHTS_CASES="${BENCH_INSIGHTS_CASES:-1000000}"
WANTED=("$@")
[[ ${#WANTED[@]} -gt 0 ]] || WANTED=(claim pages ingest appeals sla qa insights)
for name in "${WANTED[@]}"; do
    case "$name" in
        claim | pages | ingest | appeals | sla | qa | insights | peer | memory | hotspots) ;;
        *) echo "bench.sh: unknown benchmark '$name' (claim, pages, ingest, appeals, sla, qa, insights, peer, memory, hotspots)" >&2; exit 1 ;;
    esac
done

scripts/venv.sh dev,local
PY="$ROOT/.venv/bin/python"

mkdir -p "$BENCH_DIR"
# The benchmark data is kept, so its cluster is durable (fsync on): a crash must not corrupt it.
cleanup() { "$PY" -m tsconsole.localservices stop --dir "$BENCH_DIR" || true; }
trap cleanup EXIT
export SECRET_KEY=bench-secret-key DEBUG=0
RESULTS="$BENCH_DIR/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

use_db() {
    eval "$("$PY" -m tsconsole.localservices start --dir "$BENCH_DIR" --db "$1")"
    "$PY" manage.py migrate --noinput -v 0
}

run() {
    echo "==> $*" >&2
    "$PY" "$@" | tee -a "$RESULTS"
}

wants() { [[ " ${WANTED[*]} " == *" $1 "* ]]; }

if wants claim || wants pages || wants ingest || wants appeals || wants peer || wants hotspots; then
    use_db tsc_bench
    # The claim benchmark fills the database when it holds fewer than --cases cases.
    if wants claim; then run bench/claim.py --generate --cases "$BENCH_CASES"; else
        run bench/claim.py --generate --cases "$BENCH_CASES" --skip http,floor,raw_sql,pgbench; fi
    wants pages && run bench/pages.py
    wants ingest && run bench/ingest.py
    # Files its appeals through the services once (source "bench-appeal"); later runs reuse them.
    wants appeals && run bench/appeal_page.py
    wants hotspots && run bench/hotspots.py
fi
if wants peer; then
    # The create measures write: they use a database of their own (filled by peer.py --generate).
    use_db tsc_bench_peer
    PEER_INTAKE_URL="$DATABASE_URL"
    use_db tsc_bench
    PEER_ARGS=(--generate --intake-database-url "$PEER_INTAKE_URL")
    [[ -n "${HELPDESK_PEER_DIR:-}" ]] && PEER_ARGS+=(--peer-dir "$HELPDESK_PEER_DIR")
    run bench/peer.py "${PEER_ARGS[@]}"
fi
if wants sla; then
    use_db tsc_bench_sla
    run bench/sla_sweep.py --generate --open "$BENCH_SLA_OPEN"
fi
if wants qa; then
    # Every sampling pass commits samples: a database of its own, then the QA pages over it.
    use_db tsc_bench_qa
    run bench/qa_sampling.py --decisions 1000000
    run bench/qa_pages.py
fi
if wants insights; then
    use_db tsc_bench_insights
    run bench/insights_pages.py --cases "$BENCH_INSIGHTS_CASES"
fi
if wants memory; then
    use_db tsc_bench_memory
    run bench/memory.py --generate
fi
echo "results: $RESULTS" >&2
