"""Real threads against PostgreSQL: two leads approving at once, and two expiry sweeps at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseEvent
from enforcement import services
from enforcement.models import ActionStatus, EnforcementAction, Strike
from tests.factories import AccountFactory
from tests.threads import run_together
from tsconsole.errors import Conflict
from tsconsole.models import OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def test_two_leads_approving_at_once_apply_the_decision_once(claimed, analyst, lead, other_lead, policy, endpoint):
    decision = services.case_decide(case=claimed(AccountFactory(verified=True)), actor=analyst,
                                    actions=[{"type": "warn"}], rationale="r", statement="s")
    action_id = decision.actions[0].pk
    results = run_together(
        lambda: services.decision_approve(action=action_id, actor=lead),
        lambda: services.decision_approve(action=action_id, actor=other_lead),
    )
    assert sum(isinstance(r, list) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert CaseEvent.objects.filter(verb="decision_approved").count() == 1
    assert Strike.objects.count() == 1
    assert OutboxMessage.objects.filter(topic="enforcement.applied").count() == 1


def test_two_sweeps_at_once_expire_each_action_once(claimed, analyst, policy, endpoint):
    for _ in range(40):
        services.case_decide(case=claimed(), actor=analyst, actions=[{"type": "suspension", "duration_hours": 1}],
                             rationale="r", statement="s", departure_reason="Severe.")
    clock = timezone.now() + timedelta(hours=2)
    results = run_together(
        lambda: services.actions_expire(now=clock, batch_size=7),
        lambda: services.actions_expire(now=clock, batch_size=7),
    )
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 40
    assert EnforcementAction.objects.filter(status=ActionStatus.EXPIRED).count() == 40
    assert CaseEvent.objects.filter(verb="action_expired").count() == 40
    assert OutboxMessage.objects.filter(topic="enforcement.expired").count() == 40
