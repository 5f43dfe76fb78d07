"""Intake benchmark against the PostgreSQL in DATABASE_URL. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python manage.py bench_generate --cases 200000
    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python bench/ingest.py

Measures, over real HTTP against gunicorn (or `--server gthread|granian`) started on a free 127.0.0.1 port:

- `single_http`: single-report POSTs by concurrent client threads: requests/s, p50/p95/p99 latency.
  Measured first, on workers that have served single reports only, as for a platform that sends
  nothing else (lists before them would change how PostgreSQL plans the statements they share);
- `bulk_http`: reports/s for lists of 500 (about 20 % of each list about subjects with an open case,
  so they join it; the rest open new cases), posted by a few concurrent clients;
- `replay`: the first list sent again: every item must come back `duplicate` and the number of
  reports, cases and case events must not move;

and, for reference, `bulk_service`: reports/s calling the intake service in-process (no HTTP, no JSON).

Each case also reports the server-side CPU it cost (gunicorn processes plus the PostgreSQL backends
serving them, read from /proc; WAL writer and checkpointer not included) per report or request, and
the rate two dedicated cores would sustain at that cost: on a shared machine the wall-clock rates
depend on the neighbours, the CPU cost does not.
Open subjects for the duplicates come from the database (bench_generate makes open cases); without
any, earlier lists of the run provide them. Use a separate database: the run adds reports and cases.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key")

from harness import SERVERS, CpuMeter, emit, free_port, group_pids, percentile, start_server, stop_server  # noqa: E402

CATEGORIES = ["spam", "fake-engagement", "targeted-harassment", "hate-speech", "phishing", "financial-scam",
              "impersonation", "nudity", "counterfeit", "copyright", "health-misinformation", "doxxing",
              "prohibited-items", "graphic-violence", "credible-threat", "grooming"]
SOURCES = ["user_report"] * 6 + ["automated"] * 3 + ["support_escalation"]


class Workload:
    """Report payloads: new subjects, and a share about subjects that already have an open case."""

    def __init__(self, run: str, open_subjects: list[tuple[str, str]], dup_fraction: float, seed: int = 7):
        self.run = run
        self.open_subjects = list(open_subjects)
        self.dup_fraction = dup_fraction
        self.rng = random.Random(seed)
        self.n = 0

    def _subject(self, dup: bool) -> dict:
        if dup and self.open_subjects:
            kind, ext = self.rng.choice(self.open_subjects)
            return {"kind": kind, "external_id": ext}
        self.n += 1
        author = f"{self.run}-a-{self.rng.randrange(max(1, self.n // 3 + 1))}"
        if self.rng.random() < 0.35:
            return {"kind": "account", "external_id": f"{self.run}-acct-{self.n}", "handle": f"user{self.n}",
                    "follower_count": int(10 ** (self.rng.random() * 5)),
                    "signals": {"email_hash": f"user{self.n}@mail.example", "ips": [f"10.{self.n % 250}.0.1"]}}
        return {"kind": "content", "external_id": f"{self.run}-c-{self.n}",
                "content_type": self.rng.choice(["post", "comment", "listing", "message"]),
                "text": "Example text of the reported content " * 2, "url": f"https://platform.example/c/{self.n}",
                "author": {"external_id": author, "handle": author, "follower_count": self.rng.randrange(5000)}}

    def report(self, dup: bool | None = None) -> dict:
        if dup is None:
            dup = self.rng.random() < self.dup_fraction
        source = self.rng.choice(SOURCES)
        item = {
            "source": source, "external_id": f"{self.run}-{uuid.uuid4().hex[:16]}",
            "category": self.rng.choice(CATEGORIES), "subject": self._subject(dup),
            "reporter": {"external_id": f"reporter-{self.rng.randrange(100000)}"} if source != "automated" else None,
            "description": "Reported from the app", "language": "en", "territory": "IE",
        }
        if source == "automated":
            item["classifier"] = {"label": "model-v3", "score": round(self.rng.random(), 3)}
        return item

    def batch(self, size: int) -> list[dict]:
        items = [self.report() for _ in range(size)]
        # subjects of this list can be duplicates in later lists too (a run without generated data)
        for item in items:
            if len(self.open_subjects) < 50000:
                self.open_subjects.append((item["subject"]["kind"], item["subject"]["external_id"]))
        return items


def post(port: int, token: str, body: bytes, timeout: float = 60) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/reports/", body=body, headers={
            "Content-Type": "application/json", "Authorization": f"Token {token}"})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started
    finally:
        conn.close()


def other_backends() -> list[int]:
    """PostgreSQL backends of this database other than the benchmark's own (the web workers')."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def own_backend() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return [cursor.fetchone()[0]]


def cpu_figures(cpu_seconds: float | None, units: int, unit: str) -> dict:
    """CPU per unit on the server side, and the rate two dedicated cores would sustain at that cost."""
    if not cpu_seconds or not units:
        return {}
    return {f"server_cpu_ms_per_{unit}": round(cpu_seconds / units * 1000, 3),
            f"{unit}s_per_s_on_2_dedicated_cores": round(2 * units / cpu_seconds)}


def counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM cases_report), (SELECT count(*) FROM cases_case), "
                       "(SELECT count(*) FROM cases_caseevent)")
        reports, cases, events = cursor.fetchone()
    return {"reports": reports, "cases": cases, "events": events}


def bench_bulk_http(port, token, workload, *, batches: int, size: int, clients: int, meter) -> tuple[dict, bytes]:
    bodies = [json.dumps(workload.batch(size)).encode() for _ in range(batches)]
    lock = threading.Lock()
    queue = list(range(batches))
    results = {"reports": 0, "created": 0, "duplicates": 0, "errors": 0, "bad_status": 0, "latencies": []}

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop(0)
            status, data, seconds = post(port, token, bodies[i], timeout=120)
            with lock:
                results["latencies"].append(seconds)
                if status != 207:
                    results["bad_status"] += 1
                    continue
                body = json.loads(data)
                results["reports"] += len(body["results"])
                for key in ("created", "duplicates", "errors"):
                    results[key] += body[key]

    meter.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    lat = results.pop("latencies")
    return {
        "bench": "ingest", "case": "bulk_http", "list_size": size, "lists": batches, "clients": clients,
        "seconds": round(elapsed, 2), "reports_per_s": round(results["reports"] / elapsed),
        "list_p50_ms": round(statistics.median(lat) * 1000, 1), "list_p95_ms": round(percentile(lat, 95) * 1000, 1),
        **results, **cpu_figures(cpu, results["reports"], "report"),
    }, bodies[0]


def bench_single_http(port, token, workload, *, requests: int, clients: int, max_seconds: float, meter) -> dict:
    bodies = [json.dumps(workload.report()).encode() for _ in range(requests)]
    lock = threading.Lock()
    cursor = {"i": 0}
    latencies, statuses = [], {}
    deadline = time.perf_counter() + max_seconds

    def worker():
        while time.perf_counter() < deadline:
            with lock:
                i = cursor["i"]
                if i >= len(bodies):
                    return
                cursor["i"] += 1
            status, _data, seconds = post(port, token, bodies[i])
            with lock:
                latencies.append(seconds)
                statuses[status] = statuses.get(status, 0) + 1

    meter.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    return {
        **cpu_figures(cpu, len(latencies), "request"),
        "bench": "ingest", "case": "single_http", "clients": clients, "requests": len(latencies),
        "seconds": round(elapsed, 2), "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1), "statuses": {str(k): v for k, v in statuses.items()},
    }


def bench_bulk_service(user, workload, *, batches: int, size: int) -> dict:
    from cases.api.reports import validate
    from cases.services.intake import reports_ingest

    lists = [[validate(item)[0] for item in workload.batch(size)] for _ in range(batches)]
    meter = CpuMeter(lambda: [os.getpid()], own_backend).start()
    started = time.perf_counter()
    created = 0
    for reports in lists:
        created += sum(1 for o in reports_ingest(reports, actor=user) if o.status == "created")
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    return {"bench": "ingest", "case": "bulk_service", "list_size": size, "lists": batches,
            "seconds": round(elapsed, 2), "reports_per_s": round(batches * size / elapsed), "created": created,
            **cpu_figures(cpu, batches * size, "report")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lists", type=int, default=40, help="Bulk lists to post (of --list-size each).")
    parser.add_argument("--list-size", type=int, default=500)
    parser.add_argument("--bulk-clients", type=int, default=2)
    parser.add_argument("--dup-fraction", type=float, default=0.2)
    parser.add_argument("--single-requests", type=int, default=6000)
    parser.add_argument("--single-clients", type=int, default=16)
    parser.add_argument("--single-seconds", type=float, default=30, help="Stop the single-report run after this.")
    parser.add_argument("--workers", type=int, default=3, help="Web server worker processes.")
    parser.add_argument("--threads", type=int, default=1, help="Threads per worker (gthread, granian).")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn", help="The web server to start.")
    parser.add_argument("--service-lists", type=int, default=10, help="In-process bulk lists (0: skip).")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database made for benchmarks (run migrate first).")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from cases.models import Case, CaseStatus
    from tsconsole import roles

    user, _ = get_user_model().objects.get_or_create(username="bench-intake")
    user.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])
    token = Token.objects.get_or_create(user=user)[0].key
    open_subjects = list(Case.objects.exclude(status=CaseStatus.RESOLVED).order_by("-id")
                         .values_list("subject__kind", "subject__external_id")[:20000])
    run = f"ib{uuid.uuid4().hex[:6]}"
    workload = Workload(run, open_subjects, args.dup_fraction)
    emit(bench="ingest", case="setup", run=run, open_subjects=len(open_subjects), cores=os.cpu_count(),
         server=args.server, workers=args.workers, threads=args.threads,
         load_average=round(os.getloadavg()[0], 2), **counts())

    port = free_port()
    server = start_server(port, args.workers, args.threads, args.server)
    # polled: connections Django closes after CONN_MAX_AGE inside a long window still count
    meter = CpuMeter(lambda: group_pids(server.pid), other_backends, poll=0.25)
    try:
        for _ in range(20):  # warm every worker: imports, connections, intake context
            post(port, token, json.dumps(workload.report()).encode())
        emit(**bench_single_http(port, token, workload, requests=args.single_requests, clients=args.single_clients,
                                 max_seconds=args.single_seconds, meter=meter))
        figures, first_list = bench_bulk_http(port, token, workload, batches=args.lists, size=args.list_size,
                                              clients=args.bulk_clients, meter=meter)
        emit(**figures)

        before = counts()
        status, data, seconds = post(port, token, first_list, timeout=120)
        body = json.loads(data)
        after = counts()
        replay_ok = status == 207 and body["created"] == 0 and body["errors"] == 0 and before == after
        emit(bench="ingest", case="replay", status=status, items=len(body["results"]), created=body["created"],
             duplicates=body["duplicates"], errors=body["errors"], seconds=round(seconds, 3),
             changed={k: after[k] - before[k] for k in after}, ok=replay_ok)
    finally:
        stop_server(server)
    if args.service_lists:
        emit(**bench_bulk_service(user, workload, batches=args.service_lists, size=args.list_size))
    if not replay_ok or figures["bad_status"] or figures["errors"]:
        raise SystemExit("ingest benchmark: a replay changed data or a request failed (see the lines above)")


if __name__ == "__main__":
    main()
