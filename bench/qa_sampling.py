"""QA sampling benchmark against the PostgreSQL in DATABASE_URL. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_bench_qa .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/tsc_bench_qa .venv/bin/python bench/qa_sampling.py --decisions 1000000

With fewer than --decisions applied decisions in the database, the rest are generated in SQL
(resolved cases, one action each, spread over --days days, round-robin over --analysts analysts).
Then, with the four default rules active (random 5 %, first 20 of new analysts, terminations /
two-person, weekly floor of 3) and --reviewers QA reviewers:

- `first_pass`: one sampling pass over every decision (the window reaches back past the oldest);
- `rerun`: the same pass again, which must add nothing (idempotence) — its time is the steady
  cost of re-reading the window;
- `beat_pass`: the pass as the beat runs it, over the default lookback window.

Target: a pass over 1M decisions in under 5 s. Every pass commits: use a database made for it.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsconsole.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key")

from bench.harness import emit  # noqa: E402


def _generate(n: int, *, days: int, analysts: int, reviewers: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from cases.models import Category, Queue, Subject
    from enforcement.models import EnforcementAction, Policy
    from tsconsole import roles

    have = EnforcementAction.objects.filter(applied_at__isnull=False).count()
    if have >= n:
        emit(step="generate", skipped=True, decisions=have)
        return
    started = time.perf_counter()
    def user(name, role):  # no password: bench users never sign in (and hashing 200 of them takes a minute)
        made, _ = get_user_model().objects.get_or_create(username=name)
        made.groups.add(Group.objects.get_or_create(name=role)[0])
        return made.pk

    analyst_ids = [user(f"qa-bench-analyst-{i}", roles.ANALYST) for i in range(analysts)]
    for i in range(reviewers):
        user(f"qa-bench-reviewer-{i}", roles.QA_REVIEWER)
    policy = Policy.objects.filter(is_active=True).order_by("pk").first()
    version = policy.versions.order_by("-version").first()
    category = Category.objects.filter(parent=policy.category).first() or policy.category
    queue = Queue.objects.order_by("pk").first()
    subject, _ = Subject.objects.get_or_create(kind="account", external_id="qa-bench-subject")
    now = timezone.now()
    todo = n - have
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH made AS (
                INSERT INTO cases_case (subject_id, queue_id, category_id, status, priority, priority_reasons, sla_paused_seconds,
                                        resolution, resolution_reason, hold_reason, report_count, reporter_count, opened_at,
                                        resolved_at, updated_at)
                SELECT %(subject)s, %(queue)s, %(category)s, 'resolved', 2, '[]', 0, 'actioned', '', '', 1, 1,
                       %(now)s - (g::bigint * %(span)s / %(todo)s) * interval '1 second',
                       %(now)s - (g::bigint * %(span)s / %(todo)s) * interval '1 second', %(now)s
                FROM generate_series(1, %(todo)s) g
                RETURNING id, resolved_at)
            INSERT INTO enforcement_enforcementaction (
                decision_ref, case_id, target_id, policy_id, policy_version_id, action_type, status, decision_visibility,
                decision_account, decision_provision, decision_monetary, decision_ground, category, automated_detection,
                automated_decision, rationale, statement, departure_reason, created_at, applied_at, proposer_id,
                requires_approval, review_comment, reversal_reason)
            SELECT gen_random_uuid(), m.id, %(subject)s, %(policy)s, %(version)s,
                   CASE WHEN m.id %% 200 = 0 THEN 'termination' WHEN m.id %% 3 = 0 THEN 'no_violation' ELSE 'warn' END,
                   'active', '', '', '', '', 'DECISION_GROUND_INCOMPATIBLE_CONTENT', 'STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE',
                   false, 'AUTOMATED_DECISION_NOT_AUTOMATED', 'bench', 'bench', '', m.resolved_at, m.resolved_at,
                   (%(analysts)s::bigint[])[1 + m.id %% %(n_analysts)s], false, '', ''
            FROM made m
        """, {"subject": subject.pk, "queue": queue.pk, "category": category.pk, "now": now, "span": days * 86400,
              "todo": todo, "policy": policy.pk, "version": version.pk, "analysts": analyst_ids, "n_analysts": len(analyst_ids)})
        cursor.execute("VACUUM ANALYZE enforcement_enforcementaction")
        cursor.execute("VACUUM ANALYZE cases_case")
    emit(step="generate", seconds=round(time.perf_counter() - started, 1), decisions=n)


def _pass(label: str, **kwargs) -> dict:
    from qa.sampling import samples_draw

    started = time.perf_counter()
    drawn = samples_draw(**kwargs)
    seconds = time.perf_counter() - started
    emit(step=label, seconds=round(seconds, 3), drawn=drawn, total=sum(drawn.values()))
    return {"seconds": seconds, "drawn": drawn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7, help="spread of the generated decisions (the floor reads two weeks)")
    parser.add_argument("--analysts", type=int, default=200)
    parser.add_argument("--reviewers", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.utils import timezone

    from enforcement.models import EnforcementAction

    _generate(args.decisions, days=args.days, analysts=args.analysts, reviewers=args.reviewers)
    oldest = EnforcementAction.objects.filter(applied_at__isnull=False).order_by("applied_at").values_list("applied_at", flat=True).first()
    since = oldest - timedelta(seconds=1)
    first = _pass("first_pass", since=since)
    rerun = _pass("rerun", since=since)
    assert sum(rerun["drawn"].values()) == 0, "a second pass must add nothing"
    _pass("beat_pass", now=timezone.now())
    emit(step="summary", decisions=args.decisions, first_pass_seconds=round(first["seconds"], 3), target_seconds=5,
         ok=first["seconds"] < 5)


if __name__ == "__main__":
    main()
