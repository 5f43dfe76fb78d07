"""Escalations over the API."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus, Escalation
from tests.factories import CaseFactory, EscalationFactory, TeamFactory, TeamMembershipFactory
from tsconsole import roles

pytestmark = pytest.mark.django_db

PACKAGE = {
    "severity": "sev1", "team": "child-safety", "summary": "Grooming pattern across three accounts",
    "impacted_ids": ["acct-7", "acct-8", "acct-9"], "evidence_links": ["/evidence/12/"],
    "recommended_next_steps": "Preserve data; report to NCMEC.",
}


@pytest.fixture
def child_safety(make_user):
    team = TeamFactory(slug="child-safety")
    member = make_user(roles.ANALYST, username="cs-member")
    TeamMembershipFactory(team=team, user=member, oncall_order=1)
    team.member = member
    return team


@pytest.fixture
def claimed(analyst):
    return CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst)


def escalate(api_as, user, case, **overrides):
    return api_as(user).post(reverse("api-case-escalate", args=[case.pk]), {**PACKAGE, **overrides}, format="json")


def test_escalate_answers_201_with_the_escalation(api_as, analyst, claimed, child_safety):
    before = timezone.now()
    response = escalate(api_as, analyst, claimed)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["case"] == claimed.pk and body["team"] == "child-safety" and body["severity"] == "sev1"
    assert body["status"] == "open" and body["created_by"] == "ana"
    assert body["impacted_ids"] == PACKAGE["impacted_ids"] and body["evidence_links"] == ["/evidence/12/"]
    assert body["url"] == reverse("escalation-detail", args=[body["id"]])
    escalation = Escalation.objects.get(pk=body["id"])
    assert timedelta(minutes=15) <= escalation.ack_due_at - before < timedelta(minutes=16)
    claimed.refresh_from_db()
    assert claimed.status == CaseStatus.ESCALATED


@pytest.mark.parametrize("overrides, field", [
    ({"severity": "sev5"}, "severity"),
    ({"team": "no-such-team"}, "team"),
    ({"summary": ""}, "summary"),
    ({"impacted_ids": "acct-1"}, "impacted_ids"),
    ({"evidence_links": ["file:///etc/passwd"]}, "evidence_links"),
])
def test_a_bad_package_is_400_with_field_errors(api_as, analyst, claimed, child_safety, overrides, field):
    response = escalate(api_as, analyst, claimed, **overrides)
    assert response.status_code == 400
    body = response.json()
    assert field in body.get("errors", body), body
    assert not Escalation.objects.exists()


def test_escalating_twice_is_409_and_a_hidden_case_is_404(api_as, analyst, claimed, child_safety, make_user):
    assert escalate(api_as, analyst, claimed).status_code == 201
    again = escalate(api_as, analyst, claimed)
    assert again.status_code == 409 and "already escalated" in again.json()["detail"]

    restricted = CaseFactory(queue__slug="restricted-queue")
    restricted.queue.allowed_teams.add(TeamFactory(slug="restricted-team"))
    assert escalate(api_as, analyst, restricted).status_code == 404


def test_a_member_acknowledges_adds_findings_and_resolves(api_as, analyst, claimed, child_safety):
    escalation_id = escalate(api_as, analyst, claimed).json()["id"]
    client = api_as(child_safety.member)

    ack = client.post(reverse("api-escalation-ack", args=[escalation_id]), format="json")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_by"] == "cs-member"
    assert client.post(reverse("api-escalation-ack", args=[escalation_id]), format="json").status_code == 409

    findings = client.post(reverse("api-escalation-findings", args=[escalation_id]),
                           {"findings": "Matches a known network."}, format="json")
    assert findings.status_code == 200 and "Matches a known network." in findings.json()["findings"]

    missing = client.post(reverse("api-escalation-resolve", args=[escalation_id]),
                          {"outcome": "return_to_review"}, format="json")
    assert missing.status_code == 400 and "instructions" in missing.json()["errors"]
    resolved = client.post(reverse("api-escalation-resolve", args=[escalation_id]),
                           {"outcome": "return_to_review", "instructions": "Terminate and report."}, format="json")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    claimed.refresh_from_db()
    assert claimed.status == CaseStatus.IN_REVIEW

    detail = client.get(reverse("api-escalation-detail", args=[escalation_id]))
    assert detail.status_code == 200 and detail.json()["paged"] == [
        {"step": 1, "recipient": "cs-member", "created_at": detail.json()["paged"][0]["created_at"]}
    ]


def test_outsiders_do_not_see_or_answer_escalations(api_as, analyst, claimed, child_safety, make_user):
    escalation_id = escalate(api_as, analyst, claimed).json()["id"]
    outsider = api_as(make_user(roles.ANALYST, username="outsider"))
    assert outsider.post(reverse("api-escalation-ack", args=[escalation_id]), format="json").status_code == 404
    assert outsider.get(reverse("api-escalations")).json()["results"] == []
    support = api_as(make_user(roles.SUPPORT_AGENT, username="helpdesk"))
    assert support.get(reverse("api-escalations")).status_code == 403


def test_the_list_filters_and_pages(api_as, lead, child_safety, django_assert_max_num_queries):
    now = timezone.now()
    sev1 = [EscalationFactory(team=child_safety, severity="sev1", ack_due_at=now) for _ in range(3)]
    EscalationFactory(team=child_safety, severity="sev4", ack_due_at=now)
    EscalationFactory(team=TeamFactory(slug="legal"), severity="sev1", ack_due_at=now)
    EscalationFactory(team=child_safety, severity="sev1", status=Escalation.Status.RESOLVED, ack_due_at=now)
    client = api_as(lead)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("api-escalations"),
                              {"status": "active", "severity": "sev1", "team": "child-safety", "page_size": 2})
    body = response.json()
    assert [row["id"] for row in body["results"]] == [e.pk for e in sev1[::-1]][:2]
    rest = client.get(body["next"]).json()
    assert [row["id"] for row in rest["results"]] == [sev1[0].pk] and rest["next"] is None
    assert client.get(reverse("api-escalations"), {"status": "bogus"}).status_code == 400
