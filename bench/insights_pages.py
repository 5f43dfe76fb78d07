"""Insights benchmarks against the PostgreSQL in DATABASE_URL. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench_insights .venv/bin/python bench/insights_pages.py --cases 100000

With fewer than --cases cases in the database it first runs `bench_generate` (cases, reports,
`opened`/`resolved` events), then gives every fifth resolved case an applied restriction (a mix of
removals, visibility limits, suspensions and holds) so the DSA figures have something to count.
Then, one line each:

- `rollup`: rebuilding the hourly rollups from the whole timeline (hours/s, events/s);
- `sor_build`: writing the statements of reasons of every restriction (statements/s);
- `sor_export`: paging the whole statements API with limit=1000 (statements/s, in-process client),
  and statements per CPU second;
- `page`: each dashboard as a lead, in process (Django's test client, no HTTP), `--requests` times:
  p50/p95 ms, CPU ms per request and the query count; the transparency report over a year, as page,
  JSON and CSV.

CPU is this process's (the view and the in-process client) plus its PostgreSQL backend's, read from
/proc: unlike wall-clock time it does not grow with the neighbours' load on a shared machine.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")
from harness import emit, percentile, proc_cpu  # noqa: E402

ACTION_MIX = [  # (action type, decision column, value) chosen by case id modulo 4
    ("remove_content", "decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"),
    ("restrict_visibility", "decision_visibility", "DECISION_VISIBILITY_CONTENT_DEMOTED"),
    ("suspension", "decision_account", "DECISION_ACCOUNT_SUSPENDED"),
    ("transaction_hold", "decision_monetary", "DECISION_MONETARY_SUSPENSION"),
]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def seed_actions() -> int:
    """Applied restrictions on every fifth resolved case without one (one INSERT … SELECT per kind)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from enforcement.models import EnforcementAction, Policy

    policy = Policy.objects.filter(is_active=True).order_by("id").first()
    version = policy.versions.order_by("-version").first()
    proposer, _ = get_user_model().objects.get_or_create(username="bench-proposer")
    table = EnforcementAction._meta.db_table
    before = EnforcementAction.objects.count()
    for i, (kind, column, value) in enumerate(ACTION_MIX):
        columns = {
            "decision_visibility": "''", "decision_account": "''", "decision_provision": "''", "decision_monetary": "''",
        }
        columns[column] = f"'{value}'"
        if kind == "suspension":
            columns["decision_provision"] = "'DECISION_PROVISION_TOTAL_SUSPENSION'"
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO {table} (decision_ref, case_id, target_id, policy_id, policy_version_id, action_type, status,
                    decision_visibility, decision_account, decision_provision, decision_monetary, decision_ground,
                    category, automated_detection, automated_decision, rationale, statement, departure_reason,
                    applied_at, created_at, proposer_id, requires_approval, review_comment, reversal_reason)
                SELECT gen_random_uuid(), c.id, c.subject_id, %s, %s, %s, 'active',
                    {columns['decision_visibility']}, {columns['decision_account']}, {columns['decision_provision']},
                    {columns['decision_monetary']}, 'DECISION_GROUND_INCOMPATIBLE_CONTENT', cat.dsa_category,
                    c.id %% 7 = 0, 'AUTOMATED_DECISION_NOT_AUTOMATED', 'bench rationale',
                    'We restricted this because it breaks our rules on spam.', '', c.resolved_at, c.resolved_at, %s,
                    false, '', ''
                FROM cases_case c JOIN cases_category cat ON cat.id = c.category_id
                WHERE c.status = 'resolved' AND c.id %% 20 = %s
                  AND NOT EXISTS (SELECT 1 FROM {table} a WHERE a.case_id = c.id)
            """, [policy.pk, version.pk, kind, proposer.pk, i * 5])
    return EnforcementAction.objects.count() - before


def lead_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from tsconsole import roles

    user, _ = get_user_model().objects.get_or_create(username="bench-lead")
    user.groups.add(Group.objects.get_or_create(name=roles.LEAD)[0])
    client = Client()
    client.force_login(user)
    return client


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cpu_now(pid: int) -> float:
    """CPU seconds so far of this process (view, and the in-process client) plus its database backend."""
    return time.process_time() + proc_cpu(pid)


def time_page(client, name: str, path: str, requests: int) -> dict:
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    latencies = []
    pid = backend_pid()
    cpu_started = cpu_now(pid)
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        latencies.append(time.perf_counter() - started)
    cpu = cpu_now(pid) - cpu_started
    return {"bench": "insights", "case": "page", "page": name, "requests": requests,
            "p50_ms": ms(percentile(latencies, 50)), "p95_ms": ms(percentile(latencies, 95)),
            "cpu_ms_per_request": ms(cpu / requests), "queries": len(queries)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60, help="Days of generated history.")
    parser.add_argument("--requests", type=int, default=20, help="Requests per page.")
    parser.add_argument("--skip", default="", help="Comma-separated parts to skip: rollup, sor.")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database made for benchmarks.")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the in-process client speaks plain HTTP
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cases.models import Case, CaseEvent, Report
    from insights import rollup, services
    from insights.models import StatementOfReasons

    have = Case.objects.count()
    if have < args.cases:
        started = time.perf_counter()
        call_command("bench_generate", cases=args.cases - have, days=args.days, prefix=f"ins{have}", verbosity=0)
        emit(bench="insights", case="generate", cases=args.cases - have, seconds=round(time.perf_counter() - started, 1))
    seeded = seed_actions()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    events = CaseEvent.objects.count()
    emit(bench="insights", case="setup", cases=Case.objects.count(), reports=Report.objects.count(), events=events,
         open=Case.objects.exclude(status="resolved").count(), actions_seeded=seeded)

    skip = set(filter(None, args.skip.split(",")))
    # rollups: the whole history, hour by hour
    first = CaseEvent.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if "rollup" not in skip:
        started = time.perf_counter()
        hours = rollup.rollup_hours(first, timezone.now() + timezone.timedelta(hours=1))
        elapsed = time.perf_counter() - started
        emit(bench="insights", case="rollup", hours=hours, events=events, seconds=round(elapsed, 2),
             hours_per_s=round(hours / elapsed, 1), events_per_s=round(events / elapsed))
    if "sor" in skip:
        StatementOfReasons.objects.filter(id__in=list(StatementOfReasons.objects.order_by("-id").values_list(
            "id", flat=True)[:5000])).delete()  # rebuild a sample only

    # statements of reasons: build all, then export all through the API
    started = time.perf_counter()
    built = 0
    while True:
        n = services.sor_build(limit=5000)
        built += n
        if n < 5000:
            break
    elapsed = time.perf_counter() - started
    emit(bench="insights", case="sor_build", statements=built, seconds=round(elapsed, 2),
         statements_per_s=round(built / elapsed) if elapsed else None,
         invalid=StatementOfReasons.objects.exclude(errors={}).count())

    client = lead_client()
    pid = backend_pid()
    started, cpu_started = time.perf_counter(), cpu_now(pid)
    url, exported = "/api/v1/dsa/statements/?limit=1000", 0
    while url:
        body = client.get(url).json()
        exported += len(body["results"])
        url = body["next"]
    elapsed, cpu = time.perf_counter() - started, cpu_now(pid) - cpu_started
    emit(bench="insights", case="sor_export", statements=exported, seconds=round(elapsed, 2),
         statements_per_s=round(exported / elapsed) if elapsed else None, cpu_seconds=round(cpu, 2),
         statements_per_cpu_s=round(exported / cpu) if cpu else None)

    year = f"from={(timezone.now() - timezone.timedelta(days=365)).date()}&to={timezone.now().date()}"
    pages = [
        ("home", "/"),
        ("queue_health_day", "/insights/queues/"),
        ("queue_health_30d", "/insights/queues/?from=" + str((timezone.now() - timezone.timedelta(days=30)).date())),
        ("team_7d", "/insights/team/"),
        ("team_30d", "/insights/team/?from=" + str((timezone.now() - timezone.timedelta(days=30)).date())),
        ("kpis_7d", "/insights/kpis/"),
        ("kpi_cases_sla", "/insights/kpis/sla_resolution/cases/"),
        ("transparency_year_page", f"/insights/transparency/?{year}"),
        ("transparency_year_json", f"/api/v1/insights/transparency-report/?{year}"),
        ("transparency_year_csv", f"/api/v1/insights/transparency-report/?{year}&format=csv"),
    ]
    for name, path in pages:
        emit(**time_page(client, name, path, args.requests))


if __name__ == "__main__":
    main()
