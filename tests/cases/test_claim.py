"""Claim next: order, emptiness, and no double assignment under real concurrency."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus
from cases.services import workflow
from tests.factories import CaseFactory, QueueFactory, user_with_role
from tsconsole.errors import NotFound
from tsconsole.roles import ANALYST


@pytest.mark.django_db
def test_claims_by_priority_then_due_time_then_id(analyst):
    queue = QueueFactory()
    now = timezone.now()
    p2_late = CaseFactory(queue=queue, priority=2, resolution_due_at=now + timedelta(hours=5))
    p2_soon = CaseFactory(queue=queue, priority=2, resolution_due_at=now + timedelta(hours=1))
    p2_no_clock = CaseFactory(queue=queue, priority=2, resolution_due_at=None)
    p1 = CaseFactory(queue=queue, priority=1, resolution_due_at=now + timedelta(days=2))
    p2_soon_twin = CaseFactory(queue=queue, priority=2, resolution_due_at=p2_soon.resolution_due_at)
    order = [workflow.case_claim_next(queue=queue, actor=analyst).pk for _ in range(5)]
    assert order == [p1.pk, p2_soon.pk, p2_soon_twin.pk, p2_late.pk, p2_no_clock.pk]
    assert workflow.case_claim_next(queue=queue, actor=analyst) is None


@pytest.mark.django_db
def test_claim_skips_assigned_and_other_statuses_and_queues(analyst, make_user):
    queue = QueueFactory()
    other = make_user(ANALYST, username="other")
    CaseFactory(queue=queue, priority=0, status=CaseStatus.IN_REVIEW, assignee=other)
    CaseFactory(queue=queue, priority=0, status=CaseStatus.RESOLVED)
    CaseFactory(queue=queue, priority=0, status=CaseStatus.ESCALATED)
    CaseFactory(queue=QueueFactory(), priority=0)
    waiting = CaseFactory(queue=queue, priority=3)
    claimed = workflow.case_claim_next(queue=queue.slug, actor=analyst)
    assert claimed.pk == waiting.pk
    assert (claimed.status, claimed.assignee, claimed.queue) == (CaseStatus.IN_REVIEW, analyst, queue)
    event = CaseEvent.objects.get(case=claimed)
    assert (event.verb, event.actor, event.from_status, event.to_status, event.data) == (
        "claimed", analyst, "open", "in_review", {"queue": queue.slug, "next": True})


@pytest.mark.django_db
def test_unknown_or_inactive_queue_is_not_found(analyst):
    QueueFactory(slug="closed", is_active=False)
    for slug in ("nope", "closed"):
        with pytest.raises(NotFound):
            workflow.case_claim_next(queue=slug, actor=analyst)


@pytest.mark.django_db
def test_claim_next_uses_the_partial_index(analyst):
    queue = QueueFactory()
    for other in (QueueFactory(), QueueFactory()):
        CaseFactory.create_batch(100, queue=other)
    CaseFactory.create_batch(100, queue=queue)
    CaseFactory.create_batch(100, queue=queue, status=CaseStatus.RESOLVED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
        sql = workflow._claim_sql("queue_id = %(queue)s", pick=True)
        cursor.execute("EXPLAIN " + sql, {"queue": queue.pk, "actor": analyst.pk, "now": timezone.now(),
                                          "actor_kind": "user", "data": "{}"})
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_claimable" in plan
    assert "LockRows" in plan


THREADS = 32
CASES = 400


@pytest.mark.django_db(transaction=True)
def test_32_threads_never_claim_a_case_twice_and_skip_none():
    """32 analysts hammer one queue at once through the real service and real PostgreSQL
    connections; every case is claimed exactly once, and the queue ends empty."""
    queue = QueueFactory(slug="race")
    ids = {c.pk for c in CaseFactory.create_batch(CASES, queue=queue)}
    users = [user_with_role(ANALYST, username=f"racer{i}") for i in range(THREADS)]
    start = threading.Barrier(THREADS)
    claims: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user):
        try:
            start.wait()
            while True:
                case = workflow.case_claim_next(queue="race", actor=user)
                if case is None:
                    return
                with lock:
                    claims.append((case.pk, user.pk))
        except BaseException as exc:  # surfaced below, with the thread's own traceback
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = Counter(case_id for case_id, _ in claims)
    assert max(counts.values()) == 1, "a case was handed to two analysts"
    assert set(counts) == ids, "a case was skipped"
    # the database agrees with what each claimer was told
    assigned = dict(Case.objects.filter(pk__in=ids).values_list("pk", "assignee_id"))
    assert assigned == dict(claims)
    assert not Case.objects.filter(queue=queue, status=CaseStatus.OPEN).exists()
    assert CaseEvent.objects.filter(case__queue=queue, verb="claimed").count() == CASES
    assert len({user_id for _, user_id in claims}) > 1, "the claimers did not actually overlap"


@pytest.mark.django_db(transaction=True)
def test_concurrent_idle_sweeps_release_each_claim_once():
    queue = QueueFactory(slug="sweep", claim_timeout_minutes=1)
    user = user_with_role(ANALYST, username="sleepy")
    cases = CaseFactory.create_batch(30, queue=queue)
    for case in cases:
        workflow.case_claim(case=case, actor=user)
    later = timezone.now() + timedelta(minutes=5)
    results: list[list[int]] = []
    start = threading.Barrier(4)

    def sweep():
        try:
            start.wait()
            results.append(workflow.release_idle_claims(now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    released = [case_id for batch in results for case_id in batch]
    assert sorted(released) == sorted(c.pk for c in cases)
    assert CaseEvent.objects.filter(verb="claim_expired").count() == 30
