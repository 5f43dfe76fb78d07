"""SLA on the pages: one labelled pill per clock, queue counts split by clock, repeated sweep
marks folded in the timeline."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CaseEventFactory, CaseFactory, QueueFactory, SlaCrossingFactory

pytestmark = pytest.mark.django_db


def test_one_pill_per_clock_with_its_state(client, analyst):
    now = timezone.now()
    case = CaseFactory(opened_at=now - timedelta(hours=5), first_touch_due_at=now - timedelta(hours=4),
                       first_touched_at=now - timedelta(hours=3), resolution_due_at=now - timedelta(minutes=5))
    SlaCrossingFactory(case=case, clock="first_touch", level="at_risk", due_at=case.first_touch_due_at)
    SlaCrossingFactory(case=case, clock="first_touch", level="breached", due_at=case.first_touch_due_at)
    SlaCrossingFactory(case=case, clock="resolution", level="at_risk", due_at=case.resolution_due_at)
    SlaCrossingFactory(case=case, clock="resolution", level="breached", due_at=case.resolution_due_at)
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    clocks = html.split('data-testid="sla-clocks"')[1].split("claim-timeout")[0]
    first = clocks.split('data-clock="first_touch"')[1].split('data-clock="resolution"')[0]
    resolution = clocks.split('data-clock="resolution"')[1]
    assert first.count('class="pill') == 1 and ">Missed</span>" in first
    assert resolution.count('class="pill') == 1 and ">Breached</span>" in resolution
    assert "At risk</span>" not in clocks


def test_queue_counts_split_first_touch_and_resolution_breaches(client, analyst):
    queue = QueueFactory(slug="desk", name="Desk")
    now = timezone.now()
    CaseFactory(queue=queue, first_touch_due_at=now - timedelta(minutes=1))  # untouched past first touch
    CaseFactory(queue=queue, first_touch_due_at=now - timedelta(minutes=1), resolution_due_at=now - timedelta(minutes=1))
    CaseFactory(queue=queue, first_touched_at=now, first_touch_due_at=now - timedelta(minutes=1),
                resolution_due_at=now - timedelta(minutes=1), status="in_review", assignee=analyst)
    client.force_login(analyst)
    response = client.get(reverse("queue-list"))
    [row] = [r for r in response.context["summaries"] if r["queue"] == queue]
    assert (row["breached_first_touch"], row["breached_resolution"], row["breached"]) == (2, 2, 3)
    html = response.content.decode()
    assert "First touch missed" in html and "Past resolution" in html


def test_timeline_folds_repeated_sla_marks(client, analyst):
    case = CaseFactory()
    for _ in range(2):
        CaseEventFactory(case=case, verb="sla_breached", data={"clock": "resolution"})
    CaseEventFactory(case=case, verb="sla_at_risk", data={"clock": "first_touch"})
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    timeline = html.split('data-testid="timeline"')[1]
    assert timeline.count("Resolution target breached") == 1 and "×2" in timeline
    assert "First-touch target at risk" in timeline
