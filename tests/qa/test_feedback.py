"""Feedback, disputes and corrections, with their case events."""

import pytest
from django.contrib.auth.models import Group

from cases.models import CaseEvent
from enforcement.models import ActionStatus
from qa import sampling, services
from qa.models import Correction, Feedback, FeedbackStatus, Outcome, Sample
from tests.factories import WebhookEndpointFactory
from tsconsole import roles
from tsconsole.errors import Conflict, NotAllowed, NotFound
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


def test_a_stricter_correction_is_refused_with_a_reason(audited, lead):
    audit = audited[0]
    with pytest.raises(Conflict) as err:
        services.audit_correct(audit=audit, decision={"policy": "qa-policy", "actions": [{"type": "termination"}]},
                               reason="Should be terminated.", actor=lead)
    assert "termination" in err.value.message
    assert not Correction.objects.exists()
    with pytest.raises(NotAllowed):
        services.audit_correct(audit=audit, decision={"no_violation": True}, reason="x", actor=audited[1])
