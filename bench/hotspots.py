"""The shapes a surge makes, against the PostgreSQL in DATABASE_URL (the `tsc_bench` database of
bench/pages.py). Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python bench/hotspots.py [--size 200000]

Setup (kept between runs, in SQL, marked so a second run reuses it):
- a *common signal*: one IP hash carried by `--size` accounts (a carrier's NAT address), among them
  the account of an open case;
- a *viral post*: an open content case with `--size` reports from `--size * 3 / 4` reporters.

Then over real HTTP (gunicorn, an analyst's session cookie, as bench/pages.py), with server CPU per
request (web workers plus their PostgreSQL backends):
- `common_signal_case`: that account's case page (signals, linked accounts);
- `viral_case`: the viral post's case page (newest reports, their grouping);
- `viral_join`: single reports about the viral post, each joining its case (priority facts, counts).
"""

import argparse
import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claim import other_backends  # noqa: E402
from harness import (  # noqa: E402
    CpuMeter,
    django_on_bench_database,
    emit,
    free_port,
    group_pids,
    start_server,
    stop_server,
)
from ingest import cpu_figures, post  # noqa: E402
from pages import measure, query_count, reader_session  # noqa: E402

COMMON_HASH = "bench-hotspot-common-ip"
VIRAL_PREFIX = "bench-hotspot-viral-"


def common_signal_case(size: int) -> int:
    """The id of an open case whose account carries the common signal (made on first use)."""
    from django.db import connection

    from cases.models import Case, Signal, SubjectSignal

    signal, _ = Signal.objects.get_or_create(kind=Signal.Kind.IP, value_hash=COMMON_HASH)
    case = (Case.objects.filter(status="open", kind="report", subject__kind="account")
            .order_by("-id").only("id", "subject_id").first())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SubjectSignal._meta.db_table} (subject_id, signal_id, first_seen_at) "
            "SELECT id, %s, now() FROM cases_subject WHERE kind = 'account' AND (id = %s OR id < %s) "
            "ORDER BY id DESC LIMIT %s ON CONFLICT DO NOTHING", [signal.pk, case.subject_id, case.subject_id, size])
    return case.pk


def viral_case(size: int) -> tuple[int, str]:
    """(case id, the post's external id) of an open content case with `size` reports."""
    from django.db import connection

    from cases.models import Case, Report

    found = Report.objects.filter(external_id=f"{VIRAL_PREFIX}1").values_list("case_id", "subject__external_id").first()
    if found:
        return found
    case = (Case.objects.filter(status="open", kind="report", subject__kind="content")
            .order_by("-id").select_related("subject").first())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Report._meta.db_table} (source, external_id, subject_id, case_id, category_id, reporter_ref, "
            "description, classifier_label, classifier_score, language, territory, explanation, exact_location, "
            "notifier_name, notifier_email, good_faith_statement, trusted_flagger_id, submitted_by_id, received_at, "
            "created_at) "
            "SELECT 'user_report', %s || g, %s, %s, %s, 'viral-reporter-' || (g %% %s), '', '', NULL, '', '', '', '', "
            "'', '', NULL, NULL, NULL, now() - make_interval(secs => %s - g), now() FROM generate_series(1, %s) g",
            [VIRAL_PREFIX, case.subject_id, case.pk, case.category_id, size * 3 // 4, size, size])
        cursor.execute(f"UPDATE {Case._meta.db_table} SET report_count = report_count + %s WHERE id = %s",
                       [size, case.pk])
    return case.pk, case.subject.external_id


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000, help="Accounts on the signal; reports on the post.")
    parser.add_argument("--requests", type=int, default=100, help="Requests per measure.")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    django_on_bench_database()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from cases.models import Category, Report, SubjectSignal
    from tsconsole import roles

    user, cookie = reader_session()
    common_case = common_signal_case(args.size)
    viral_id, post_id = viral_case(args.size)
    integration, _ = get_user_model().objects.get_or_create(username="bench-intake")
    integration.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])
    token = Token.objects.get_or_create(user=integration)[0].key
    category = Category.objects.filter(is_active=True).order_by("id").values_list("slug", flat=True).first()
    emit(bench="hotspots", case="setup", common_signal_accounts=SubjectSignal.objects.filter(
        signal__value_hash=COMMON_HASH).count(), viral_reports=Report.objects.filter(case_id=viral_id).count())

    port = free_port()
    server = start_server(port, args.workers, 1)
    try:
        meter = CpuMeter(lambda: group_pids(server.pid), other_backends)
        for name, case_id in (("common_signal_case", common_case), ("viral_case", viral_id)):
            path = f"/cases/{case_id}/"
            measure(port, cookie, "warm", [path] * 4, clients=args.clients, count_queries=0)
            line = measure(port, cookie, name, [path] * args.requests, clients=args.clients,
                           count_queries=query_count(path, user), meter=meter)
            emit(**{**line, "bench": "hotspots"})
        run = uuid.uuid4().hex[:8]
        bodies = [json.dumps({"source": "user_report", "external_id": f"hot-{run}-{n}", "category": category,
                              "subject": {"kind": "content", "external_id": post_id},
                              "reporter": {"external_id": f"hot-reporter-{n % 7}"}}).encode()
                  for n in range(args.requests + 5)]
        for body in bodies[:5]:
            post(port, token, body)  # the first report reads the case's reports once, then it keeps their facts
        statuses, seconds = [], []
        meter.start()
        for body in bodies[5:]:
            status, _data, took = post(port, token, body)
            statuses.append(status)
            seconds.append(took)
        cpu = meter.stop()
        seconds.sort()
        emit(bench="hotspots", case="viral_join", requests=len(statuses), created=statuses.count(201),
             p50_ms=round(seconds[len(seconds) // 2] * 1000, 2), **cpu_figures(cpu, len(statuses), "request"))
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
