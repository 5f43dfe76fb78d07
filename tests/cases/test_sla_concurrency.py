"""Two SLA sweeps at once, in real threads on real PostgreSQL connections."""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, SlaCrossing
from cases.services.sla import SLA_SWEEP_LOCK, sla_sweep
from cases.sla import apply_due_times
from tests.cases.test_intake_concurrency import run_together
from tests.factories import (
    CaseFactory,
    QueueFactory,
    QueueSlaFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)
from tsconsole.models import Notification, OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

CASES = 30


@pytest.fixture
def due_cases():
    queue = QueueFactory(slug="race-queue", raise_priority_on_breach=True)
    QueueSlaFactory(queue=queue, priority=2, first_touch_minutes=60, resolution_minutes=240)
    QueueSlaFactory(queue=queue, priority=1, first_touch_minutes=20, resolution_minutes=120)
    TeamMembershipFactory(team=TeamFactory(slug="leads", chat_webhook_url="http://127.0.0.1:9/chat"), is_lead=True)
    owner = UserFactory(username="owner")
    opened = timezone.now() - timedelta(minutes=300)
    cases = []
    for i in range(CASES):
        case = CaseFactory(queue=queue, opened_at=opened, assignee=owner if i % 3 == 0 else None,
                           status=CaseStatus.IN_REVIEW if i % 3 == 0 else CaseStatus.OPEN)
        case.save(update_fields=apply_due_times(case))
        cases.append(case)
    return cases


def _totals():
    return (
        SlaCrossing.objects.count(),
        CaseEvent.objects.filter(verb__startswith="sla_").count(),
        CaseEvent.objects.filter(verb="priority_changed").count(),
        OutboxMessage.objects.count() + Notification.objects.count(),  # emails and chat posts, in-app notices
    )


@pytest.mark.parametrize("exclusive", [True, False], ids=["advisory-lock", "constraints-only"])
def test_two_sweeps_at_once_record_and_notify_once(due_cases, exclusive):
    now = timezone.now()
    results = run_together(lambda i: sla_sweep(now=now, exclusive=exclusive), count=2)

    crossings, events, raises, messages = _totals()
    # Every case passed both marks of both clocks; raising to P1 records the P1 marks silently.
    assert crossings == CASES * 8
    assert events == crossings and raises == CASES
    assert sum(r.breached for r in results) == CASES * 2
    assert sum(r.raised for r in results) == CASES
    assert messages == sum(r.notifications for r in results) > 0
    if exclusive:
        assert any(r.skipped or r.breached == 0 for r in results)

    # A third run, and a run per thread again, add nothing.
    run_together(lambda i: sla_sweep(now=now, exclusive=exclusive), count=2)
    assert _totals() == (crossings, events, raises, messages)


@contextmanager
def held_in_another_transaction(take):
    """Run `take(cursor)` in a transaction on another connection and keep that transaction open
    (with whatever locks it took) until the block ends."""
    taken, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                take(cursor)
                taken.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(30)
        yield
    finally:
        release.set()
        holder.join(30)


def test_a_sweep_that_finds_the_lock_taken_does_nothing(due_cases):
    with held_in_another_transaction(lambda cursor: cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SLA_SWEEP_LOCK])):
        result = sla_sweep(now=timezone.now())
    assert result.skipped and SlaCrossing.objects.count() == 0


def test_a_case_being_saved_is_left_for_the_next_run(due_cases):
    busy = due_cases[1]
    now = timezone.now()
    with held_in_another_transaction(lambda cursor: Case.objects.select_for_update().get(pk=busy.pk)):
        first = sla_sweep(now=now)
        assert not SlaCrossing.objects.filter(case=busy).exists()
        assert SlaCrossing.objects.exclude(case=busy).exists()
    second = sla_sweep(now=now)
    assert SlaCrossing.objects.filter(case=busy).exists()
    assert first.breached + second.breached == CASES * 2
