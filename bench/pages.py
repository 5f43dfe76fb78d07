"""Workspace page latency against the PostgreSQL in DATABASE_URL (fill it with
`manage.py bench_generate --cases 1000000` first). Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python bench/pages.py

Over real HTTP (gunicorn on a free 127.0.0.1 port, an analyst's session cookie), `--clients`
concurrent clients request each page `--requests` times and the p50/p95/p99 latency is printed:

- `queues`: the queue list (/queues/): counts, at-risk and breached cases, oldest waiting case,
  aggregated over every unresolved case of the analyst's queues;
- `case`: case pages (/cases/<id>/) of random cases, open and resolved, each with its reports,
  subject history, linked accounts (the generator links accounts through shared devices and IPs),
  timeline, notes and evidence;
- `api_queues`: GET /api/v1/queues/ (the same counts as JSON);
- `my_work` and `search` (by a subject's external id) for completeness.

Each line also carries the page's query count, measured once in-process.
"""

import argparse
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claim import cpu_figures, load_average, ms, other_backends, request  # noqa: E402
from harness import (  # noqa: E402
    CpuMeter,
    django_on_bench_database,
    emit,
    free_port,
    group_pids,
    percentile,
    start_server,
    stop_server,
)

READER = "bench-reader"


def reader_session() -> tuple[object, str]:
    """An analyst in every team, signed in: returns the user and a session cookie value."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from tsconsole import roles
    from tsconsole.models import Team, TeamMembership

    user, created = get_user_model().objects.get_or_create(username=READER)
    if created:
        user.set_password("bench")
        user.save()
    user.groups.add(Group.objects.get_or_create(name=roles.ANALYST)[0])
    for team in Team.objects.all():
        TeamMembership.objects.get_or_create(team=team, user=user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return user, session.session_key


def sample_case_ids(n: int, seed: int = 11) -> list[int]:
    """Random case ids across the table (open and resolved alike), via the primary key range."""
    from django.db.models import Max, Min

    from cases.models import Case

    bounds = Case.objects.aggregate(lo=Min("id"), hi=Max("id"))
    rng = random.Random(seed)
    picked = set()
    while len(picked) < n:
        candidate = rng.randint(bounds["lo"], bounds["hi"])
        if Case.objects.filter(pk=candidate).exists():
            picked.add(candidate)
    return sorted(picked)


def query_count(path: str, user) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def measure(port: int, cookie: str, name: str, paths: list[str], *, clients: int, count_queries: int,
            meter=None) -> dict:
    headers = {"Cookie": f"sessionid={cookie}"}
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    work = list(paths)
    started = time.perf_counter()

    def client():
        mine = []
        while True:
            with lock:
                if not work:
                    break
                path = work.pop()
            status, _body, seconds = request(port, "GET", path, headers)
            if status != 200:
                with lock:
                    failures.append(status)
            mine.append(seconds)
        with lock:
            latencies.extend(mine)

    if meter:
        meter.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = meter.stop() if meter else None
    return {"bench": "pages", "case": name, "requests": len(paths), "clients": clients,
            "load_average": load_average(), **cpu_figures(cpu, len(paths), "request"),
            "p50_ms": ms(percentile(latencies, 50)), "p95_ms": ms(percentile(latencies, 95)),
            "p99_ms": ms(percentile(latencies, 99)), "requests_per_s": round(len(paths) / elapsed, 1),
            "failures": len(failures), "queries": count_queries}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="Requests per page kind.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes.")
    args = parser.parse_args()

    django_on_bench_database()
    from cases.models import Case, Subject

    user, cookie = reader_session()
    case_ids = sample_case_ids(args.requests)
    subjects = list(Subject.objects.filter(cases__pk__in=case_ids[:50]).values_list("external_id", flat=True))
    total = Case.objects.count()
    unresolved = Case.objects.exclude(status="resolved").count()
    emit(bench="pages", case="setup", cases=total, unresolved=unresolved, sampled_cases=len(case_ids))

    counts = {
        "queues": query_count("/queues/", user),
        "case": query_count(f"/cases/{case_ids[0]}/", user),
        "api_queues": query_count("/api/v1/queues/", user),
        "my_work": query_count("/my-work/", user),
        "search": query_count(f"/search/?q={subjects[0]}", user),
    }
    port = free_port()
    server = start_server(port, args.workers, 1)
    try:
        warm = [f"/cases/{i}/" for i in case_ids[:8]] + ["/queues/"] * 8
        measure(port, cookie, "warm", warm, clients=args.clients, count_queries=0)
        n = args.requests
        plan = {
            "queues": ["/queues/"] * n,
            "case": [f"/cases/{i}/" for i in case_ids],
            "api_queues": ["/api/v1/queues/"] * n,
            "my_work": ["/my-work/"] * max(1, n // 3),
            "search": [f"/search/?q={s}" for s in subjects] * max(1, n // (3 * max(1, len(subjects)))),
        }
        meter = CpuMeter(lambda: group_pids(server.pid), other_backends)
        for name, paths in plan.items():
            emit(**measure(port, cookie, name, paths, clients=args.clients, count_queries=counts[name], meter=meter))
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
