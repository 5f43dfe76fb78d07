"""The SLA sweep with a frozen clock: `now` is passed in, nothing is mocked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseEvent, CaseStatus, SlaCrossing
from cases.services.sla import sla_sweep
from cases.sla import apply_due_times, sla_pause, sla_resume
from tests.factories import (
    CaseFactory,
    QueueFactory,
    QueueSlaFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)
from tsconsole.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)
AT_RISK = SlaCrossing.Level.AT_RISK
BREACHED = SlaCrossing.Level.BREACHED
FIRST_TOUCH = SlaCrossing.Clock.FIRST_TOUCH
RESOLUTION = SlaCrossing.Clock.RESOLUTION


def minutes(n):
    return T0 + timedelta(minutes=n)


@pytest.fixture
def queue():
    queue = QueueFactory(slug="sweep-queue", name="Sweep queue")
    # P2: first touch 60 min (at risk at 45), resolution 240 min (at risk at 180)
    QueueSlaFactory(queue=queue, priority=2, first_touch_minutes=60, resolution_minutes=240)
    QueueSlaFactory(queue=queue, priority=1, first_touch_minutes=20, resolution_minutes=120)
    return queue


def open_case(queue, *, opened_at=T0, priority=2, **kwargs):
    case = CaseFactory(queue=queue, opened_at=opened_at, priority=priority, **kwargs)
    case.save(update_fields=apply_due_times(case))
    return case


def marks(case):
    return sorted(SlaCrossing.objects.filter(case=case).values_list("clock", "level"))


def verbs(case):
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("verb", flat=True))


def test_each_mark_is_crossed_once_in_order(queue):
    owner = UserFactory(username="owner")
    case = open_case(queue, assignee=owner, status=CaseStatus.IN_REVIEW)

    assert sla_sweep(now=minutes(44)).at_risk == 0
    assert marks(case) == []

    result = sla_sweep(now=minutes(46))
    assert (result.at_risk, result.breached) == (1, 0)
    assert marks(case) == [(FIRST_TOUCH, AT_RISK)]
    assert sla_sweep(now=minutes(46)).at_risk == 0  # a re-run records nothing

    sla_sweep(now=minutes(61))
    assert marks(case) == [(FIRST_TOUCH, AT_RISK), (FIRST_TOUCH, BREACHED)]
    sla_sweep(now=minutes(181))
    sla_sweep(now=minutes(241))
    for _ in range(3):
        sla_sweep(now=minutes(300))
    assert marks(case) == [
        (FIRST_TOUCH, AT_RISK), (FIRST_TOUCH, BREACHED), (RESOLUTION, AT_RISK), (RESOLUTION, BREACHED),
    ]
    assert verbs(case) == ["sla_at_risk", "sla_breached", "sla_at_risk", "sla_breached"]
    breach = SlaCrossing.objects.get(case=case, clock=RESOLUTION, level=BREACHED)
    assert breach.due_at == case.resolution_due_at == minutes(240)
    assert breach.crossed_at == minutes(240)
    at_risk = SlaCrossing.objects.get(case=case, clock=RESOLUTION, level=AT_RISK)
    assert at_risk.crossed_at == minutes(180)
    event = CaseEvent.objects.get(case=case, verb="sla_breached", data__clock=RESOLUTION)
    assert event.actor is None and event.actor_kind == CaseEvent.ActorKind.SYSTEM

    # The assignee heard of each crossing once: in-app for all four, email for the two breaches.
    messages = OutboxMessage.objects.filter(topic__startswith="sla.")
    notices = Notification.objects.filter(kind__startswith="sla.")
    assert notices.count() == 4 and all(n.user_id == owner.pk for n in notices)
    emails = messages.filter(channel="email")
    assert emails.count() == 2 and {m.recipient for m in emails} == {owner.email}
    assert f"/cases/{case.pk}/" in emails.first().payload["body"]


def test_a_case_found_past_both_marks_records_both_and_is_announced_once(queue):
    owner = UserFactory(username="owner")
    case = open_case(queue, assignee=owner, status=CaseStatus.IN_REVIEW, first_touched_at=minutes(1))

    result = sla_sweep(now=minutes(500))

    assert marks(case) == [(RESOLUTION, AT_RISK), (RESOLUTION, BREACHED)]  # first touch met: no marks
    assert (result.at_risk, result.breached) == (1, 1)
    in_app = Notification.objects.all()
    assert in_app.count() == 1 and "missed its resolution target" in in_app.get().title


def test_resolved_and_clockless_cases_are_left_alone(queue):
    resolved = open_case(queue, status=CaseStatus.RESOLVED, resolved_at=minutes(10))
    no_target = CaseFactory(queue=QueueFactory(), opened_at=T0)  # its queue has no targets: no due times
    sla_sweep(now=minutes(10_000))
    assert marks(resolved) == [] and marks(no_target) == []


def test_a_paused_clock_does_not_cross(queue):
    case = open_case(queue)
    case.save(update_fields=sla_pause(case, minutes(30)))

    sla_sweep(now=minutes(1000))
    assert marks(case) == []

    # Resumed after 70 minutes on hold: every mark moves 70 minutes later.
    case.save(update_fields=sla_resume(case, minutes(100)))
    assert case.first_touch_due_at == minutes(130)
    sla_sweep(now=minutes(114))
    assert marks(case) == []
    sla_sweep(now=minutes(116))
    assert marks(case) == [(FIRST_TOUCH, AT_RISK)]


def test_a_mark_passed_before_the_pause_still_counts(queue):
    case = open_case(queue)
    case.save(update_fields=sla_pause(case, minutes(50)))  # paused after 75% of first touch (45)

    sla_sweep(now=minutes(55))

    assert marks(case) == [(FIRST_TOUCH, AT_RISK)]
    crossing = SlaCrossing.objects.get(case=case)
    assert crossing.crossed_at == minutes(45)


def test_a_hold_does_not_announce_a_mark_again(queue):
    case = open_case(queue)
    sla_sweep(now=minutes(50))
    assert marks(case) == [(FIRST_TOUCH, AT_RISK)]

    case.save(update_fields=sla_pause(case, minutes(50)))
    case.save(update_fields=sla_resume(case, minutes(80)))  # 30 minutes on hold; still past 75%
    sla_sweep(now=minutes(81))

    assert marks(case) == [(FIRST_TOUCH, AT_RISK)]
    sla_sweep(now=minutes(91))  # 60 minutes of running clock: breached, on the moved due time
    breach = SlaCrossing.objects.get(case=case, level=BREACHED)
    assert breach.crossed_at == minutes(90) == case.first_touch_due_at


def test_a_priority_change_moves_the_clock(queue):
    case = open_case(queue)
    sla_sweep(now=minutes(15))
    assert marks(case) == []

    # P2 → P1 (first touch 20 min, resolution 120 min): the new first-touch deadline has passed.
    case.priority = 1
    case.save(update_fields=["priority", *apply_due_times(case)])
    assert case.first_touch_due_at == minutes(20)
    sla_sweep(now=minutes(21))
    assert marks(case) == [(FIRST_TOUCH, AT_RISK), (FIRST_TOUCH, BREACHED)]

    # Back to P2: a later deadline is a new deadline, with marks of its own.
    case.priority = 2
    case.save(update_fields=["priority", *apply_due_times(case)])
    sla_sweep(now=minutes(46))
    assert SlaCrossing.objects.filter(case=case, clock=FIRST_TOUCH, level=AT_RISK).count() == 2
    assert set(SlaCrossing.objects.filter(case=case, level=AT_RISK).values_list("due_at", flat=True)) == {
        minutes(20), minutes(60)
    }


def test_a_queue_may_raise_priority_on_breach_one_step(queue):
    queue.raise_priority_on_breach = True
    queue.save()
    case = open_case(queue, first_touched_at=minutes(1), status=CaseStatus.IN_REVIEW)

    result = sla_sweep(now=minutes(241))

    case.refresh_from_db()
    assert result.raised == 1 and case.priority == 1
    assert case.resolution_due_at == minutes(120)  # recomputed for P1
    assert case.priority_reasons[-1] == "Raised from P2 after an SLA breach"
    raise_event = CaseEvent.objects.get(case=case, verb="priority_changed")
    assert raise_event.data["from"] == 2 and raise_event.data["to"] == 1 and raise_event.actor_id is None

    # The P1 deadline passed long ago; its marks are recorded with the raise, not found "new" later.
    for _ in range(3):
        assert sla_sweep(now=minutes(242)).raised == 0
    case.refresh_from_db()
    assert case.priority == 1
    assert SlaCrossing.objects.filter(case=case, level=BREACHED).count() == 2
    assert not Notification.objects.exists()  # unassigned, no leads anywhere


def test_unassigned_cases_go_to_the_queue_leads_as_one_digest(queue):
    team = TeamFactory(slug="sweepers", chat_webhook_url="http://127.0.0.1:9/chat/sweepers")
    queue.allowed_teams.add(team)
    lead = TeamMembershipFactory(team=team, is_lead=True, user=UserFactory(username="boss")).user
    TeamMembershipFactory(team=team, is_lead=False)  # a member who is not a lead hears nothing
    cases = [open_case(queue) for _ in range(3)]

    sla_sweep(now=minutes(61))  # first touch breached on all three

    digest = Notification.objects.get()
    assert digest.user_id == lead.pk
    assert digest.title == "3 unassigned cases in Sweep queue missed their first touch target"
    assert all(f"Case #{c.pk}" in digest.body for c in cases)
    assert OutboxMessage.objects.filter(channel="email", recipient=lead.email).count() == 1
    chat = OutboxMessage.objects.get(channel="slack")
    assert chat.recipient == team.chat_webhook_url and "3 case(s) in Sweep queue" in chat.payload["text"]

    sla_sweep(now=minutes(61))
    assert OutboxMessage.objects.count() == 2 and Notification.objects.count() == 1  # nothing new on a re-run


def test_queues_open_to_everyone_fall_back_to_the_leads_team(queue):
    leads = TeamFactory(slug="leads")
    on_call = TeamMembershipFactory(team=leads, user=UserFactory(username="shiftlead")).user
    case = open_case(queue)

    sla_sweep(now=minutes(46))

    message = Notification.objects.get()
    assert message.user_id == on_call.pk
    assert message.title == f"Unassigned case #{case.pk} is past 75% of its first touch target"
    assert not OutboxMessage.objects.filter(channel="email").exists()  # at risk: in-app only


def test_query_count_does_not_grow_with_crossings(queue, django_assert_max_num_queries):
    leads = TeamFactory(slug="leads")
    TeamMembershipFactory(team=leads)
    owner = UserFactory(username="owner")
    for i in range(40):
        open_case(queue, assignee=owner if i % 2 else None, status=CaseStatus.IN_REVIEW if i % 2 else CaseStatus.OPEN)

    with django_assert_max_num_queries(25):
        result = sla_sweep(now=minutes(61))
    assert result.breached == 40 and result.at_risk == 40  # both first-touch marks passed

    # lock, JIT off, targets, one id walk per clock and level (+ savepoint and release in a test)
    with django_assert_max_num_queries(9):
        idle = sla_sweep(now=minutes(62))
    assert (idle.breached, idle.at_risk, idle.notifications) == (0, 0, 0)


def test_marked_cases_leave_the_sweep_until_their_deadline_moves(queue):
    case = open_case(queue)
    sla_sweep(now=minutes(61))
    case.refresh_from_db()
    # Both first-touch marks are on file for the current due time: the case is out of those indexes.
    assert case.sla_first_touch_at_risk_for == case.sla_first_touch_breach_for == case.first_touch_due_at
    assert case.sla_resolution_at_risk_for is None  # not due yet: still pending

    case.priority = 1
    case.save(update_fields=["priority", *apply_due_times(case)])
    case.refresh_from_db()
    assert case.sla_first_touch_breach_for != case.first_touch_due_at  # pending again
    sla_sweep(now=minutes(61))
    assert SlaCrossing.objects.filter(case=case, clock=FIRST_TOUCH, level=BREACHED).count() == 2
