"""QA page latency against the PostgreSQL in DATABASE_URL, after a sampling pass. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_qa_bench .venv/bin/python bench/qa_sampling.py --decisions 1000000
    DATABASE_URL=postgres://…/tsc_qa_bench .venv/bin/python bench/qa_pages.py

Over real HTTP (gunicorn on a free 127.0.0.1 port), `--clients` concurrent clients request each
page `--requests` times, each as the person who uses it:

- `qa_home`: a QA reviewer's queue (/qa/): their due samples and their sample list;
- `qa_queue_lead`: the lead's queue (/qa/): every sample, with reassignment;
- `review`: blinded review pages of the reviewer's due samples (/qa/samples/<id>/);
- `reveal`: reveal pages of their reviewed samples;
- `feedback`: an analyst's feedback inbox (/qa/feedback/);
- `overview`: the lead's QA overview (/qa/overview/);
- `calibration`: a calibration session's page (/qa/calibration/<id>/), as its lead;
- `rubrics`: the rubrics page (/qa/rubrics/).

Before measuring, --audits of the reviewer's samples are reviewed through qa.services (some in
disagreement, so the analysts have feedback) and a calibration session is made, if not there.
Each line carries p50/p95/p99, the server CPU per request (web workers and their PostgreSQL
backends), the query count of the page (measured once in-process) and the load average.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claim import other_backends  # noqa: E402
from harness import CpuMeter, emit, free_port, group_pids, start_server, stop_server  # noqa: E402
from pages import measure, query_count  # noqa: E402

LEAD = "qa-bench-lead"
REVIEWER = "qa-bench-reviewer-0"
CALIBRATION = "QA page bench"


def session_for(user) -> str:
    """A signed-in session for `user`: its cookie value."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def prepare(audits: int) -> dict:
    """The people, reviewed samples with feedback, and a calibration session the pages show."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from qa import services
    from qa.models import Audit, CalibrationSession, Feedback, Sample, SampleStatus
    from tsconsole import roles

    users = get_user_model().objects
    lead, _ = users.get_or_create(username=LEAD)
    lead.groups.add(Group.objects.get_or_create(name=roles.LEAD)[0])
    reviewer = users.get(username=REVIEWER)
    have = Audit.objects.filter(reviewer=reviewer).count()
    due = list(Sample.objects.filter(reviewer=reviewer, status=SampleStatus.DUE).select_related("case__category")
               .order_by("due_at", "id")[: max(0, audits - have)])
    for i, sample in enumerate(due):
        rubric = services.rubric_for_case(sample.case)
        scores = {c.key: 5 if i % 3 else 2 for c in rubric.criteria.all()}
        # every third in disagreement (no violation where the analyst acted): feedback for the analyst
        decision = {"no_violation": True} if i % 3 == 0 else {
            "policy": sample.action.policy.slug, "actions": [{"type": sample.action.action_type}]}
        services.sample_review(sample=sample, decision=decision, scores=scores, actor=reviewer,
                               feedback="Bench feedback." if i % 3 == 0 else "")
    analyst_id = Feedback.objects.order_by("-id").values_list("analyst_id", flat=True).first()
    analyst = users.get(pk=analyst_id)
    session = CalibrationSession.objects.filter(title=CALIBRATION).first()
    if session is None:
        cases = list(Sample.objects.filter(reviewer=reviewer).order_by("id").values_list("case_id", flat=True)[:10])
        session = services.calibration_create(title=CALIBRATION, cases=[str(c) for c in cases],
                                              participants=[analyst.username, REVIEWER], actor=lead)
    reviewed = list(Sample.objects.filter(reviewer=reviewer, status=SampleStatus.REVIEWED).values_list("pk", flat=True))
    pending = list(Sample.objects.filter(reviewer=reviewer, status=SampleStatus.DUE).order_by("due_at", "id")
                   .values_list("pk", flat=True)[:300])
    return {"lead": lead, "reviewer": reviewer, "analyst": analyst, "session": session.pk,
            "reviewed": reviewed, "due": pending}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="Requests per page kind.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes.")
    parser.add_argument("--audits", type=int, default=60, help="Reviewed samples the reveal pages and inbox show.")
    parser.add_argument("--pages", default="", help="Measure only these page kinds (comma-separated, e.g. review,reveal).")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database made for benchmarks.")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()
    from cases.models import Case
    from qa.models import Decision, Sample

    world = prepare(args.audits)
    emit(bench="qa_pages", case="setup", cases=Case.objects.count(), decisions=Decision.objects.count(),
         samples=Sample.objects.count(), reviewed=len(world["reviewed"]), due_for_reviewer=len(world["due"]))
    n = args.requests
    cycle = lambda ids, fmt: [fmt.format(ids[i % len(ids)]) for i in range(n)]  # noqa: E731
    plan = {  # name: (who, paths)
        "qa_home": ("reviewer", ["/qa/"] * n),
        "qa_queue_lead": ("lead", ["/qa/"] * n),
        "review": ("reviewer", cycle(world["due"], "/qa/samples/{}/")),
        "reveal": ("reviewer", cycle(world["reviewed"], "/qa/samples/{}/")),
        "feedback": ("analyst", ["/qa/feedback/"] * n),
        "overview": ("lead", ["/qa/overview/"] * n),
        "calibration": ("lead", [f"/qa/calibration/{world['session']}/"] * n),
        "rubrics": ("lead", ["/qa/rubrics/"] * n),
    }
    if args.pages:
        unknown = set(args.pages.split(",")) - set(plan)
        if unknown:
            raise SystemExit(f"Unknown page kinds: {', '.join(sorted(unknown))} (known: {', '.join(plan)}).")
        plan = {name: what for name, what in plan.items() if name in args.pages.split(",")}
    cookies = {who: session_for(world[who]) for who in {who for who, _ in plan.values()}}
    counts = {name: query_count(paths[0], world[who]) for name, (who, paths) in plan.items()}
    port = free_port()
    server = start_server(port, args.workers, 1)
    try:
        for who, cookie in cookies.items():  # warm every worker's caches
            measure(port, cookie, "warm", [p for w, paths in plan.values() if w == who for p in paths[:8]],
                    clients=args.clients, count_queries=0)
        meter = CpuMeter(lambda: group_pids(server.pid), other_backends)
        for name, (who, paths) in plan.items():
            line = measure(port, cookies[who], name, paths, clients=args.clients, count_queries=counts[name], meter=meter)
            emit(**{**line, "bench": "qa_pages", "as": who})
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
