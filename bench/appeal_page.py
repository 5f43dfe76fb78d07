"""Appeal page latency against the PostgreSQL in DATABASE_URL (fill it with
`manage.py bench_generate --cases 1000000` first). Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench .venv/bin/python bench/appeal_page.py [--appeals 200]

Setup, through the services: `--appeals` open bench cases about ordinary accounts are claimed and
decided (a warning) by a bench decider, and each decision is appealed by its account (source
"bench-appeal", so a second run reuses them). Then, over real HTTP (gunicorn, an analyst's session
cookie, as bench/pages.py), `--clients` concurrent clients request the appeal cases' pages
(/cases/<appeal case id>/: the appeal beside the contested decision, the original case's evidence
and timeline, earlier appeals, the subject's history and linked accounts) and the p50/p95/p99
latency is printed with the page's query count.
"""

import argparse
import sys
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
from pages import measure, query_count, reader_session  # noqa: E402

SOURCE = "bench-appeal"
DECIDER = "bench-decider"


def ensure_appeals(wanted: int) -> list[int]:
    """Appeal case ids, making appeals (decision + appeal) until `wanted` exist."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from appeals import services as appeals
    from appeals.models import Appeal
    from cases.models import Case, CaseStatus, Subject
    from cases.services.workflow import case_claim
    from enforcement import selectors
    from enforcement import services as enforcement
    from tsconsole import roles

    User = get_user_model()
    decider, _ = User.objects.get_or_create(username=DECIDER)
    decider.groups.add(Group.objects.get_or_create(name=roles.LEAD)[0])
    platform, _ = User.objects.get_or_create(username="bench-platform")
    platform.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])
    have = Appeal.objects.filter(source=SOURCE).count()
    candidates = (
        Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True, kind="report",
                            subject__kind=Subject.Kind.ACCOUNT)
        .select_related("subject", "category").order_by("-id").iterator(chunk_size=200)
    )
    for case in candidates:
        if have >= wanted:
            break
        if selectors.high_impact_reasons(case.subject) or selectors.policy_for_category(case.category) is None:
            continue
        case_claim(case=case.pk, actor=decider)
        decision = enforcement.case_decide(
            case=case.pk, actor=decider, actions=[{"type": "warn"}], rationale="Bench decision.",
            statement="We warned you.", departure_reason="Bench: a warning whatever the ladder says.")
        appeals.appeal_file(decision=decision.ref, appellant_kind="subject", appellant_ref=case.subject.external_id,
                            source=SOURCE, external_id=f"{SOURCE}-{case.pk}", statement="Please look again.",
                            actor=platform)
        have += 1
    return list(Appeal.objects.filter(source=SOURCE).order_by("id").values_list("case_id", flat=True)[:wanted])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=200, help="Appeal cases to make (or reuse) and request.")
    parser.add_argument("--rounds", type=int, default=2, help="Requests per appeal page.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes.")
    args = parser.parse_args()

    django_on_bench_database()
    from cases.models import Case

    user, cookie = reader_session()
    case_ids = ensure_appeals(args.appeals)
    emit(bench="appeal_page", case="setup", cases=Case.objects.count(), appeal_cases=len(case_ids))
    if not case_ids:
        raise SystemExit("No open bench cases about ordinary accounts to decide and appeal.")
    queries = query_count(f"/cases/{case_ids[0]}/", user)
    port = free_port()
    server = start_server(port, args.workers, 1)
    try:
        measure(port, cookie, "warm", [f"/cases/{i}/" for i in case_ids[:8]], clients=args.clients, count_queries=0)
        paths = [f"/cases/{i}/" for i in case_ids] * args.rounds
        meter = CpuMeter(lambda: group_pids(server.pid), other_backends)
        line = measure(port, cookie, "appeal", paths, clients=args.clients, count_queries=queries, meter=meter)
        line["bench"] = "appeal_page"
        emit(**line)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
