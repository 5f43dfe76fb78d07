"""The two-person rule: what needs a lead, approving, rejecting, and never reviewing your own."""

import pytest

from cases.models import CaseEvent, CaseStatus
from enforcement import services
from enforcement.models import ActionStatus, Strike
from tests.factories import AccountFactory, ContentFactory, ReportFactory
from tsconsole.errors import Conflict, InvalidInput, NotAllowed
from tsconsole.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


def _decide(case, actor, actions=None, **kwargs):
    kwargs.setdefault("departure_reason", "Context in the rationale.")
    return services.case_decide(case=case, actor=actor, actions=actions or [{"type": "warn"}], rationale="Because.",
                                statement="You broke the rule.", **kwargs)


@pytest.mark.parametrize("account, reason", [
    (dict(follower_count=250_000), "reach of 250,000 followers is above 100,000"),
    (dict(verified=True), "verified account"),
    (dict(account_type="business"), "business account"),
    (dict(account_type="enterprise"), "enterprise account"),
])
def test_high_impact_accounts_wait_for_a_lead(claimed, analyst, policy, endpoint, account, reason):
    case = claimed(AccountFactory(**account))
    ReportFactory(case=case, reporter_ref="r-1")
    decision = _decide(case, analyst)
    case.refresh_from_db()
    assert decision.requires_approval and decision.approval_reasons == [reason]
    assert case.status == CaseStatus.AWAITING_APPROVAL and case.resolution == ""
    assert decision.actions[0].status == ActionStatus.PENDING_APPROVAL
    assert decision.actions[0].applied_at is None
    event = CaseEvent.objects.get(case=case, verb="decision_proposed")
    assert event.to_status == CaseStatus.AWAITING_APPROVAL and event.data["approval_reasons"] == [reason]
    # Nothing leaves the building until a lead approves.
    assert not OutboxMessage.objects.exists()
    assert not Strike.objects.exists()


def test_content_of_a_high_impact_author_waits_too(claimed, analyst, policy):
    case = claimed(ContentFactory(author=AccountFactory(verified=True)))
    assert _decide(case, analyst, [{"type": "remove_content"}]).requires_approval


def test_every_termination_waits_for_a_lead(claimed, analyst, policy):
    decision = _decide(claimed(), analyst, [{"type": "termination"}])
    assert decision.requires_approval and decision.approval_reasons == ["termination"]


def test_ordinary_accounts_and_no_violation_need_no_one_else(claimed, analyst, policy):
    assert not _decide(claimed(AccountFactory(follower_count=100_000)), analyst).requires_approval
    assert not _decide(claimed(AccountFactory(verified=True)), analyst, [{"type": "no_violation"}]).requires_approval


def test_thresholds_come_from_settings(claimed, analyst, policy, settings):
    settings.ENFORCEMENT_HIGH_IMPACT_FOLLOWERS = 1000
    settings.ENFORCEMENT_HIGH_IMPACT_VERIFIED = False
    settings.ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES = ["enterprise"]
    assert _decide(claimed(AccountFactory(follower_count=1001)), analyst).requires_approval
    assert not _decide(claimed(AccountFactory(verified=True, follower_count=10)), analyst).requires_approval
    assert not _decide(claimed(AccountFactory(account_type="business", follower_count=10)), analyst).requires_approval


def test_another_lead_approves_and_the_actions_take_effect(claimed, analyst, lead, policy, endpoint):
    case = claimed(AccountFactory(verified=True))
    ReportFactory(case=case, reporter_ref="r-1")
    ReportFactory(case=case, reporter_ref="r-2")
    decision = _decide(case, analyst, [{"type": "warn"}, {"type": "transaction_hold", "duration_hours": 72}])
    approved = services.decision_approve(action=decision.actions[1].pk, actor=lead, comment="Agreed.")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.resolution == "actioned" and case.resolved_by == analyst
    assert {a.status for a in approved} == {ActionStatus.ACTIVE}
    assert all(a.reviewer == lead and a.approver == lead and a.review_comment == "Agreed." for a in approved)
    hold = next(a for a in approved if a.action_type == "transaction_hold")
    assert hold.ends_at - hold.applied_at == hold.duration
    assert hold.decision_monetary == "DECISION_MONETARY_SUSPENSION"
    event = CaseEvent.objects.get(case=case, verb="decision_approved")
    assert event.actor == lead and event.from_status == CaseStatus.AWAITING_APPROVAL
    assert Strike.objects.get().account == case.subject
    assert OutboxMessage.objects.filter(topic="enforcement.applied").count() == 2
    assert OutboxMessage.objects.filter(topic="report.outcome").count() == 2
    assert Notification.objects.get(user=analyst).kind == "enforcement.approved"


def test_the_proposer_can_never_approve_their_own_decision(claimed, lead, other_lead, policy):
    case = claimed(AccountFactory(verified=True), assignee=lead)
    decision = _decide(case, lead)
    with pytest.raises(NotAllowed) as exc:
        services.decision_approve(action=decision.actions[0], actor=lead)
    assert "two-person rule" in exc.value.message
    with pytest.raises(NotAllowed):
        services.decision_reject(action=decision.actions[0], actor=lead, comment="Rejecting my own")
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL
    assert not CaseEvent.objects.filter(case=case, verb__in=["decision_approved", "decision_rejected"]).exists()
    services.decision_approve(action=decision.actions[0], actor=other_lead)
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_analysts_cannot_approve(claimed, analyst, make_user, policy):
    decision = _decide(claimed(AccountFactory(verified=True)), analyst)
    with pytest.raises(NotAllowed):
        services.decision_approve(action=decision.actions[0], actor=make_user("analyst", username="peer"))


def test_reject_needs_a_comment_and_sends_the_case_back(claimed, analyst, lead, policy, endpoint):
    case = claimed(AccountFactory(verified=True))
    decision = _decide(case, analyst, [{"type": "termination"}])
    with pytest.raises(InvalidInput):
        services.decision_reject(action=decision.actions[0], actor=lead, comment=" ")
    rejected = services.decision_reject(action=decision.actions[0], actor=lead, comment="Not enough evidence of a ring.")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.assignee == analyst
    assert rejected[0].status == ActionStatus.REJECTED and rejected[0].approver is None
    assert rejected[0].reviewer == lead
    event = CaseEvent.objects.get(case=case, verb="decision_rejected")
    assert event.to_status == CaseStatus.IN_REVIEW and event.data["comment"] == "Not enough evidence of a ring."
    assert not OutboxMessage.objects.exists() and not Strike.objects.exists()
    assert Notification.objects.get(user=analyst).body == "Not enough evidence of a ring."
    # The analyst decides again, differently.
    again = _decide(case, analyst, [{"type": "warn"}])
    assert again.requires_approval  # still a verified account


def test_a_decision_is_reviewed_once(claimed, analyst, lead, other_lead, policy):
    decision = _decide(claimed(AccountFactory(verified=True)), analyst)
    services.decision_approve(action=decision.actions[0], actor=lead)
    with pytest.raises(Conflict):
        services.decision_approve(action=decision.actions[0], actor=other_lead)
    with pytest.raises(Conflict):
        services.decision_reject(action=decision.actions[0], actor=other_lead, comment="late")
