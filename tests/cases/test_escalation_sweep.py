"""The escalation ladder: re-paging up the on-call ladder until someone acknowledges."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, Escalation, EscalationNotification
from cases.services.escalations import case_escalate, escalation_acknowledge, escalation_sweep
from tests.cases.test_intake_concurrency import run_together
from tests.factories import CaseFactory, TeamFactory, TeamMembershipFactory, UserFactory, user_with_role
from tsconsole import roles
from tsconsole.models import Notification, OutboxMessage

NOW = timezone.now().replace(microsecond=0)
HOUR = timedelta(hours=1)  # the Sev2 acknowledgement window


def build_ladder():
    team = TeamFactory(slug="policy")  # a default team: set its chat channel
    team.chat_webhook_url = "http://127.0.0.1:9/chat/policy"
    team.save()
    people = {}
    for name, order, is_lead in (("p1", 1, False), ("p2", 2, False), ("plead", None, True), ("idle", None, False)):
        people[name] = TeamMembershipFactory(
            team=team, user=UserFactory(username=name), oncall_order=order, is_lead=is_lead,
        ).user
    leads = TeamFactory(slug="leads")
    for name in ("shift-a", "shift-b"):
        people[name] = TeamMembershipFactory(team=leads, user=UserFactory(username=name)).user
    return team, people


def escalate(at=NOW):
    analyst = user_with_role(roles.ANALYST, username="esc-analyst")
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst)
    return case_escalate(case=case, actor=analyst, severity="sev2", team="policy", summary="Novel policy question",
                         now=at)


def paged(escalation):
    return [
        (n.step, n.recipient.username)
        for n in EscalationNotification.objects.filter(escalation=escalation).order_by("step", "recipient__username")
    ]


@pytest.mark.django_db
def test_the_ladder_climbs_one_step_per_deadline_until_the_top_then_repeats_it():
    team, people = build_ladder()
    escalation = escalate()
    assert paged(escalation) == [(1, "p1")]

    escalation_sweep(now=NOW + HOUR - timedelta(seconds=1))
    assert paged(escalation) == [(1, "p1")]  # not yet

    expected = [(1, "p1")]
    for step, names in ((2, ["p2"]), (3, ["plead"]), (4, ["shift-a", "shift-b"]), (5, ["shift-a", "shift-b"]),
                        (6, ["shift-a", "shift-b"])):
        at = NOW + (step - 1) * HOUR
        result = escalation_sweep(now=at)
        assert result["paged"] == len(names)
        expected += [(step, name) for name in names]
        assert paged(escalation) == expected
        # A second run at the same moment pages nobody.
        assert escalation_sweep(now=at)["paged"] == 0
        assert paged(escalation) == expected

    escalation.refresh_from_db()
    assert escalation.ladder_step == 6 and escalation.next_notify_at == NOW + 6 * HOUR
    events = CaseEvent.objects.filter(case=escalation.case, verb="escalation_paged").order_by("id")
    assert [e.data["step"] for e in events] == [2, 3, 4, 5, 6]
    assert events.last().data["recipients"] == ["shift-a", "shift-b"]
    assert "idle" not in {name for _, name in expected}  # members off the rota are never paged
    # Each page: in-app and email to each person, one chat post per step.
    pages = EscalationNotification.objects.filter(escalation=escalation).count()
    assert Notification.objects.filter(kind="escalation.page").count() == pages
    assert OutboxMessage.objects.filter(topic="escalation.page", channel="email").count() == pages
    assert OutboxMessage.objects.filter(topic="escalation.page", channel="slack").count() == 6
    later = Notification.objects.get(kind="escalation.page", user=people["p2"])
    assert "is not acknowledged" in later.title


@pytest.mark.django_db
def test_acknowledgement_stops_the_ladder():
    team, people = build_ladder()
    escalation = escalate()
    escalation_sweep(now=NOW + HOUR)  # p2 paged
    escalation_acknowledge(escalation=escalation.pk, actor=people["p2"], now=NOW + HOUR + timedelta(minutes=2))

    for hours in range(2, 10):
        assert escalation_sweep(now=NOW + hours * HOUR)["paged"] == 0
    assert paged(escalation) == [(1, "p1"), (2, "p2")]
    assert CaseEvent.objects.get(verb="escalation_acknowledged").data["within_deadline"] is False


@pytest.mark.django_db
def test_an_empty_roster_falls_back_to_leads_then_waits_for_someone():
    TeamFactory(slug="legal", name="Legal")
    lone_lead = user_with_role(roles.LEAD, username="lone-lead")
    analyst = user_with_role(roles.ANALYST, username="esc-analyst")
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst)

    escalation = case_escalate(case=case, actor=analyst, severity="sev1", team="legal", summary="Court order",
                               now=NOW)

    # No on-call, no team lead, no leads team: everyone with the lead role is the top step.
    assert paged(escalation) == [(1, "lone-lead")]
    lone_lead.is_active = False
    lone_lead.save()
    escalation_sweep(now=NOW + timedelta(minutes=15))
    escalation.refresh_from_db()
    assert escalation.ladder_step == 1 and escalation.next_notify_at == NOW + timedelta(minutes=20)
    newcomer = TeamMembershipFactory(team=escalation.team, oncall_order=1, user=UserFactory(username="newcomer"))
    escalation_sweep(now=NOW + timedelta(minutes=20))
    assert paged(escalation)[-1] == (2, newcomer.user.username)


@pytest.mark.django_db
def test_an_escalation_whose_case_was_decided_meanwhile_is_closed_not_paged():
    build_ladder()
    escalation = escalate()
    Case.objects.filter(pk=escalation.case_id).update(status=CaseStatus.RESOLVED)

    result = escalation_sweep(now=NOW + HOUR)

    escalation.refresh_from_db()
    assert result["closed"] == 1 and result["paged"] == 0
    assert escalation.status == Escalation.Status.RESOLVED and escalation.next_notify_at is None
    assert CaseEvent.objects.get(verb="escalation_closed").data["case_status"] == "resolved"


@pytest.mark.django_db
def test_sweep_query_count_stays_flat(django_assert_max_num_queries):
    build_ladder()
    for _ in range(10):
        escalate()
    # One ladder per team per run, then a few statements per escalation paged.
    # (plus a savepoint per escalation, so that one the sweep cannot handle is skipped alone)
    with django_assert_max_num_queries(5 + 10 * 7):
        assert escalation_sweep(now=NOW + HOUR)["escalations"] == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("exclusive", [True, False], ids=["advisory-lock", "row-locks-only"])
def test_two_sweeps_at_once_page_each_step_once(exclusive):
    build_ladder()
    escalations = [escalate() for _ in range(8)]

    run_together(lambda i: escalation_sweep(now=NOW + HOUR, exclusive=exclusive), count=2)

    for escalation in escalations:
        assert paged(escalation) == [(1, "p1"), (2, "p2")]
    assert Notification.objects.filter(kind="escalation.page").count() == 16
    assert CaseEvent.objects.filter(verb="escalation_paged").count() == 8


@pytest.mark.django_db
def test_whoever_escalates_is_not_paged_about_it():
    team, people = build_ladder()
    first_on_call = people["p1"]
    first_on_call.groups.add(*user_with_role(roles.ANALYST, username="role-holder").groups.all())
    case = CaseFactory(status=CaseStatus.IN_REVIEW, assignee=first_on_call)

    escalation = case_escalate(case=case, actor=first_on_call, severity="sev2", team="policy",
                               summary="Needs a second opinion", now=NOW)

    assert paged(escalation) == [(2, "p2")]  # p1 is first on call but sent it: the ladder starts at p2
    escalation.refresh_from_db()
    assert escalation.ladder_step == 2 and escalation.next_notify_at == NOW + HOUR
    escalation_sweep(now=NOW + HOUR)
    assert paged(escalation)[-1] == (3, "plead")
