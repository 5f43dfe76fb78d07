"""A decision waiting for the two-person rule tells the leads who can approve it."""

import pytest
from django.urls import reverse

from enforcement import services
from tests.factories import AccountFactory, TeamFactory, TeamMembershipFactory
from tsconsole.models import Notification
from tsconsole.roles import ANALYST

pytestmark = pytest.mark.django_db

KIND = "enforcement.awaiting_approval"


def _propose_termination(case, actor):
    return services.case_decide(case=case, actor=actor, actions=[{"type": "termination"}], rationale="Ring leader.",
                                statement="Your account broke the rule.", departure_reason="Ring leader.")


def test_every_lead_hears_of_a_decision_waiting_for_approval(claimed, analyst, lead, other_lead, policy):
    case = claimed()
    decision = _propose_termination(case, analyst)
    notices = Notification.objects.filter(kind=KIND).order_by("user__username")
    assert [n.user for n in notices] == [lead, other_lead]
    notice = notices[0]
    assert notice.url == reverse("enforcement-approvals")
    assert f"case {case.pk}" in notice.title and "ana" in notice.title
    assert "termination" in notice.body
    assert decision.requires_approval


def test_the_queues_own_leads_hear_of_it_when_it_has_them(claimed, analyst, lead, other_lead, policy):
    team = TeamFactory(slug="marketplace")
    TeamMembershipFactory(team=team, user=other_lead, is_lead=True)
    TeamMembershipFactory(team=team, user=analyst)
    case = claimed()
    case.queue.allowed_teams.add(team)
    _propose_termination(case, analyst)
    assert [n.user for n in Notification.objects.filter(kind=KIND)] == [other_lead]


def test_a_lead_proposing_is_not_asked_to_approve_their_own_decision(claimed, lead, other_lead, policy):
    _propose_termination(claimed(assignee=lead), lead)
    assert [n.user for n in Notification.objects.filter(kind=KIND)] == [other_lead]


def test_decisions_that_take_effect_at_once_tell_no_lead(claimed, analyst, lead, policy):
    services.case_decide(case=claimed(AccountFactory()), actor=analyst, actions=[{"type": "no_violation"}],
                         rationale="Satire.")
    assert not Notification.objects.filter(kind=KIND).exists()


def test_team_leads_without_the_lead_role_are_not_asked(claimed, analyst, make_user, lead, policy):
    team = TeamFactory(slug="marketplace")
    TeamMembershipFactory(team=team, user=make_user(ANALYST, username="senior"), is_lead=True)
    case = claimed()
    case.queue.allowed_teams.add(team)
    _propose_termination(case, analyst)
    # Nobody on the queue's team may approve, so the console's leads hear of it instead.
    assert [n.user.get_username() for n in Notification.objects.filter(kind=KIND)] == [lead.get_username()]
