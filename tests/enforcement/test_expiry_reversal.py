"""Temporary actions end by the beat sweep; leads reverse actions and their strikes stop counting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseEvent, CaseStatus
from enforcement import selectors, services, tasks
from enforcement.models import ActionStatus
from tests.factories import AccountFactory, EnforcementActionFactory
from tsconsole.celery import beat_schedule
from tsconsole.errors import Conflict, InvalidInput, NotAllowed
from tsconsole.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _suspend(case, analyst, hours=24):
    return services.case_decide(
        case=case, actor=analyst, actions=[{"type": "suspension", "duration_hours": hours}], rationale="r",
        statement="Suspended.", departure_reason="Severe.",
    ).actions[0]


def test_the_sweep_expires_due_actions_with_an_advanced_clock(claimed, analyst, policy, endpoint):
    due = _suspend(claimed(), analyst, hours=24)
    later = _suspend(claimed(), analyst, hours=72)
    permanent = services.case_decide(case=claimed(), actor=analyst, actions=[{"type": "warn"}], rationale="r",
                                     statement="s").actions[0]
    assert services.actions_expire() == 0  # nothing is due yet

    clock = timezone.now() + timedelta(hours=25)
    assert services.actions_expire(now=clock) == 1
    due.refresh_from_db()
    later.refresh_from_db()
    permanent.refresh_from_db()
    assert due.status == ActionStatus.EXPIRED and due.expired_at == clock
    assert later.status == ActionStatus.ACTIVE and permanent.status == ActionStatus.ACTIVE
    event = CaseEvent.objects.get(case=due.case, verb="action_expired")
    assert event.actor is None and event.actor_kind == "system" and event.data["action"] == due.pk
    message = OutboxMessage.objects.get(topic="enforcement.expired")
    assert message.payload["action_id"] == due.pk and message.payload["status"] == "expired"
    assert message.idempotency_key == f"enforcement.expired:action{due.pk}:ep{endpoint.pk}"

    # Safe twice: a second run at the same (or a later) time does nothing more for that action.
    assert services.actions_expire(now=clock) == 0
    assert CaseEvent.objects.filter(verb="action_expired").count() == 1
    assert OutboxMessage.objects.filter(topic="enforcement.expired").count() == 1

    assert services.actions_expire(now=clock + timedelta(days=3)) == 1
    later.refresh_from_db()
    assert later.status == ActionStatus.EXPIRED


def test_the_sweep_works_in_batches(claimed, analyst, policy):
    for _ in range(5):
        _suspend(claimed(), analyst, hours=1)
    assert services.actions_expire(now=timezone.now() + timedelta(hours=2), batch_size=2) == 5


def test_expired_actions_leave_their_strike_counting(claimed, analyst, policy):
    account = AccountFactory()
    _suspend(claimed(account), analyst)
    services.actions_expire(now=timezone.now() + timedelta(days=2))
    assert selectors.strike_summary(account)["total"] == 1
    # … until the policy window closes.
    assert selectors.strike_summary(account, now=timezone.now() + timedelta(days=181))["total"] == 0


def test_the_expiry_task_is_on_the_beat_schedule_and_runs_the_sweep(claimed, analyst, policy):
    entry = next(e for e in beat_schedule(5).values() if e["task"] == "enforcement.tasks.expire_actions")
    assert entry["schedule"] > 0
    action = _suspend(claimed(), analyst)
    action.__class__.objects.filter(pk=action.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert tasks.expire_actions() == 1


def test_a_lead_reverses_an_action_and_its_strike_stops_counting(claimed, analyst, lead, policy, endpoint):
    account = AccountFactory()
    action = _suspend(claimed(account), analyst)
    assert selectors.strike_summary(account)["total"] == 1
    reversed_action = services.action_reverse(action=action.pk, reason="Context missed: a quote.", actor=lead)
    assert reversed_action.status == ActionStatus.REVERSED
    assert reversed_action.reversed_by == lead and reversed_action.reversal_reason == "Context missed: a quote."
    assert selectors.strike_summary(account)["total"] == 0
    assert selectors.ladder_suggestion(account, policy)["action"] == "warn"
    event = CaseEvent.objects.get(case=action.case, verb="action_reversed")
    assert event.actor == lead and event.data["was"] == "active" and event.data["reason"] == "Context missed: a quote."
    action.case.refresh_from_db()
    assert action.case.status == CaseStatus.RESOLVED  # the case stays decided; the action is undone
    message = OutboxMessage.objects.get(topic="enforcement.reversed")
    assert message.payload["status"] == "reversed" and "reversed_at" in message.payload
    # A reversed action is never expired later.
    assert services.actions_expire(now=timezone.now() + timedelta(days=2)) == 0


def test_expired_actions_can_be_reversed(claimed, analyst, lead, policy):
    action = _suspend(claimed(), analyst)
    services.actions_expire(now=timezone.now() + timedelta(days=2))
    assert services.action_reverse(action=action.pk, reason="Overturned.", actor=lead).status == ActionStatus.REVERSED
    assert CaseEvent.objects.get(verb="action_reversed").data["was"] == "expired"


def test_reversal_rules(claimed, analyst, lead, policy):
    action = _suspend(claimed(), analyst)
    with pytest.raises(NotAllowed):
        services.action_reverse(action=action.pk, reason="No.", actor=analyst)
    with pytest.raises(InvalidInput):
        services.action_reverse(action=action.pk, reason="", actor=lead)
    services.action_reverse(action=action.pk, reason="Yes.", actor=lead)
    with pytest.raises(Conflict):
        services.action_reverse(action=action.pk, reason="Again.", actor=lead)
    pending = services.case_decide(case=claimed(AccountFactory(verified=True)), actor=analyst,
                                   actions=[{"type": "warn"}], rationale="r", statement="s").actions[0]
    with pytest.raises(Conflict):
        services.action_reverse(action=pending.pk, reason="Not in effect yet.", actor=lead)
    none = EnforcementActionFactory(action_type="no_violation")
    with pytest.raises(Conflict):
        services.action_reverse(action=none.pk, reason="x", actor=lead)


def test_appeals_reuse_reversal_through_their_own_capability(claimed, analyst, make_user, policy):
    action = _suspend(claimed(), analyst)
    reviewer = make_user("analyst", username="appeal-reviewer")
    with pytest.raises(NotAllowed):
        services.action_reverse(action=action.pk, reason="No appeal.", actor=reviewer)
    support = make_user("support_agent", username="appeal-support")
    with pytest.raises(NotAllowed):
        services.action_reverse(action=action.pk, reason="Appeal overturned.", actor=support, appeal_ref="appeal-7")
    services.action_reverse(action=action.pk, reason="Appeal overturned.", actor=reviewer, appeal_ref="appeal-7")
    assert CaseEvent.objects.get(verb="action_reversed").data["appeal"] == "appeal-7"
