"""Deciding an appeal: who may (never the decider or the approver, a lead for terminations and
high-impact subjects), and what upheld, overturned and modified do everywhere."""

import pytest

from appeals import selectors, services
from appeals.models import AppealStatus
from cases.models import CaseEvent, CaseStatus
from cases.services.workflow import case_claim
from enforcement import selectors as enforcement_selectors
from enforcement.models import ActionStatus, EnforcementAction
from tests.factories import AccountFactory
from tsconsole.errors import Conflict, InvalidInput, NotAllowed
from tsconsole.models import OutboxMessage
from tsconsole.roles import ANALYST, LEAD

pytestmark = pytest.mark.django_db


def _decide(appeal, actor, outcome="upheld", **kwargs):
    kwargs.setdefault("rationale", "Internal: looked at the whole thread.")
    kwargs.setdefault("statement", "We looked at your appeal again.")
    return services.appeal_decide(appeal=appeal.pk, outcome=outcome, actor=actor, **kwargs)


# --------------------------------------------------------------------------- the reviewer rule


def test_the_original_decider_may_not_decide_the_appeal(decided, claimed_appeal, analyst):
    appeal = claimed_appeal(decided())
    with pytest.raises(NotAllowed, match="You made the decision"):
        _decide(appeal, analyst)
    assert selectors.appeal_panel(analyst, appeal.case)["refusal"].startswith("You made the decision")


def test_the_approving_lead_may_not_decide_the_appeal(decided, claimed_appeal, lead, analyst):
    from enforcement.services import decision_approve

    decision = decided(AccountFactory(verified=True))
    decision_approve(action=decision.actions[0].pk, actor=lead)
    appeal = claimed_appeal(decision)
    with pytest.raises(NotAllowed, match="You approved the decision"):
        _decide(appeal, lead)


def test_not_even_an_admin_may_review_their_own_decision(decided, claimed_appeal, admin_user, category, policy):
    decision = decided(decider=admin_user)
    appeal = claimed_appeal(decision)
    with pytest.raises(NotAllowed, match="You made the decision"):
        _decide(appeal, admin_user)
    assert appeal.case.status == CaseStatus.IN_REVIEW


def test_an_appeal_of_a_termination_needs_a_lead(decided, claimed_appeal, reviewer, make_user, analyst):
    decision = decided(actions=[{"type": "termination"}])
    from enforcement.services import decision_approve

    approver = make_user(LEAD, username="approver")
    decision_approve(action=decision.actions[0].pk, actor=approver)
    appeal = claimed_appeal(decision, by=reviewer)
    with pytest.raises(NotAllowed, match="needs a lead"):
        _decide(appeal, reviewer)
    other_lead = make_user(LEAD, username="olga")
    _decide(appeal, other_lead, "overturned")
    assert EnforcementAction.objects.get(pk=decision.actions[0].pk).status == ActionStatus.REVERSED


def test_a_high_impact_subject_needs_a_lead(decided, claimed_appeal, reviewer, make_user):
    from enforcement.services import decision_approve

    decision = decided(AccountFactory(follower_count=5_000_000))
    decision_approve(action=decision.actions[0].pk, actor=make_user(LEAD, username="approver"))
    appeal = claimed_appeal(decision, by=reviewer)
    with pytest.raises(NotAllowed, match="needs a lead"):
        _decide(appeal, reviewer)


def test_the_appeal_must_be_claimed_and_held_by_the_reviewer(decided, file_appeal, reviewer, make_user):
    appeal = file_appeal(decided()).appeal
    with pytest.raises(Conflict, match="not claimed"):
        _decide(appeal, reviewer)
    case_claim(case=appeal.case_id, actor=reviewer)
    with pytest.raises(Conflict, match="assigned to rita"):
        _decide(appeal, make_user(ANALYST, username="other"))


def test_an_appeal_is_decided_once(decided, claimed_appeal, reviewer):
    appeal = claimed_appeal(decided())
    _decide(appeal, reviewer)
    with pytest.raises(Conflict, match="already decided"):
        _decide(appeal, reviewer, "overturned")


# --------------------------------------------------------------------------- upheld


def test_upheld_leaves_the_decision_standing_and_answers_the_appellant(decided, claimed_appeal, reviewer):
    decision = decided()
    appeal = claimed_appeal(decision)
    decided_appeal = _decide(appeal, reviewer, "upheld", statement="The suspension stands because …")
    assert decided_appeal.status == AppealStatus.DECIDED and decided_appeal.outcome == "upheld"
    assert EnforcementAction.objects.get(pk=decision.actions[0].pk).status == ActionStatus.ACTIVE
    event = CaseEvent.objects.get(case_id=appeal.case_id, verb="appeal_decided")
    assert event.from_status == CaseStatus.IN_REVIEW and event.to_status == CaseStatus.RESOLVED
    assert event.data["outcome"] == "upheld"
    assert CaseEvent.objects.filter(case=decision.case, verb="appeal_decided").count() == 1
    message = OutboxMessage.objects.get(topic="appeal.decided")
    assert message.payload["statement"] == "The suspension stands because …"


def test_upheld_takes_no_new_actions(decided, claimed_appeal, reviewer):
    with pytest.raises(InvalidInput, match="takes no new actions"):
        _decide(claimed_appeal(decided()), reviewer, "upheld", actions=[{"type": "warn"}])


# --------------------------------------------------------------------------- overturned


def test_overturn_reverses_actions_and_strikes_with_one_webhook_each(decided, claimed_appeal, reviewer, analyst):
    subject = AccountFactory()
    decision = decided(subject, actions=[{"type": "suspension", "duration_hours": 72}, {"type": "transaction_hold"}],
                       policy="appeal-policy")
    assert enforcement_selectors.strike_summary(subject)["total"] == 1
    applied_keys = set(OutboxMessage.objects.filter(topic="enforcement.applied").values_list("idempotency_key", flat=True))
    appeal = claimed_appeal(decision)
    _decide(appeal, reviewer, "overturned")
    assert set(EnforcementAction.objects.filter(decision_ref=decision.ref).values_list("status", flat=True)) == {"reversed"}
    assert enforcement_selectors.strike_summary(subject)["total"] == 0
    assert enforcement_selectors.subject_status("account", subject.external_id)["restrictions"] == []
    reversed_messages = OutboxMessage.objects.filter(topic="enforcement.reversed")
    assert sorted(reversed_messages.values_list("idempotency_key", flat=True)) == sorted(
        f"enforcement.reversed:action{a.pk}:ep{reversed_messages[0].endpoint_id}" for a in decision.actions)
    assert all(m.payload["appeal"] == f"appeal{appeal.pk}" for m in reversed_messages)
    assert CaseEvent.objects.filter(case=decision.case, verb="action_reversed").count() == 2
    # nothing applied twice, nothing sent to reporters
    assert set(OutboxMessage.objects.filter(topic="enforcement.applied").values_list("idempotency_key", flat=True)) == applied_keys
    assert OutboxMessage.objects.filter(topic="appeal.decided").count() == 1


def test_an_overturned_notifier_appeal_acts_on_the_subject(decided, claimed_appeal, reviewer):
    subject = AccountFactory()
    decision = decided(subject, actions=[{"type": "no_violation"}])
    appeal = claimed_appeal(decision, kind="notifier", appellant="reporter-a")
    with pytest.raises(InvalidInput, match="acting on the subject"):
        _decide(appeal, reviewer, "overturned")
    decided_appeal = _decide(appeal, reviewer, "overturned", actions=[{"type": "warn"}],
                             statement="We looked again and warned the account.")
    new = list(EnforcementAction.objects.filter(decision_ref=decided_appeal.new_decision_ref))
    assert [(a.action_type, a.status, a.target_id, a.case_id) for a in new] == [
        ("warn", "active", subject.pk, appeal.case_id)]
    assert EnforcementAction.objects.get(pk=decision.actions[0].pk).status == ActionStatus.REVERSED
    assert enforcement_selectors.strike_summary(subject)["total"] == 1
    assert CaseEvent.objects.get(case_id=appeal.case_id, verb="decided").data["appeal"] == f"appeal{appeal.pk}"


# --------------------------------------------------------------------------- modified


def test_modified_replaces_the_actions(decided, claimed_appeal, reviewer, endpoint):
    subject = AccountFactory()
    decision = decided(subject)
    appeal = claimed_appeal(decision)
    with pytest.raises(InvalidInput, match="replaces the actions"):
        _decide(appeal, reviewer, "modified")
    decided_appeal = _decide(appeal, reviewer, "modified", actions=[{"type": "warn"}],
                             statement="We changed the suspension to a warning.")
    assert EnforcementAction.objects.get(pk=decision.actions[0].pk).status == ActionStatus.REVERSED
    warning = EnforcementAction.objects.get(decision_ref=decided_appeal.new_decision_ref)
    assert warning.action_type == "warn" and warning.status == ActionStatus.ACTIVE
    assert warning.statement == "We changed the suspension to a warning."
    assert enforcement_selectors.strike_summary(subject)["total"] == 1  # the warning's strike, not the suspension's
    assert OutboxMessage.objects.filter(topic="enforcement.reversed").count() == 1
    assert OutboxMessage.objects.filter(topic="appeal.decided").get().payload["new_actions"] == [
        {"action_id": warning.pk, "type": "warn"}]


def test_a_modification_to_termination_needs_a_lead(decided, claimed_appeal, reviewer):
    appeal = claimed_appeal(decided())
    with pytest.raises(NotAllowed, match="needs a lead"):
        _decide(appeal, reviewer, "modified", actions=[{"type": "termination"}])


def test_a_refused_decision_writes_nothing(decided, claimed_appeal, reviewer):
    decision = decided()
    appeal = claimed_appeal(decision)
    with pytest.raises(InvalidInput):
        _decide(appeal, reviewer, "modified", actions=[{"type": "suspension"}])  # no duration
    assert EnforcementAction.objects.get(pk=decision.actions[0].pk).status == ActionStatus.ACTIVE
    assert not CaseEvent.objects.filter(verb__in=["appeal_decided", "action_reversed"]).exists()
    assert not OutboxMessage.objects.filter(topic__in=["appeal.decided", "enforcement.reversed"]).exists()


# --------------------------------------------------------------------------- who is told


def test_only_the_appellant_is_told_the_outcome(decided, claimed_appeal, reviewer):
    decision = decided(reporters=("reporter-a", "reporter-b", "reporter-c"))
    before = OutboxMessage.objects.filter(topic="report.outcome").count()
    appeal = claimed_appeal(decision)
    _decide(appeal, reviewer, "overturned", statement="We lifted the suspension.")
    messages = list(OutboxMessage.objects.filter(topic="appeal.decided"))
    assert len(messages) == 1
    assert messages[0].payload["appellant"] == {"kind": "subject", "external_id": decision.case.subject.external_id}
    assert messages[0].idempotency_key == f"appeal.decided:appeal{appeal.pk}:ep{messages[0].endpoint_id}"
    assert OutboxMessage.objects.filter(topic="report.outcome").count() == before  # no reporter hears of it
    assert "rationale" not in messages[0].payload and "Internal" not in str(messages[0].payload)


def test_an_appeal_case_is_not_decided_as_a_report_case(decided, claimed_appeal, reviewer):
    from enforcement.services import case_decide

    appeal = claimed_appeal(decided())
    with pytest.raises(Conflict, match="appeal work"):
        case_decide(case=appeal.case_id, actor=reviewer, actions=[{"type": "warn"}], rationale="r", statement="s")
    assert not EnforcementAction.objects.filter(case_id=appeal.case_id).exists()
