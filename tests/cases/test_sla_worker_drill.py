"""Drill: the SLA clock on real processes. Celery beat and a worker against real Redis and the real
PostgreSQL test database record a breach and deliver its in-app notification; with two beats
sending every sweep twice, the breach and the notification still happen once.
"""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus, SlaCrossing
from cases.sla import apply_due_times
from tests.factories import CaseFactory, QueueFactory, QueueSlaFactory, UserFactory
from tests.tsconsole.test_outbox_worker_kill import Processes, _wait
from tsconsole.models import Notification, OutboxMessage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SETTLE_SECONDS = 8  # sweeps keep running this long after the first delivery; nothing may be added


def _due_case():
    """A case in a queue with 1-minute targets, opened 2 minutes ago: both clocks are past 100 %."""
    queue = QueueFactory(slug="drill-queue", name="Drill queue")
    QueueSlaFactory(queue=queue, priority=2, first_touch_minutes=1, resolution_minutes=1)
    owner = UserFactory(username="drill-owner")
    case = CaseFactory(queue=queue, priority=2, status=CaseStatus.IN_REVIEW, assignee=owner,
                       opened_at=timezone.now() - timedelta(minutes=2))
    case.save(update_fields=apply_due_times(case))
    return case, owner


def _delivered(owner):
    return Notification.objects.filter(user=owner, kind="sla.breached")


def _run_drill(tmp_path, beats: int) -> dict:
    case, owner = _due_case()
    procs = Processes(tmp_path)
    procs.env["SWEEP_INTERVAL_SECONDS"] = "1"
    started = time.monotonic()
    try:
        for n in range(beats):
            procs.start(f"beat{n}", "beat", "--schedule", str(tmp_path / f"beat{n}-schedule"))
        for n in range(beats):  # with two beats, two workers, so their sweeps can overlap
            procs.worker(f"worker{n}")
        _wait(lambda: _delivered(owner).count() >= 2, 120, "both breach notifications to be delivered", procs)
        delivered_after = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)  # many more sweeps and relay runs, from every beat
    finally:
        procs.stop_all()

    for n in range(beats):  # every beat really was sending the sweep
        assert "Sending due task sla-sweep" in (tmp_path / f"beat{n}.log").read_text(), procs.logs()
    crossings = sorted(SlaCrossing.objects.filter(case=case).values_list("clock", "level"))
    assert crossings == [("first_touch", "at_risk"), ("first_touch", "breached"),
                         ("resolution", "at_risk"), ("resolution", "breached")], procs.logs()
    notifications = list(_delivered(owner))
    assert len(notifications) == 2, notifications  # one per clock: the breach, at-risk folded into it
    assert {n.url for n in notifications} == {f"/cases/{case.pk}/"}
    messages = OutboxMessage.objects.filter(topic__startswith="sla.")
    assert not messages.filter(channel="in_app").exists() and messages.filter(channel="email").count() == 2
    assert not messages.exclude(status=OutboxMessage.Status.DELIVERED).exists()
    events = case.events.filter(verb__startswith="sla_").count()
    assert events == 4
    figures = {"drill": "sla_worker", "beats": beats, "delivered_after_start_s": round(delivered_after, 2),
               "crossings": len(crossings), "notifications": len(notifications), "events": events}
    print(json.dumps(figures))
    return figures


def test_a_breach_is_recorded_and_its_notification_delivered_by_real_worker_and_beat(tmp_path):
    _run_drill(tmp_path, beats=1)


def test_two_beats_still_breach_and_notify_once(tmp_path):
    _run_drill(tmp_path, beats=2)
