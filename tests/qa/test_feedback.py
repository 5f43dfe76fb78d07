"""Feedback, disputes and corrections, with their case events."""

from collections import Counter

import pytest
from django.contrib.auth.models import Group

from cases.models import CaseEvent
from enforcement.models import ActionStatus, EnforcementAction
from qa import sampling, services
from qa.models import Correction, Feedback, FeedbackStatus, Outcome, Sample
from tests.factories import WebhookEndpointFactory
from tsconsole import roles
from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.models import Notification, OutboxMessage

GOOD = {"correct_policy": 5, "correct_action": 5, "evidence": 5, "rationale": 4, "statement": 4, "procedure": 5}


@pytest.fixture
def audited(make_user, decide, rule):
    """A suspension decided by an analyst, audited as major (the reviewer would only warn)."""
    WebhookEndpointFactory(name="platform")
    analyst = make_user(roles.ANALYST, username="fb-analyst")
    reviewer = make_user(roles.QA_REVIEWER, username="fb-reviewer")
    decision = decide(analyst, ("suspension",))
    rule("random", rate=1)
    sampling.samples_draw()
    sample = Sample.objects.get()
    audit = services.sample_review(sample=sample, actor=reviewer, scores=GOOD, feedback="A warning was enough.",
                                   decision={"policy": "qa-policy", "actions": [{"type": "warn"}]})
    assert audit.outcome == Outcome.MAJOR
    return audit, analyst, reviewer, decision


def test_feedback_reaches_the_analyst_who_acknowledges(audited):
    audit, analyst, _, _ = audited
    item = Feedback.objects.get()
    assert item.analyst == analyst
    assert Notification.objects.filter(user=analyst, kind="qa.feedback").count() == 1
    services.feedback_acknowledge(feedback=item, actor=analyst)
    item.refresh_from_db()
    assert item.status == FeedbackStatus.ACKNOWLEDGED and item.acknowledged_at
    assert CaseEvent.objects.filter(case=audit.sample.case, verb="qa_feedback_acknowledged").count() == 1
    with pytest.raises(Conflict):
        services.feedback_acknowledge(feedback=item, actor=analyst)


def test_only_the_analyst_sees_their_feedback(audited, make_user, client):
    other = make_user(roles.ANALYST, username="someone-else")
    with pytest.raises(NotFound):
        services.feedback_acknowledge(feedback=Feedback.objects.get(), actor=other)
    client.force_login(other)
    assert "A warning was enough." not in client.get("/qa/feedback/").content.decode()
    client.force_login(audited[1])
    assert "A warning was enough." in client.get("/qa/feedback/").content.decode()


def test_dispute_and_arbitration_overturned(audited, lead):
    audit, analyst, reviewer, _ = audited
    dispute = services.feedback_dispute(feedback=Feedback.objects.get(), reason="Second threat in a week.", actor=analyst)
    with pytest.raises(Conflict):
        services.feedback_dispute(feedback=Feedback.objects.get(), reason="again", actor=analyst)
    with pytest.raises(NotAllowed):
        services.dispute_rule(dispute=dispute, ruling="overturned", note="x", actor=analyst)
    reviewer.groups.add(Group.objects.get_or_create(name=roles.LEAD)[0])
    reviewer._tsconsole_roles = None
    with pytest.raises(NotAllowed):  # the reviewer, even as a lead, cannot judge their own audit
        services.dispute_rule(dispute=dispute, ruling="upheld", note="x", actor=reviewer)
    ruled = services.dispute_rule(dispute=dispute, ruling="overturned", note="History supports it.", outcome="agree", actor=lead)
    audit.refresh_from_db()
    assert audit.outcome == Outcome.MAJOR and audit.final_outcome == Outcome.AGREE
    assert Feedback.objects.get().status == FeedbackStatus.OVERTURNED
    assert ruled.arbiter == lead
    verbs = list(CaseEvent.objects.filter(case=audit.sample.case, verb__startswith="qa_").values_list("verb", flat=True))
    assert verbs == ["qa_audited", "qa_disputed", "qa_dispute_ruled"]
    with pytest.raises(Conflict):
        services.dispute_rule(dispute=dispute, ruling="upheld", note="x", actor=lead)
    with pytest.raises(Conflict):  # the audit now agrees: nothing to correct
        services.audit_correct(audit=audit, decision={"policy": "qa-policy", "actions": [{"type": "warn"}]}, reason="x", actor=lead)


def test_correction_reverses_what_the_corrected_decision_drops(audited, lead):
    audit, analyst, _, decision = audited
    before = OutboxMessage.objects.filter(topic="enforcement.reversed").count()
    correction = services.audit_correct(audit=audit, decision={"no_violation": True}, reason="No threat on reading.", actor=lead)
    assert correction.user_notified and correction.reversed_actions == [decision.actions[0].pk]
    decision.actions[0].refresh_from_db()
    assert decision.actions[0].status == ActionStatus.REVERSED
    assert OutboxMessage.objects.filter(topic="enforcement.reversed").count() == before + 1
    verbs = list(CaseEvent.objects.filter(case=audit.sample.case).values_list("verb", flat=True))
    assert "action_reversed" in verbs and verbs[-1] == "qa_corrected"
    with pytest.raises(Conflict):
        services.audit_correct(audit=audit, decision={"no_violation": True}, reason="again", actor=lead)


def test_a_policy_only_correction_tells_nobody(audited, lead, make_user):
    from tests.factories import PolicyFactory

    PolicyFactory(slug="other-policy")
    audit, _, _, decision = audited
    before = OutboxMessage.objects.count()
    correction = services.audit_correct(audit=audit, decision={"policy": "other-policy", "actions": [{"type": "suspension"}]},
                                        reason="Wrong policy named.", actor=lead)
    assert not correction.user_notified and correction.reversed_actions == []
    assert OutboxMessage.objects.count() == before
    decision.actions[0].refresh_from_db()
    assert decision.actions[0].status == ActionStatus.ACTIVE


def _counting_strikes(account):
    from django.utils import timezone

    from enforcement.models import Strike

    return Strike.objects.filter(account=account, expires_at__gt=timezone.now(),
                                 action__status__in=(ActionStatus.ACTIVE, ActionStatus.EXPIRED)).count()


def test_a_stricter_correction_takes_the_added_actions_through_enforcement(audited, lead):
    audit, _, _, decision = audited
    suspension = decision.actions[0]
    account = suspension.target
    assert _counting_strikes(account) == 1
    before = Counter(OutboxMessage.objects.values_list("topic", flat=True))
    correction = services.audit_correct(
        audit=audit, decision={"policy": "qa-policy", "actions": [{"type": "termination"}]},
        reason="Third threat this month: terminate.", statement="Your account is closed for repeated threats.",
        actor=lead)
    termination = EnforcementAction.objects.get(pk__in=correction.added_actions)
    assert correction.reversed_actions == [suspension.pk] and correction.user_notified
    assert termination.action_type == "termination" and termination.status == ActionStatus.ACTIVE
    assert termination.case_id == suspension.case_id and termination.decision_ref == correction.new_decision_ref
    assert termination.proposer == lead and termination.statement == "Your account is closed for repeated threats."
    suspension.refresh_from_db()
    assert suspension.status == ActionStatus.REVERSED
    after = Counter(OutboxMessage.objects.values_list("topic", flat=True))
    assert after["enforcement.reversed"] == before["enforcement.reversed"] + 1
    assert after["enforcement.applied"] == before["enforcement.applied"] + 1
    # the suspension's strike stopped counting with it; the termination carries the one strike
    assert _counting_strikes(account) == 1 and termination.strike
    events = list(CaseEvent.objects.filter(case=audit.sample.case).order_by("id").values_list("verb", "data"))
    verbs = [v for v, _ in events]
    assert verbs[-3:] == ["action_reversed", "decided", "qa_corrected"]
    assert events[-2][1]["correction"] == f"qa-audit{audit.pk}" and events[-2][1]["supersedes"] == decision.ref
    assert events[-1][1]["added"] == [termination.pk]
    case = audit.sample.case
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolution == "actioned"


def test_a_restriction_added_beside_the_kept_one_adds_no_second_strike(audited, lead):
    audit, _, _, decision = audited
    account = decision.actions[0].target
    correction = services.audit_correct(
        audit=audit, decision={"policy": "qa-policy", "actions": [
            {"type": "suspension"}, {"type": "feature_restriction", "duration_hours": 48}]},
        reason="Also keep them out of messaging.", statement="You may not send messages for 2 days.", actor=lead)
    assert correction.reversed_actions == [] and len(correction.added_actions) == 1 and correction.user_notified
    added = EnforcementAction.objects.get(pk=correction.added_actions[0])
    assert added.action_type == "feature_restriction" and added.duration_hours == 48
    decision.actions[0].refresh_from_db()
    assert decision.actions[0].status == ActionStatus.ACTIVE
    assert _counting_strikes(account) == 1 and not hasattr(added, "strike")


@pytest.mark.parametrize("actions, statement, field", [
    ([{"type": "termination"}], "", "statement"),
    ([{"type": "suspension"}, {"type": "feature_restriction"}], "No messages for you.", "actions"),
])
def test_an_added_restriction_missing_its_statement_or_duration_writes_nothing(audited, lead, actions, statement, field):
    audit, _, _, decision = audited
    before = (OutboxMessage.objects.count(), CaseEvent.objects.count(), EnforcementAction.objects.count())
    with pytest.raises(InvalidInput) as err:
        services.audit_correct(audit=audit, decision={"policy": "qa-policy", "actions": actions},
                               reason="Stricter.", statement=statement, actor=lead)
    assert field in err.value.field_errors
    assert not Correction.objects.exists()
    assert (OutboxMessage.objects.count(), CaseEvent.objects.count(), EnforcementAction.objects.count()) == before
    decision.actions[0].refresh_from_db()
    assert decision.actions[0].status == ActionStatus.ACTIVE


def test_only_a_lead_outside_the_decision_corrects(audited, lead):
    with pytest.raises(NotAllowed):
        services.audit_correct(audit=audited[0], decision={"no_violation": True}, reason="x", actor=audited[1])
    with pytest.raises(NotAllowed):
        services.audit_correct(audit=audited[0], decision={"no_violation": True}, reason="x", actor=audited[2])


def test_the_correct_form_adds_a_restriction_with_duration_and_statement(audited, lead, client):
    audit, _, _, _ = audited
    client.force_login(lead)
    page = client.get(f"/qa/samples/{audit.sample_id}/").content.decode()
    assert 'name="statement"' in page and 'name="duration_hours"' in page
    response = client.post(f"/qa/audits/{audit.pk}/correct/", {
        "verdict": "violation", "policy": "qa-policy", "actions": ["suspension", "feature_restriction"],
        "duration_hours": "72", "statement": "No messages for 3 days.", "reason": "Messaging was the harm."})
    assert response.status_code == 302
    correction = Correction.objects.get()
    added = EnforcementAction.objects.get(pk=correction.added_actions[0])
    assert added.action_type == "feature_restriction" and added.duration_hours == 72
    page = client.get(response["Location"]).content.decode()
    assert "1 added" in page
