"""QA sampling benchmark against the PostgreSQL in DATABASE_URL. Prints JSON lines.

    DATABASE_URL=postgres://…/tsc_qa_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/tsc_qa_bench .venv/bin/python bench/qa_sampling.py --decisions 1000000 --explain

With fewer than --decisions applied decisions in the database, the rest are generated in SQL
(resolved cases, one action each, spread over --days days, round-robin over --analysts analysts;
the triggers of qa/0005 group them into qa_decision as they are written). Then, with the default
rules active (random 5 %, first 20 of new analysts, terminations / two-person, weekly floor of 3,
overturned on appeal) and --reviewers QA reviewers, after removing every sample and mark:

- `first_pass`: one pass over every decision (the window reaches back past the oldest): what a
  pass over 1M decisions costs when nothing is known yet (a new deployment, a replay);
- `rerun`: the same full read again, which must add nothing (idempotence);
- `beat_idle`: the beat's pass right after: incremental, nothing new;
- `beat_insert`: --beat-decisions new decisions written (the projection's trigger included);
- `beat_pass`: the beat's pass over them (incremental: reads only what was written since).

`--explain` prints EXPLAIN ANALYZE of each rule's statement of a full pass (rolled back).
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


def _generate(n: int, *, days: int, analysts: int, reviewers: int, label: str = "generate", fresh: bool = False) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from cases.models import Category, Queue, Subject
    from enforcement.models import EnforcementAction, Policy
    from tsconsole import roles

    have = 0 if fresh else EnforcementAction.objects.filter(applied_at__isnull=False).count()
    if have >= n:
        emit(step=label, skipped=True, decisions=have)
        return
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
    started = time.perf_counter()
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
        inserted = time.perf_counter() - started
        if not fresh:
            for table in ("enforcement_enforcementaction", "cases_case", "qa_decision"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    emit(step=label, seconds=round(inserted, 3), decisions=todo)


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (from /proc, same host)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pass(label: str, **kwargs) -> dict:
    """One pass, timed: wall seconds, and the CPU seconds of the database backend and of this
    process (on a shared machine the CPU figures are the ones that do not grow with others' load)."""
    from qa.sampling import samples_draw

    db_before, own_before = _backend_cpu(), time.process_time()
    started = time.perf_counter()
    drawn = samples_draw(**kwargs)
    seconds = time.perf_counter() - started
    db_after, own = _backend_cpu(), time.process_time() - own_before
    db = round(db_after - db_before, 2) if db_before is not None and db_after is not None else None
    emit(step=label, seconds=round(seconds, 3), db_cpu_seconds=db, client_cpu_seconds=round(own, 2), drawn=drawn,
         total=sum(drawn.values()), load=os.getloadavg()[0])
    return {"seconds": seconds, "db_cpu": db, "drawn": drawn}


def _reset() -> None:
    """No samples and no marks: the next pass starts from nothing (this database is the bench's own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE qa_dispute, qa_feedback, qa_correction, qa_audit, qa_sample, qa_samplingwatermark")
        cursor.execute("VACUUM ANALYZE qa_sample")


def _plan_nodes(node) -> list[dict]:
    """Every node of a JSON plan with its own time (its total less its children's)."""
    children = node.get("Plans", [])
    own = node.get("Actual Total Time", 0) * node.get("Actual Loops", 1) - sum(
        c.get("Actual Total Time", 0) * c.get("Actual Loops", 1) for c in children)
    name = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "") + (
        f" using {node['Index Name']}" if "Index Name" in node else "")
    rows = [{"node": name, "own_ms": round(own, 1), "rows": node.get("Actual Rows"), "loops": node.get("Actual Loops")}]
    for child in children:
        rows += _plan_nodes(child)
    return rows


def _explain(since) -> None:
    """EXPLAIN ANALYZE of each statement of a full pass, in order (each sees its predecessors'
    samples, as in a real pass), then rolled back. Prints the plan's top nodes by own time."""
    import json

    from django.db import connection, transaction
    from django.utils import timezone

    from qa.sampling import pass_statements, reviewer_pool

    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '128MB'")
            for v, sql, params in pass_statements(now=now, since=since, reviewers=reviewer_pool())[0]:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                nodes = _plan_nodes(plan["Plan"])
                triggers = [{"trigger": t["Trigger Name"], "ms": round(t["Time"], 1), "calls": t["Calls"]}
                            for t in plan.get("Triggers", [])]
                emit(step="explain", rule=v.rule.name, kind=v.kind, total_ms=round(plan["Execution Time"], 1),
                     top=sorted(nodes, key=lambda n: -n["own_ms"])[:5], triggers=triggers)
        transaction.set_rollback(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7, help="spread of the generated decisions (the floor reads two weeks)")
    parser.add_argument("--analysts", type=int, default=200)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--beat-decisions", type=int, default=1000,
                        help="decisions written between two beats (1M a week is ~500 per 5-minute beat)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each rule's statement of a full pass")
    args = parser.parse_args()

    import django

    django.setup()
    from qa.models import Decision

    _generate(args.decisions, days=args.days, analysts=args.analysts, reviewers=args.reviewers)
    _reset()
    decisions = Decision.objects.count()
    oldest = Decision.objects.order_by("decided_at").values_list("decided_at", flat=True).first()
    since = oldest - timedelta(seconds=1)
    if args.explain:
        _explain(since)
    first = _pass("first_pass", since=since)
    rerun = _pass("rerun", since=since)
    assert sum(rerun["drawn"].values()) == 0, "a second pass must add nothing"
    idle = _pass("beat_idle")
    _generate(args.beat_decisions, days=0, analysts=args.analysts, reviewers=args.reviewers, label="beat_insert", fresh=True)
    beat = _pass("beat_pass")
    assert sum(beat["drawn"].values()) > 0, "the beat draws from the new decisions"
    emit(step="summary", decisions=decisions, first_pass_seconds=round(first["seconds"], 3),
         first_pass_db_cpu_seconds=first["db_cpu"], beat_pass_db_cpu_seconds=beat["db_cpu"],
         rerun_seconds=round(rerun["seconds"], 3), beat_idle_seconds=round(idle["seconds"], 3),
         beat_pass_seconds=round(beat["seconds"], 3), beat_decisions=args.beat_decisions, target_seconds=5,
         first_pass_ok=first["seconds"] < 5, beat_ok=beat["seconds"] < 5, load=os.getloadavg()[0])


if __name__ == "__main__":
    main()
