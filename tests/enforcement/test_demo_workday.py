"""The demo looks like a working day: the team's history was made through the services at the
times it happened, and what is left open is mostly inside its SLA.

One seeding for all the checks: the whole demo takes seconds to make."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max, Min, Sum
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus
from enforcement.models import ActionStatus, EnforcementAction
from insights.models import QueueHour
from tsconsole.models import ExposureDay
from tsconsole.selectors import team_exposure

pytestmark = pytest.mark.django_db


def test_the_demo_is_a_working_day(settings):
    settings.TSCONSOLE_DEMO = True
    call_command("seed_demo", force=True, verbosity=0)
    now = timezone.now()

    # Most open cases inside their SLA, a few breached, work waiting in the queues.
    open_cases = Case.objects.exclude(status=CaseStatus.RESOLVED)
    breached = open_cases.filter(resolution_due_at__lt=now).count()
    assert open_cases.count() >= 20
    assert 1 <= breached <= open_cases.count() * 0.25
    assert open_cases.filter(status=CaseStatus.OPEN, assignee__isnull=True).exists()

    # Each analyst decided cases over the last days and has some in hand now.
    for username in ["analyst", "analyst2", "analyst3"]:
        assert Case.objects.filter(status=CaseStatus.RESOLVED, resolved_by__username=username).count() >= 10, username
        assert Case.objects.filter(status=CaseStatus.IN_REVIEW, assignee__username=username).exists(), username
        span = CaseEvent.objects.filter(actor__username=username).aggregate(first=Min("created_at"), last=Max("created_at"))
        assert span["last"] - span["first"] > timedelta(hours=24), f"{username}'s work is spread over days"
        assert span["last"] <= now

    # Holds, escalations and approvals happened, and some approvals wait for a lead now.
    for verb in ["held", "resumed", "escalated", "escalation_acknowledged", "escalation_resolved",
                 "decision_proposed", "decision_approved"]:
        assert CaseEvent.objects.filter(verb=verb).exists(), verb
    assert EnforcementAction.objects.filter(status=ActionStatus.PENDING_APPROVAL).exists()

    # On every replayed timeline the analyst's claim comes before the rest of their work.
    for case in Case.objects.filter(resolved_by__username="analyst3")[:20]:
        claimed = case.events.get(verb="claimed").created_at
        assert not case.events.filter(actor=case.resolved_by, created_at__lt=claimed).exists()

    # The insights rollups cover the replayed days, so the dashboards show them at once.
    first = CaseEvent.objects.aggregate(first=Min("created_at"))["first"]
    assert QueueHour.objects.filter(hour__lte=first).exists()
    assert QueueHour.objects.aggregate(n=Sum("resolved"))["n"] == Case.objects.filter(
        status=CaseStatus.RESOLVED, resolved_at__isnull=False).count()

    # The lead sees the team's minutes on sensitive cases, derived from the replayed claims.
    lead = get_user_model().objects.get(username="lead")
    exposed = team_exposure(lead)["people"]
    assert len(exposed) >= 2 and all(person["total"] > 0 for person in exposed)
    assert all(minutes <= 24 * 60 for person in exposed for minutes in person["minutes"])

    # Seeding again adds nothing.
    counts = (Case.objects.count(), CaseEvent.objects.count(), ExposureDay.objects.aggregate(n=Sum("minutes"))["n"])
    call_command("seed_demo", force=True, verbosity=0)
    assert (Case.objects.count(), CaseEvent.objects.count(),
            ExposureDay.objects.aggregate(n=Sum("minutes"))["n"]) == counts
