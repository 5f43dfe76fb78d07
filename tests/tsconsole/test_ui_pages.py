"""Role homes, notifications and the shared page furniture (time zone, skip link, labels)."""

from datetime import UTC

import pytest
from django.urls import reverse

from tests.factories import (
    CaseFactory,
    EscalationFactory,
    NotificationFactory,
    QueueFactory,
    TeamFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.django_db


def test_analyst_home_shows_my_cases_as_links_and_only_workable_queues(client, analyst):
    mine = TeamFactory(slug="mine")
    TeamMembershipFactory(team=mine, user=analyst)
    workable = QueueFactory(slug="harassment", name="Harassment")
    workable.allowed_teams.add(mine)
    closed = QueueFactory(slug="legal", name="Legal requests")
    closed.allowed_teams.add(TeamFactory(slug="legal-team"))
    case = CaseFactory(queue=workable, assignee=analyst, status="in_review")
    client.force_login(analyst)
    html = client.get(reverse("home")).content.decode()
    work = html.split('data-testid="home-work"')[1].split("</section>")[0]
    assert f'data-href="{reverse("case-detail", args=[case.pk])}"' in work
    assert "Next in Harassment" in work and "Legal requests" not in work


def test_lead_home_lists_escalations_waiting_for_acknowledgement(client, lead):
    waiting = EscalationFactory(summary="Sev2 ring, 55 minutes to acknowledge")
    EscalationFactory(summary="Already acknowledged", status="acknowledged")
    client.force_login(lead)
    html = client.get(reverse("home")).content.decode()
    panel = html.split('data-testid="home-escalations"')[1].split("</section>")[0]
    assert "Sev2 ring" in panel and "Already acknowledged" not in panel
    assert reverse("escalation-detail", args=[waiting.pk]) in panel
    assert "left</time>" in panel


def test_notifications_are_one_line_with_details_folded_and_paginated(client, analyst):
    body = "Case 12 breached its resolution target.\nhttp://console.example/cases/12/\n" + "\n".join(
        f"case {n}" for n in range(124))
    for n in range(30):
        NotificationFactory(user=analyst, title=f"Breach {n}", body=body, url="/cases/12/")
    client.force_login(analyst)
    html = client.get(reverse("notifications")).content.decode()
    assert html.count('data-testid="notification"') == 25
    assert '<div class="n-summary">Case 12 breached its resolution target.</div>' in html
    assert '<a href="http://console.example/cases/12/"' in html  # addresses in the details are links
    assert 'data-testid="older-notifications"' in html
    older = client.get(reverse("notifications"), {"before": html.split("?before=")[1].split('"')[0]})
    assert older.content.decode().count('data-testid="notification"') == 5


def test_times_follow_the_browser_zone_and_are_labelled(client, analyst):
    NotificationFactory(user=analyst, title="Hello")
    client.force_login(analyst)
    client.cookies["tz"] = "Europe/Paris"
    html = client.get(reverse("notifications")).content.decode()
    assert "Europe/Paris" in html and "<time datetime=" in html
    client.cookies["tz"] = "Not/AZone"
    assert client.get(reverse("notifications")).status_code == 200


def test_every_page_has_a_skip_link_and_a_main_target(client, analyst):
    client.force_login(analyst)
    html = client.get(reverse("home")).content.decode()
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html


def test_my_work_shows_when_resolved_cases_were_resolved_not_a_due_time(client, analyst):
    from django.utils import timezone

    CaseFactory(status="resolved", resolved_by=analyst, resolved_at=timezone.now(), resolution="no_violation")
    client.force_login(analyst)
    html = client.get(reverse("my-work")).content.decode()
    resolved = html.split('data-testid="my-resolved"')[1].split("</table>")[0]
    assert "<th>Resolved</th>" in resolved and "<th>Due</th>" not in resolved
    assert "just now" in resolved


def test_when_is_relative_with_the_absolute_local_time_on_hover():
    import zoneinfo
    from datetime import datetime, timedelta

    from django.utils import timezone

    from tsconsole.templatetags.timefmt import when

    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        html = when(moment)
    assert 'datetime="2026-01-15T12:00:00+00:00"' in html
    assert 'title="Thu 15 Jan 2026, 07:00 EST (America/New_York)"' in html and " ago</time>" in html
    soon = when(timezone.now() + timedelta(hours=2, minutes=5))
    assert ">in 2h 4m</time>" in soon or ">in 2h 5m</time>" in soon


def test_refusals_say_who_may_and_who_you_are(client, support_agent):
    client.force_login(support_agent)
    response = client.get(reverse("queue-list"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "Working on cases is for analysts, leads and admins; you are signed in as support agent." in html
    assert "(case.work)" not in html


def test_report_sources_and_reach_read_as_words_and_numbers(client, analyst):
    from tests.factories import AccountFactory, ReportFactory

    case = CaseFactory(subject=AccountFactory(follower_count=250_000))
    ReportFactory(case=case, source="user_report")
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "250,000 followers" in html and "User report" in html and "Userreport" not in html
