"""Escalating a case, acknowledging, adding findings and resolving (services)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, Escalation, EscalationNotification
from cases.services.escalations import (
    Outcome,
    case_escalate,
    escalation_acknowledge,
    escalation_add_findings,
    escalation_resolve,
)
from cases.sla import apply_due_times, sla_pause
from tests.factories import CaseFactory, QueueSlaFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tsconsole import roles
from tsconsole.errors import Conflict, InvalidInput, NotAllowed
from tsconsole.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def security():
    team = TeamFactory(slug="security")  # a default team: set its chat channel
    team.chat_webhook_url = "http://127.0.0.1:9/chat/security"
    team.save()
    first = TeamMembershipFactory(team=team, oncall_order=1, user=UserFactory(username="first-oncall")).user
    TeamMembershipFactory(team=team, oncall_order=2, user=UserFactory(username="second-oncall"))
    TeamMembershipFactory(team=team, is_lead=True, user=UserFactory(username="sec-lead"))
    team.first_oncall = first
    return team


@pytest.fixture
def claimed(analyst):
    return CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst, claimed_at=NOW - timedelta(hours=1))


def escalate(case, actor, **overrides):
    package = dict(
        severity="sev2", team="security", summary="Account takeover ring using one device",
        impacted_ids=["acct-1", "acct-2"], evidence_links=["https://example.test/evidence/1", "/evidence/9/"],
        recommended_next_steps="Lock the accounts; check the device graph.",
    )
    package.update(overrides)
    return case_escalate(case=case, actor=actor, now=NOW, **package)


def test_escalating_sends_the_package_and_pages_the_first_on_call(claimed, analyst, security):
    escalation = escalate(claimed, analyst)

    claimed.refresh_from_db()
    assert claimed.status == CaseStatus.ESCALATED
    assert claimed.assignee == analyst  # the analyst keeps the case while the team helps
    event = CaseEvent.objects.get(case=claimed, verb="escalated")
    assert (event.from_status, event.to_status, event.actor) == ("in_review", "escalated", analyst)
    assert event.data == {"escalation_id": escalation.pk, "severity": "sev2", "team": "security"}

    assert escalation.team == security and escalation.status == Escalation.Status.OPEN
    assert escalation.impacted_ids == ["acct-1", "acct-2"]
    assert escalation.evidence_links == ["https://example.test/evidence/1", "/evidence/9/"]
    assert escalation.ack_due_at == NOW + timedelta(hours=1)  # Sev2 default
    assert escalation.ladder_step == 1 and escalation.next_notify_at == escalation.ack_due_at

    page = EscalationNotification.objects.get()
    assert (page.step, page.recipient) == (1, security.first_oncall)
    in_app = Notification.objects.get(kind="escalation.page")
    assert in_app.user == security.first_oncall
    assert in_app.url == f"/escalations/{escalation.pk}/"
    assert in_app.dedupe_key == f"escalation-notification:{page.pk}:in_app"
    assert OutboxMessage.objects.get(channel="email").recipient == security.first_oncall.email
    chat = OutboxMessage.objects.get(channel="slack")
    assert chat.recipient == security.chat_webhook_url and "first-oncall" in chat.payload["text"]


def test_email_and_chat_links_carry_the_sites_address(claimed, analyst, security, settings):
    settings.SITE_URL = "https://tsconsole.example.com"
    escalation = escalate(claimed, analyst)
    link = f"https://tsconsole.example.com/escalations/{escalation.pk}/"
    assert OutboxMessage.objects.get(channel="email").payload["body"].endswith(link)
    assert OutboxMessage.objects.get(channel="slack").payload["text"].endswith(link)
    # In-app links stay paths: they open inside the console.
    assert Notification.objects.get(kind="escalation.page").url == f"/escalations/{escalation.pk}/"


@pytest.mark.parametrize("severity, minutes", [("sev1", 15), ("sev2", 60), ("sev3", 240), ("sev4", 1440)])
def test_deadline_by_severity(analyst, claimed, security, severity, minutes):
    assert escalate(claimed, analyst, severity=severity).ack_due_at == NOW + timedelta(minutes=minutes)


def test_deadlines_come_from_settings(analyst, claimed, security, settings):
    settings.ESCALATION_ACK_MINUTES = {**settings.ESCALATION_ACK_MINUTES, "sev1": 5}
    assert escalate(claimed, analyst, severity="sev1").ack_due_at == NOW + timedelta(minutes=5)


@pytest.mark.parametrize("overrides, field", [
    ({"severity": "sev9"}, "severity"),
    ({"team": "nobody-team"}, "team"),
    ({"summary": "   "}, "summary"),
    ({"impacted_ids": "x" * 300}, "impacted_ids"),
    ({"evidence_links": ["javascript:alert(1)"]}, "evidence_links"),
    ({"evidence_links": {"a": 1}}, "evidence_links"),
])
def test_a_bad_package_is_refused_with_the_field_and_writes_nothing(analyst, claimed, security, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        escalate(claimed, analyst, **overrides)
    assert field in refused.value.field_errors
    claimed.refresh_from_db()
    assert claimed.status == CaseStatus.IN_REVIEW
    assert not Escalation.objects.exists() and not OutboxMessage.objects.exists() and not Notification.objects.exists()


def test_a_case_escalates_once_at_a_time(analyst, claimed, security):
    escalate(claimed, analyst)
    with pytest.raises(Conflict, match="already escalated"):
        escalate(claimed, analyst, team="security")
    assert Escalation.objects.count() == 1


def test_someone_elses_case_needs_a_lead(make_user, claimed, security, lead):
    other = make_user(roles.ANALYST, username="other")
    with pytest.raises(Conflict, match="assigned to ana"):
        escalate(claimed, other)
    assert escalate(claimed, lead).created_by == lead


def test_resolved_cases_cannot_be_escalated(analyst, security):
    case = CaseFactory(status=CaseStatus.RESOLVED, assignee=analyst)
    with pytest.raises(Conflict):
        escalate(case, analyst)
    assert not Escalation.objects.exists()


def test_escalating_a_held_case_restarts_its_clocks(analyst, security):
    case = CaseFactory(status=CaseStatus.ON_HOLD, assignee=analyst, hold_reason="Need legal",
                       opened_at=NOW - timedelta(hours=1))
    QueueSlaFactory(queue=case.queue, priority=case.priority)
    case.save(update_fields=apply_due_times(case) + sla_pause(case, NOW - timedelta(minutes=30)))

    escalate(case, analyst)

    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED and case.sla_paused_at is None
    assert case.sla_paused_seconds == 30 * 60 and case.hold_reason == ""


def test_acknowledging_stops_paging_and_tells_the_escalator(analyst, claimed, security):
    escalation = escalate(claimed, analyst)
    responder = security.first_oncall

    escalation_acknowledge(escalation=escalation.pk, actor=responder, now=NOW + timedelta(minutes=5))

    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ACKNOWLEDGED
    assert (escalation.acknowledged_by, escalation.next_notify_at) == (responder, None)
    event = CaseEvent.objects.get(verb="escalation_acknowledged")
    assert event.data["seconds_to_ack"] == 300 and event.data["within_deadline"] is True
    told = Notification.objects.get(kind="escalation.acknowledged")
    assert told.user == analyst

    with pytest.raises(Conflict, match="already acknowledged by first-oncall"):
        escalation_acknowledge(escalation=escalation.pk, actor=responder)


def test_only_the_team_or_a_lead_may_respond(analyst, claimed, security, make_user, lead):
    escalation = escalate(claimed, analyst)
    outsider = make_user(roles.ANALYST, username="outsider")
    for act in (
        lambda: escalation_acknowledge(escalation=escalation.pk, actor=outsider),
        lambda: escalation_add_findings(escalation=escalation.pk, findings="x", actor=outsider),
        lambda: escalation_resolve(escalation=escalation.pk, outcome=Outcome.DECIDE, actor=outsider),
    ):
        with pytest.raises(NotAllowed, match="Only members of Security or a lead"):
            act()
    escalation_acknowledge(escalation=escalation.pk, actor=lead)  # a lead of any team may


def test_findings_are_appended_signed_and_acknowledge_an_open_escalation(analyst, claimed, security):
    escalation = escalate(claimed, analyst)
    member = security.first_oncall

    escalation_add_findings(escalation=escalation.pk, findings="Device seen on 40 accounts.", actor=member,
                            now=NOW + timedelta(minutes=3))
    escalation_add_findings(escalation=escalation.pk, findings="All created this week.", actor=member,
                            now=NOW + timedelta(minutes=9))

    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ACKNOWLEDGED and escalation.acknowledged_by == member
    assert "first-oncall]\nDevice seen on 40 accounts." in escalation.findings
    assert escalation.findings.index("Device seen") < escalation.findings.index("All created")
    events = CaseEvent.objects.filter(verb="escalation_findings_added").order_by("id")
    assert [e.data["acknowledged"] for e in events] == [True, False]
    assert Notification.objects.filter(kind="escalation.findings").count() == 2

    with pytest.raises(InvalidInput):
        escalation_add_findings(escalation=escalation.pk, findings=" ", actor=member)


def test_resolving_returns_the_case_to_its_analyst_with_instructions(analyst, claimed, security):
    escalation = escalate(claimed, analyst)
    member = security.first_oncall
    later = NOW + timedelta(minutes=40)

    with pytest.raises(InvalidInput, match="Say what the analyst should do next"):
        escalation_resolve(escalation=escalation.pk, outcome=Outcome.RETURN, actor=member)
    escalation_resolve(escalation=escalation.pk, outcome=Outcome.RETURN, actor=member, now=later,
                       instructions="Confirmed takeover: suspend all three.")

    escalation.refresh_from_db()
    claimed.refresh_from_db()
    assert escalation.status == Escalation.Status.RESOLVED
    assert (escalation.resolved_by, escalation.acknowledged_by) == (member, member)
    assert escalation.resolution_note == "Confirmed takeover: suspend all three."
    assert claimed.status == CaseStatus.IN_REVIEW and claimed.assignee == analyst
    assert claimed.claimed_at == later  # a fresh claim: the idle-claim sweep counts from now
    event = CaseEvent.objects.get(case=claimed, verb="escalation_resolved")
    assert (event.from_status, event.to_status) == ("escalated", "in_review")
    assert event.data["instructions"] == "Confirmed takeover: suspend all three."
    told = OutboxMessage.objects.filter(topic="escalation.resolved")
    assert {m.channel for m in told} == {"email"}
    assert Notification.objects.get(kind="escalation.resolved").user == analyst

    with pytest.raises(Conflict, match="already resolved by first-oncall"):
        escalation_resolve(escalation=escalation.pk, outcome=Outcome.DECIDE, actor=member)


def test_resolving_to_decide_hands_the_case_to_the_responder(analyst, claimed, security, lead):
    escalation = escalate(claimed, analyst)
    escalation_resolve(escalation=escalation.pk, outcome=Outcome.DECIDE, actor=lead)
    claimed.refresh_from_db()
    assert claimed.status == CaseStatus.IN_REVIEW and claimed.assignee == lead


def test_resolving_after_the_case_was_decided_leaves_the_case_alone(analyst, claimed, security, lead):
    escalation = escalate(claimed, analyst)
    Case.objects.filter(pk=claimed.pk).update(status=CaseStatus.RESOLVED)  # decided by enforcement meanwhile

    escalation_resolve(escalation=escalation.pk, outcome=Outcome.DECIDE, actor=lead)

    claimed.refresh_from_db()
    assert claimed.status == CaseStatus.RESOLVED
    event = CaseEvent.objects.get(verb="escalation_resolved")
    assert event.data["case_status"] == "resolved" and event.to_status == ""
