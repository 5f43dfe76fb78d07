"""Outward effects are written in the transaction of the change: no change, no outbox row."""

import pytest
from django.db import transaction

from cases.models import CaseEvent, CaseStatus
from enforcement import services
from enforcement.models import EnforcementAction, Strike
from tests.factories import AccountFactory, ReportFactory
from tsconsole.models import OutboxMessage

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_a_decision_rolled_back_by_its_caller_leaves_no_outbox_rows(claimed, analyst, policy, endpoint):
    case = claimed()
    ReportFactory(case=case, reporter_ref="r-1")
    with pytest.raises(Boom), transaction.atomic():
        services.case_decide(case=case, actor=analyst, actions=[{"type": "warn"}], rationale="r", statement="s")
        assert OutboxMessage.objects.count() == 2  # applied + report.outcome, inside the transaction
        raise Boom
    assert not OutboxMessage.objects.exists()
    assert not EnforcementAction.objects.exists() and not Strike.objects.exists()
    assert not CaseEvent.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_a_failure_late_in_the_decision_undoes_everything(claimed, analyst, policy, endpoint, monkeypatch):
    case = claimed()
    ReportFactory(case=case, reporter_ref="r-1")

    def fail(*args, **kwargs):
        raise Boom("the reporter notice could not be written")

    # The last step of the decision fails after the actions, strike, event and webhook rows were written.
    monkeypatch.setattr(services, "reporters_notify", fail)
    with pytest.raises(Boom):
        services.case_decide(case=case, actor=analyst, actions=[{"type": "warn"}], rationale="r", statement="s")
    assert not OutboxMessage.objects.exists()
    assert not EnforcementAction.objects.exists() and not Strike.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and not CaseEvent.objects.filter(case=case).exists()


def test_a_failed_approval_and_a_failed_reversal_leave_no_rows(claimed, analyst, lead, other_lead, policy, endpoint,
                                                               monkeypatch):
    case = claimed(AccountFactory(verified=True))
    decision = services.case_decide(case=case, actor=analyst, actions=[{"type": "warn"}], rationale="r", statement="s")
    with pytest.raises(Boom), transaction.atomic():
        services.decision_approve(action=decision.actions[0], actor=lead)
        assert OutboxMessage.objects.filter(topic="enforcement.applied").exists()
        raise Boom
    assert not OutboxMessage.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL

    services.decision_approve(action=decision.actions[0], actor=lead)
    before = OutboxMessage.objects.count()
    with pytest.raises(Boom), transaction.atomic():
        services.action_reverse(action=decision.actions[0].pk, reason="r", actor=other_lead)
        raise Boom
    assert OutboxMessage.objects.count() == before
    assert not OutboxMessage.objects.filter(topic="enforcement.reversed").exists()
    decision.actions[0].refresh_from_db()
    assert decision.actions[0].status == "active"


def test_outbox_keys_make_the_platform_see_each_action_once(claimed, analyst, policy, endpoint):
    decision = services.case_decide(case=claimed(), actor=analyst, actions=[{"type": "warn"}], rationale="r",
                                    statement="s")
    message = OutboxMessage.objects.get(topic="enforcement.applied")
    assert message.idempotency_key == f"enforcement.applied:action{decision.actions[0].pk}:ep{endpoint.pk}"
    assert message.endpoint == endpoint and message.status == "pending"
