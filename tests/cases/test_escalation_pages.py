"""The escalations pages, the escalate form and the case page panel."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus, Escalation
from cases.selectors import escalations as selectors
from cases.services.escalations import case_escalate
from tests.factories import CaseFactory, EscalationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tsconsole import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def security(analyst):
    team = TeamFactory(slug="security")
    TeamMembershipFactory(team=team, user=analyst, oncall_order=1)
    return team


def make_escalations(team, count, severity="sev3", **kwargs):
    now = timezone.now()
    return [
        EscalationFactory(team=team, severity=severity, ack_due_at=now + timedelta(minutes=10 + i), **kwargs)
        for i in range(count)
    ]


def rows(response):
    return [e.pk for e in response.context["rows"]]


def test_the_list_is_most_severe_first_then_nearest_deadline(client, lead, security):
    later_sev1, sooner_sev1 = make_escalations(security, 2, severity="sev1")[::-1]
    sev3 = make_escalations(security, 1)[0]
    EscalationFactory(team=security, status=Escalation.Status.RESOLVED)  # not listed by default
    client.force_login(lead)

    response = client.get(reverse("escalations"))

    assert response.status_code == 200
    assert rows(response) == [sooner_sev1.pk, later_sev1.pk, sev3.pk]
    assert response.context["counts"] == {"sev1": 2, "sev2": 0, "sev3": 1, "sev4": 0}
    assert b"left</time>" in response.content  # time to acknowledge, counted down on the page


def test_team_members_see_their_teams_escalations_and_their_own(client, analyst, security):
    mine = make_escalations(security, 1)[0]
    sent_by_me = make_escalations(TeamFactory(slug="legal"), 1, created_by=analyst)[0]
    make_escalations(TeamFactory(slug="policy"), 1)  # another team's: not shown
    client.force_login(analyst)

    response = client.get(reverse("escalations"))

    assert sorted(rows(response)) == sorted([mine.pk, sent_by_me.pk])
    other = Escalation.objects.exclude(pk__in=[mine.pk, sent_by_me.pk]).get()
    assert client.get(reverse("escalation-detail", args=[other.pk])).status_code == 404


def test_filters_and_keyset_pages(client, lead, security, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    sev2 = make_escalations(security, 7, severity="sev2")
    make_escalations(security, 2, severity="sev4")
    client.force_login(lead)

    seen, after = [], ""
    for _ in range(5):
        response = client.get(reverse("escalations"), {"severity": "sev2", "after": after})
        seen += rows(response)
        after = response.context["next"]
        if not after:
            break
    assert seen == [e.pk for e in sev2]

    resolved = client.get(reverse("escalations"), {"status": "resolved"})
    assert rows(resolved) == []
    bad = client.get(reverse("escalations"), {"severity": "sev9"})
    assert bad.status_code == 200 and rows(bad) == []


def test_the_list_keeps_its_query_count_as_escalations_grow(client, lead, security, django_assert_max_num_queries):
    make_escalations(security, 3)
    client.force_login(lead)
    client.get(reverse("escalations"))  # warm the session and role caches
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("escalations"))
    make_escalations(security, 40, severity="sev1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("escalations"))
    assert len(response.context["rows"]) == 43


def test_a_member_acknowledges_and_resolves_from_the_page(client, analyst, security, make_user):
    owner = make_user(roles.ANALYST, username="owner")
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=owner)
    escalation = case_escalate(case=case, actor=owner, severity="sev1", team="security", summary="Threat to staff")
    client.force_login(analyst)

    page = client.get(reverse("escalation-detail", args=[escalation.pk]))
    assert page.status_code == 200 and b"Threat to staff" in page.content and b"Acknowledge" in page.content
    assert [p.recipient for p in page.context["paging_log"]] == [analyst]

    response = client.post(reverse("escalation-ack", args=[escalation.pk]))
    assert response.status_code == 302
    again = client.post(reverse("escalation-ack", args=[escalation.pk]))
    assert again.status_code == 409 and b"already acknowledged" in again.content

    client.post(reverse("escalation-findings", args=[escalation.pk]), {"findings": "Credible; police informed."})
    refused = client.post(reverse("escalation-resolve", args=[escalation.pk]), {"outcome": "return_to_review"})
    assert refused.status_code == 400 and b"Say what the analyst should do next" in refused.content
    done = client.post(reverse("escalation-resolve", args=[escalation.pk]),
                       {"outcome": "return_to_review", "instructions": "Terminate the account."})
    assert done.status_code == 302 and done["Location"] == reverse("escalation-detail", args=[escalation.pk])
    escalation.refresh_from_db()
    case.refresh_from_db()
    assert escalation.status == Escalation.Status.RESOLVED and "police informed" in escalation.findings
    assert case.status == CaseStatus.IN_REVIEW and case.assignee == owner


def test_resolving_to_decide_opens_the_case(client, lead, security, analyst):
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst)
    escalation = case_escalate(case=case, actor=analyst, severity="sev2", team="security", summary="Unclear policy")
    client.force_login(lead)
    response = client.post(reverse("escalation-resolve", args=[escalation.pk]), {"outcome": "decide"})
    assert response.status_code == 302 and response["Location"] == reverse("case-detail", args=[case.pk])


def test_the_case_page_panel_escalates(client, analyst, security):
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst)
    client.force_login(analyst)

    page = client.get(reverse("case-detail", args=[case.pk]))
    assert page.status_code == 200
    assert b'data-testid="escalation-panel"' in page.content and b"Escalate this case" in page.content

    response = client.post(reverse("case-escalate", args=[case.pk]), {
        "severity": "sev2", "team": "security", "summary": "Ring of sockpuppets",
        "impacted_ids": "acct-1\nacct-2", "evidence_links": "https://example.test/e/1",
    })
    assert response.status_code == 302 and response["Location"] == reverse("case-detail", args=[case.pk])
    escalation = Escalation.objects.get(case=case)
    assert escalation.impacted_ids == ["acct-1", "acct-2"]
    assert escalation.evidence_links == ["https://example.test/e/1"]

    page = client.get(reverse("case-detail", args=[case.pk]))
    assert b"Sev2" in page.content and b"Escalate this case" not in page.content  # escalated: no second form


def test_a_bad_escalation_shows_the_form_again_with_errors(client, analyst, security):
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst)
    client.force_login(analyst)
    response = client.post(reverse("case-escalate", args=[case.pk]), {
        "severity": "sev2", "team": "security", "summary": "", "evidence_links": "ftp://nope",
    })
    assert response.status_code == 400
    assert b"A summary is required." in response.content and b"is not a link" in response.content
    assert response.context["posted"]["values"]["evidence_links"] == "ftp://nope"
    assert not Escalation.objects.exists()


def test_someone_elses_case_offers_no_form(client, make_user, security):
    owner = UserFactory(username="owner")
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=owner)
    client.force_login(make_user(roles.ANALYST, username="bystander"))
    page = client.get(reverse("case-escalate", args=[case.pk]))
    assert page.status_code == 200 and b"you cannot escalate it now" in page.content
    refused = client.post(reverse("case-escalate", args=[case.pk]), {"severity": "sev2", "team": "security",
                                                                      "summary": "x"})
    assert refused.status_code == 409 and not Escalation.objects.exists()
