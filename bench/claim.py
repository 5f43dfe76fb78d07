"""Claim-next benchmark against the PostgreSQL in DATABASE_URL. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python bench/claim.py --generate

With --generate, a database holding fewer than --cases cases is first filled with
`manage.py bench_generate --cases N --reports-per-case K --open-fraction F`. Then, on one queue
(the one with most unassigned cases unless --queue says otherwise):

- `http`: claims/s over real HTTP — gunicorn (or `--server gthread|granian`) on a free 127.0.0.1 port, `--clients` concurrent
  clients each looping on POST /api/v1/queues/{slug}/claim/ with its own analyst's API token —
  with p50/p95/p99 latency, and double assignments counted twice: case ids handed out more than
  once, and cases with more than one `claimed` event in the run (both must be 0); and the server CPU
  per claim (gunicorn workers plus their PostgreSQL backends, from /proc) with the rate two
  dedicated cores would sustain, since on a shared machine the wall-clock rate measures the
  neighbours too;
- `floor`: the web stack alone at the same concurrency (GET /healthz, and GET /api/v1/categories/
  through DRF with token auth), with server CPU per request: what any request costs before claiming;
- `raw_sql`: the same claim statement the service runs (UPDATE … WHERE id = (SELECT … FOR UPDATE
  SKIP LOCKED LIMIT 1) RETURNING, plus its `claimed` event in the same statement), driven by
  pgbench with the same number of clients, so client overhead matches the reference; and
  `raw_sql_update_only`, the UPDATE without the event;
- `pgbench`: `pgbench -b simple-update` TPS on the same server (a separate database initialised with
  `pgbench -i -s 10`), and the ratio raw_sql / pgbench.

Before the phases the queue is given --min-waiting unassigned cases (generated, or moved in from
other queues), so that no phase can run it dry. Every rate says whether its queue drained anyway:
`drained` true means the rate is claims ÷ time to drain (`rate_basis`), capped by the data, and the
ratios that would compare it (raw/pgbench, http/raw) are not printed.

Between phases the cases claimed by the benchmark go back to the queue and the table is vacuumed,
so the run can be repeated. Use a database made for benchmarks: claims add case events.
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SERVERS, CpuMeter, emit, free_port, group_pids, percentile, start_server, stop_server  # noqa: E402

from tsconsole import localservices  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key")
# Plain HTTP to a local server: the production HTTPS redirect and HSTS stay out of the way.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("SECURE_COOKIES", "0")

CLAIMER_PREFIX = "bench-claimer-"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def other_backends() -> list[int]:
    """PostgreSQL backends of this database other than the benchmark's own (the web workers')."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def cpu_figures(cpu_seconds: float | None, units: int, unit: str) -> dict:
    """Server CPU (web workers + their PostgreSQL backends) per unit, and the rate two dedicated cores
    would sustain at that cost: on a shared machine the wall-clock rate also measures the neighbours."""
    if not cpu_seconds or not units:
        return {}
    return {f"server_cpu_ms_per_{unit}": round(cpu_seconds / units * 1000, 3),
            f"{unit}s_per_s_on_2_dedicated_cores": round(2 * units / cpu_seconds)}


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def request(port: int, method: str, path: str, headers: dict, timeout: float = 30) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started
    finally:
        conn.close()


def pg_env() -> dict:
    """libpq environment for pgbench/psql, from DATABASE_URL."""
    url = urlparse(os.environ["DATABASE_URL"])
    env = dict(os.environ)
    env.update(PGHOST=url.hostname or "127.0.0.1", PGPORT=str(url.port or 5432), PGUSER=url.username or "postgres")
    if url.password:
        env["PGPASSWORD"] = url.password
    return env


def pg_tool(name: str) -> str:
    folder = os.environ.get("PGBIN") or str(localservices.pg_bin_dir())
    candidate = Path(folder) / name
    if not candidate.exists():
        raise SystemExit(f"{name} not found in {folder}: set PGBIN to PostgreSQL's bin folder")
    return str(candidate)


def pgbench_tps(args: list[str], env: dict) -> dict:
    out = subprocess.run([pg_tool("pgbench"), *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"pgbench failed: {out.stderr.strip()[-2000:]}")
    text = out.stdout + out.stderr
    tps = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)", text)
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    done = re.search(r"number of transactions actually processed: (\d+)", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    return {"tps": float(tps.group(1)) if tps else None,
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "transactions": int(done.group(1)) if done else None,
            "failed": int(failed.group(1)) if failed else 0}


# --------------------------------------------------------------------------- setup


def ensure_data(args) -> int:
    from cases.models import Case

    have = Case.objects.count()
    if have < args.cases and args.generate:
        emit(bench="claim", case="generate", existing=have, target=args.cases)
        subprocess.run([sys.executable, "manage.py", "bench_generate", "--cases", str(args.cases - have),
                        "--reports-per-case", str(args.reports_per_case), "--open-fraction", str(args.open_fraction),
                        "--prefix", f"claim{have}"], cwd=ROOT, check=True)
        have = Case.objects.count()
    return have


def claimers(n: int) -> list[tuple[int, str]]:
    """n analysts in every team (so every queue is theirs), each with an API token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from tsconsole import roles
    from tsconsole.models import Team, TeamMembership

    group = Group.objects.get_or_create(name=roles.ANALYST)[0]
    teams = list(Team.objects.all())
    out = []
    for i in range(n):
        user, _ = get_user_model().objects.get_or_create(username=f"{CLAIMER_PREFIX}{i}")
        user.groups.add(group)
        for team in teams:
            TeamMembership.objects.get_or_create(team=team, user=user)
        out.append((user.pk, Token.objects.get_or_create(user=user)[0].key))
    return out


def pick_queue(slug: str | None):
    from django.db.models import Count, Q

    from cases.models import Queue

    qs = Queue.objects.filter(is_active=True).annotate(
        waiting=Count("cases", filter=Q(cases__status="open", cases__assignee__isnull=True)))
    if slug:
        return qs.get(slug=slug)
    return qs.order_by("-waiting").first()


def reset_claims(user_ids: list[int]) -> int:
    """Put every case the benchmark claimed back in the queue, then vacuum so the next phase starts
    from a clean claimable index (the claims left dead index entries behind)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET status = 'open', assignee_id = NULL, claimed_at = NULL, first_touched_at = NULL "
            "WHERE assignee_id = ANY(%s) AND status = 'in_review'", [user_ids])
        count = cursor.rowcount
    connection.close()
    env = pg_env()
    subprocess.run([pg_tool("vacuumdb"), "--analyze", "--table", "cases_case", urlparse(os.environ["DATABASE_URL"])
                    .path.lstrip("/")], env=env, check=True, capture_output=True)
    return count


def double_claims_since(since) -> dict:
    """Cases claimed more than once since `since` (no claim is released during a phase)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT case_id) FROM cases_caseevent "
                       "WHERE verb = 'claimed' AND created_at >= %s", [since])
        events, cases = cursor.fetchone()
    return {"claimed_events": events, "double_assignments_db": events - cases}


class DrainWatch:
    """Polls, on a connection of its own, how many cases still wait in the queue, and notes when the
    queue ran dry: a rate measured over a window in which the queue drained is capped by the data,
    not by the system, so it is reported per second of draining and flagged."""

    def __init__(self, queue_id: int, interval: float = 0.25):
        self.queue_id, self.interval = queue_id, interval
        self.drained_after: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psycopg2

        conn = psycopg2.connect(os.environ["DATABASE_URL"])
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                while not self._stop.wait(self.interval):
                    cursor.execute("SELECT EXISTS (SELECT 1 FROM cases_case WHERE queue_id = %s AND status = 'open' "
                                   "AND assignee_id IS NULL)", [self.queue_id])
                    if not cursor.fetchone()[0]:
                        self.drained_after = time.perf_counter() - self.started
                        return
        finally:
            conn.close()

    def __enter__(self):
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def rate(done: int, window: float, watch: DrainWatch) -> dict:
    """claims/s over the full window, or over the time to drain when the queue ran dry (and said so)."""
    seconds = watch.drained_after if watch.drained_after is not None else window
    return {"claims_per_s": round(done / seconds, 1) if seconds else None, "drained": watch.drained_after is not None,
            "rate_basis": "time_to_drain" if watch.drained_after is not None else "full_window",
            "measured_seconds": round(seconds, 2)}


def ensure_waiting(queue, needed: int) -> int:
    """Make sure `needed` unassigned cases wait in the queue, so that no phase can drain it: new open
    cases from bench_generate, then every open unassigned case moved into the benchmark's queue."""
    from django.db import connection

    from cases.models import Case

    waiting = Case.objects.filter(queue=queue, status="open", assignee__isnull=True).count()
    if waiting >= needed:
        return 0
    elsewhere = Case.objects.filter(status="open", assignee__isnull=True).exclude(queue=queue).count()
    missing = needed - waiting - elsewhere
    if missing > 0:
        # bench_generate opens at most 3 in 4 of the cases it makes (the rest are history).
        subprocess.run([sys.executable, "manage.py", "bench_generate", "--cases", str(missing * 4 // 3 + 1),
                        "--reports-per-case", "1", "--open-fraction", "0.75", "--prefix", f"topup{int(time.time())}"], cwd=ROOT, check=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET queue_id = %s WHERE status = 'open' AND assignee_id IS NULL "
                       "AND queue_id <> %s", [queue.pk, queue.pk])
        moved = cursor.rowcount
    connection.close()
    return moved


# --------------------------------------------------------------------------- phases


def bench_http(args, queue, users) -> dict:
    from django.utils import timezone

    port = free_port()
    server = start_server(port, args.workers, args.threads, args.server)
    path = f"/api/v1/queues/{queue.slug}/claim/"
    try:
        for _, token in users:  # warm every worker: imports, connections, first queries
            request(port, "GET", "/api/v1/queues/", {"Authorization": f"Token {token}"})
        since = timezone.now()
        latencies: list[float] = []
        handed: list[tuple[int, int]] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.perf_counter() + args.seconds
        barrier = threading.Barrier(len(users) + 1)

        def client(user_id: int, token: str):
            headers = {"Authorization": f"Token {token}", "Content-Length": "0"}
            mine_lat, mine_ids, mine_status = [], [], {}
            barrier.wait()
            while time.perf_counter() < stop_at:
                try:
                    status, body, seconds = request(port, "POST", path, headers)
                except OSError:
                    status, body, seconds = -1, b"", 0.0
                mine_status[status] = mine_status.get(status, 0) + 1
                if status == 200:
                    mine_lat.append(seconds)
                    mine_ids.append((json.loads(body)["id"], user_id))
                elif status == 204:
                    break
            with lock:
                latencies.extend(mine_lat)
                handed.extend(mine_ids)
                for k, v in mine_status.items():
                    statuses[k] = statuses.get(k, 0) + v

        threads = [threading.Thread(target=client, args=u) for u in users]
        for t in threads:
            t.start()
        meter = CpuMeter(lambda: group_pids(server.pid), other_backends).start()
        barrier.wait()
        started = time.perf_counter()
        with DrainWatch(queue.pk) as watch:
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
    finally:
        stop_server(server)
    ids = [case_id for case_id, _ in handed]
    from cases.models import Case

    db_assignee = dict(Case.objects.filter(pk__in=ids).values_list("pk", "assignee_id"))
    return {
        "bench": "claim", "case": "http", "queue": queue.slug, "clients": len(users), "server": args.server,
        "workers": args.workers, "threads": args.threads, "seconds": round(elapsed, 2), "claims": len(ids),
        **rate(len(ids), elapsed, watch),
        "p50_ms": ms(percentile(latencies, 50)), "p95_ms": ms(percentile(latencies, 95)),
        "p99_ms": ms(percentile(latencies, 99)), "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "load_average": load_average(), **cpu_figures(cpu, len(ids), "claim"),
        "double_assignments": len(ids) - len(set(ids)),
        "assignee_mismatches": sum(1 for case_id, user_id in handed if db_assignee.get(case_id) != user_id),
        **double_claims_since(since),
    }


def bench_floor(args, users) -> list[dict]:
    """What the web stack costs before any claim logic, at the same concurrency: GET /healthz (Django
    and one SELECT 1) and GET /api/v1/categories/ (DRF with token auth, role check and one small
    list). The claim's own cost is the difference."""
    port = free_port()
    server = start_server(port, args.workers, args.threads, args.server)
    results = []
    try:
        for _, token in users:
            request(port, "GET", "/api/v1/categories/", {"Authorization": f"Token {token}"})
        for path, auth in (("/healthz", False), ("/api/v1/categories/", True)):
            latencies: list[float] = []
            lock = threading.Lock()
            stop_at = time.perf_counter() + args.floor_seconds

            def client(token, path=path, auth=auth, latencies=latencies, lock=lock, stop_at=stop_at):
                headers = {"Authorization": f"Token {token}"} if auth else {}
                mine = []
                while time.perf_counter() < stop_at:
                    status, _body, seconds = request(port, "GET", path, headers)
                    if status == 200:
                        mine.append(seconds)
                with lock:
                    latencies.extend(mine)

            meter = CpuMeter(lambda: group_pids(server.pid), other_backends).start()
            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(token,)) for _, token in users]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            cpu = meter.stop()
            results.append({
                "bench": "claim", "case": "floor", "path": path, "clients": len(users), "server": args.server,
                "requests_per_s": round(len(latencies) / elapsed, 1), "p50_ms": ms(percentile(latencies, 50)),
                "p95_ms": ms(percentile(latencies, 95)), "load_average": load_average(),
                **cpu_figures(cpu, len(latencies), "request"),
            })
    finally:
        stop_server(server)
    return results


def bench_raw(args, queue, users, *, with_event: bool = True) -> dict:
    """The service's own claim statement, one per transaction, driven by pgbench like the reference:
    with its `claimed` event (the data-modifying statement the service runs), or the UPDATE … SKIP
    LOCKED alone."""
    from django.utils import timezone

    from cases.services.workflow import _claim_sql, _claim_update_sql

    build = _claim_sql if with_event else _claim_update_sql
    statement = build("queue_id = %(queue)s", pick=True)
    for placeholder, value in (("%(queue)s", ":queue"), ("%(actor)s", ":actor"), ("%(now)s", "now()"),
                               ("%(actor_kind)s", "'user'"), ("%(data)s", "'{\"bench\": \"raw\"}'")):
        statement = statement.replace(placeholder, value)
    assert "%(" not in statement, statement
    ids = sorted(u for u, _ in users)
    script = f"\\set actor random({ids[0]}, {ids[-1]})\n{statement};\n"
    db = urlparse(os.environ["DATABASE_URL"]).path.lstrip("/")
    since = timezone.now()
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    try:
        with DrainWatch(queue.pk) as watch:
            result = pgbench_tps(["-n", "-f", handle.name, "-c", str(len(users)), "-j", str(args.pgbench_jobs),
                                  "-T", str(int(args.seconds)), "-D", f"queue={queue.pk}", db], pg_env())
    finally:
        os.unlink(handle.name)
    if with_event:
        claimed = double_claims_since(since)
        done = claimed["claimed_events"]
    else:
        from cases.models import Case

        done = Case.objects.filter(queue=queue, status="in_review", assignee_id__in=ids).count()
        claimed = {"claimed": done}
    # Transactions after the queue ran dry claim nothing; count only real claims.
    return {"bench": "claim", "case": "raw_sql" if with_event else "raw_sql_update_only", "queue": queue.slug,
            "clients": len(users), "load_average": load_average(), "claims": done,
            **rate(done, args.seconds, watch), "transactions_per_s": result["tps"],
            "latency_avg_ms": result["latency_avg_ms"], "failed": result["failed"], **claimed}


def bench_pgbench(args, clients: int) -> dict:
    env = pg_env()
    db = args.pgbench_db or f"{urlparse(os.environ['DATABASE_URL']).path.lstrip('/')}_pgbench"
    exists = subprocess.run([pg_tool("psql"), "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{db}'", "postgres"],
                            env=env, capture_output=True, text=True).stdout.strip() == "1"
    if not exists:
        subprocess.run([pg_tool("createdb"), db], env=env, check=True)
        subprocess.run([pg_tool("pgbench"), "-i", "-q", "-s", str(args.pgbench_scale), db], env=env, check=True,
                       capture_output=True)
    result = pgbench_tps(["-b", "simple-update", "-c", str(clients), "-j", str(args.pgbench_jobs),
                          "-T", str(int(args.seconds)), db], env)
    return {"bench": "claim", "case": "pgbench", "script": "simple-update", "scale": args.pgbench_scale,
            "clients": clients, "tps": result["tps"], "latency_avg_ms": result["latency_avg_ms"],
            "load_average": load_average()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--generate", action="store_true", help="Run bench_generate when fewer cases exist.")
    parser.add_argument("--reports-per-case", type=int, default=3)
    parser.add_argument("--open-fraction", type=float, default=0.05)
    parser.add_argument("--queue", help="Queue slug (default: the one with most unassigned cases).")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4, help="Web server worker processes.")
    parser.add_argument("--threads", type=int, default=1, help="Threads per worker (gthread, granian).")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn", help="The web server to start.")
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-jobs", type=int, default=2, help="pgbench worker threads (-j).")
    parser.add_argument("--pgbench-db", help="Database for pgbench's own tables (default: <db>_pgbench).")
    parser.add_argument("--floor-seconds", type=float, default=6, help="Length of each web-stack floor run.")
    parser.add_argument("--min-waiting", type=int, default=150_000,
                        help="Unassigned cases kept waiting in the queue so that no phase drains it.")
    parser.add_argument("--skip", default="", help="Comma-separated phases to skip: http,floor,raw_sql,pgbench.")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database made for benchmarks (run migrate first).")
    import django

    django.setup()
    skip = set(filter(None, args.skip.split(",")))
    ensure_data(args)
    users = claimers(args.clients)
    user_ids = [u for u, _ in users]
    queue = pick_queue(args.queue)
    reset_claims(user_ids)
    moved = ensure_waiting(queue, args.min_waiting)
    from cases.models import Case

    waiting = Case.objects.filter(queue=queue, status="open", assignee__isnull=True).count()
    emit(bench="claim", case="setup", cases=Case.objects.count(), queue=queue.slug, waiting_in_queue=waiting,
         moved_into_queue=moved, clients=args.clients, cores=os.cpu_count(), load_average=load_average())

    http = raw = raw_update = pg = None
    if "http" not in skip:
        http = bench_http(args, queue, users)
        emit(**http)
        reset_claims(user_ids)
    if "floor" not in skip:
        for line in bench_floor(args, users):
            emit(**line)
    if "raw_sql" not in skip:
        raw = bench_raw(args, queue, users)
        emit(**raw)
        reset_claims(user_ids)
        raw_update = bench_raw(args, queue, users, with_event=False)
        emit(**raw_update)
        reset_claims(user_ids)
    if "pgbench" not in skip:
        pg = bench_pgbench(args, args.clients)
        emit(**pg)
    if raw and pg and pg["tps"]:
        # A ratio means something only when both sides ran the full window.
        if raw["drained"] or raw_update["drained"]:
            emit(bench="claim", case="ratio", raw_over_pgbench=None,
                 reason="the queue drained during a raw phase: raise --min-waiting")
        else:
            emit(bench="claim", case="ratio", raw_claims_per_s=raw["claims_per_s"], pgbench_simple_update_tps=pg["tps"],
                 raw_over_pgbench=round(raw["claims_per_s"] / pg["tps"], 3),
                 update_only_over_pgbench=round(raw_update["claims_per_s"] / pg["tps"], 3))
    if http and raw and not (http["drained"] or raw["drained"]):
        emit(bench="claim", case="http_over_raw", http_claims_per_s=http["claims_per_s"],
             raw_claims_per_s=raw["claims_per_s"], ratio=round(http["claims_per_s"] / raw["claims_per_s"], 3))


if __name__ == "__main__":
    main()
