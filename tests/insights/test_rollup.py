"""Hourly rollups: time in state from the CaseEvent timeline, and the rollup equals a full
recomputation from the events however the hours were rolled (in pieces, twice, by the beat)."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from cases.models import CaseEvent
from insights import rollup
from insights.models import AnalystHour, QueueHour, RollupState, StateHour
from tests import factories as fx
from tsconsole.celery import beat_schedule

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _event(case, verb, at, frm="", to="", actor=None):
    return CaseEvent.objects.create(case=case, verb=verb, from_status=frm, to_status=to, created_at=at, actor=actor,
                                    actor_kind="user" if actor else "system")


def test_time_in_state_of_one_case(analyst, lead):
    queue = fx.QueueFactory()
    case = fx.CaseFactory(queue=queue, opened_at=T0, first_touched_at=T0 + timedelta(minutes=30),
                          first_touch_due_at=T0 + timedelta(hours=1), resolution_due_at=T0 + timedelta(hours=2),
                          status="resolved", resolved_at=T0 + timedelta(minutes=130))
    _event(case, "opened", T0, "", "open")
    _event(case, "claimed", T0 + timedelta(minutes=30), "open", "in_review", analyst)
    _event(case, "note_added", T0 + timedelta(minutes=40), actor=analyst)
    _event(case, "held", T0 + timedelta(minutes=75), "in_review", "on_hold", analyst)
    _event(case, "resumed", T0 + timedelta(minutes=105), "on_hold", "in_review", lead)
    _event(case, "resolved", T0 + timedelta(minutes=130), "in_review", "resolved", lead)

    rollup.rollup_hours(T0, T0 + timedelta(hours=3))

    stints = {(s.hour.hour, s.state, s.user_id): (s.seconds, s.stints) for s in StateHour.objects.all()}
    assert stints == {
        (10, "open", None): (1800, 1),
        (11, "in_review", analyst.pk): (2700, 1),
        (11, "on_hold", analyst.pk): (1800, 1),
        (12, "in_review", lead.pk): (1500, 1),
    }
    hours = {q.hour.hour: q for q in QueueHour.objects.all()}
    assert hours[10].opened == 1 and hours[10].first_touch_total == 1 and hours[10].first_touch_met == 1
    assert hours[12].resolved == 1 and hours[12].resolution_total == 1 and hours[12].resolution_met == 0
    assert list(AnalystHour.objects.values_list("hour__hour", "user_id", "resolved")) == [(12, lead.pk, 1)]


def _random_world(users, queues, n_cases=40, seed=7):
    rng = random.Random(seed)
    for _ in range(n_cases):
        opened = T0 + timedelta(minutes=rng.randint(0, 600))
        case = fx.CaseFactory(queue=rng.choice(queues), priority=rng.randint(0, 3), opened_at=opened,
                              first_touch_due_at=opened + timedelta(minutes=rng.choice([30, 60, 120])),
                              resolution_due_at=opened + timedelta(minutes=rng.choice([120, 240, 480])))
        _event(case, "opened", opened, "", "open")
        status, at, touched = "open", opened, None
        for _step in range(rng.randint(0, 6)):
            at += timedelta(minutes=rng.randint(1, 150), seconds=rng.randint(0, 59))
            actor = rng.choice(users)
            if rng.random() < 0.3:
                _event(case, "note_added", at, actor=actor)
                continue
            nxt = {"open": ["in_review"], "in_review": ["on_hold", "escalated", "resolved", "open"],
                   "on_hold": ["in_review"], "escalated": ["in_review", "resolved"]}[status]
            to = rng.choice(nxt)
            _event(case, f"to_{to}", at, status, to, actor)
            if to == "in_review" and touched is None:
                touched = at
            status = to
            if status == "resolved":
                break
        case.status = status
        case.first_touched_at = touched
        case.resolved_at = at if status == "resolved" else None
        case.save()


def _recompute():
    """Everything the rollup should hold, straight from the events."""
    queue_hours = defaultdict(lambda: [0] * 6)
    state_hours = defaultdict(lambda: [0, 0])
    analyst_hours = defaultdict(int)
    by_case = defaultdict(list)
    for e in CaseEvent.objects.select_related("case").order_by("created_at", "id"):
        by_case[e.case_id].append(e)
    for events in by_case.values():
        case = events[0].case
        hours_with_events = set()
        for e in events:
            h = e.created_at.replace(minute=0, second=0, microsecond=0)
            hours_with_events.add(h)
            key = (h, case.queue_id, case.priority)
            if e.verb == "opened":
                queue_hours[key][0] += 1
            if e.to_status == "resolved":
                queue_hours[key][1] += 1
                queue_hours[key][4] += 1
                queue_hours[key][5] += int(e.created_at <= case.resolution_due_at)
                if e.actor_id:
                    analyst_hours[(h, case.queue_id, e.actor_id)] += 1
        if case.first_touched_at:
            h = case.first_touched_at.replace(minute=0, second=0, microsecond=0)
            if h in hours_with_events:
                queue_hours[(h, case.queue_id, case.priority)][2] += 1
                queue_hours[(h, case.queue_id, case.priority)][3] += int(case.first_touched_at <= case.first_touch_due_at)
        status_events = [e for e in events if e.to_status]
        for prev, cur in zip(status_events, status_events[1:], strict=False):
            if not cur.from_status:
                continue
            h = cur.created_at.replace(minute=0, second=0, microsecond=0)
            user = prev.actor_id if prev.actor_kind == "user" else None
            entry = state_hours[(h, case.queue_id, user, cur.from_status)]
            entry[0] += int((cur.created_at - prev.created_at).total_seconds())
            entry[1] += 1
    return (
        {k: tuple(v) for k, v in queue_hours.items()},
        {k: tuple(v) for k, v in state_hours.items()},
        dict(analyst_hours),
    )


def _stored():
    queue_hours = {(q.hour, q.queue_id, q.priority): (q.opened, q.resolved, q.first_touch_total, q.first_touch_met,
                                                      q.resolution_total, q.resolution_met)
                   for q in QueueHour.objects.all()}
    state_hours = defaultdict(lambda: [0, 0])
    for s in StateHour.objects.all():
        state_hours[(s.hour, s.queue_id, s.user_id, s.state)][0] += s.seconds
        state_hours[(s.hour, s.queue_id, s.user_id, s.state)][1] += s.stints
    analyst_hours = {(a.hour, a.queue_id, a.user_id): a.resolved for a in AnalystHour.objects.all()}
    return queue_hours, {k: tuple(v) for k, v in state_hours.items()}, analyst_hours


def test_rollup_equals_a_full_recomputation_from_events(analyst, lead):
    users = [analyst, lead, fx.UserFactory()]
    queues = [fx.QueueFactory(), fx.QueueFactory()]
    _random_world(users, queues)
    end = T0 + timedelta(hours=30)
    # rolled in uneven pieces, with overlaps (hours rewritten twice change nothing)
    rollup.rollup_hours(T0, T0 + timedelta(hours=5))
    rollup.rollup_hours(T0 + timedelta(hours=3), T0 + timedelta(hours=17))
    rollup.rollup_hours(T0 + timedelta(hours=16, minutes=30), end)
    expected = _recompute()
    assert sum(v[0] for v in expected[0].values()) == 40  # every case opened once
    assert expected[1] and expected[2]
    assert _stored() == expected


def test_the_beat_sweep_catches_up_and_keeps_the_last_hour_open(analyst, lead):
    users, queues = [analyst, lead], [fx.QueueFactory()]
    _random_world(users, queues, n_cases=15, seed=3)
    RollupState.objects.create(key="hourly", complete_before=T0)
    now = T0 + timedelta(hours=40, minutes=20)
    result = rollup.rollup_sweep(now=now)
    assert result["hours"] == 41
    state = RollupState.objects.get()
    assert state.complete_before == T0 + timedelta(hours=39)  # the previous hour is rewritten next time
    assert rollup.rollup_sweep(now=now)["hours"] == 2
    assert _stored() == _recompute()


def test_a_long_outage_is_caught_up_over_several_runs(analyst):
    RollupState.objects.create(key="hourly", complete_before=T0)
    now = T0 + timedelta(hours=rollup.CATCH_UP_HOURS + 10)
    assert rollup.rollup_sweep(now=now)["hours"] == rollup.CATCH_UP_HOURS
    assert RollupState.objects.get().complete_before == T0 + timedelta(hours=rollup.CATCH_UP_HOURS)
    assert rollup.rollup_sweep(now=now)["hours"] == 11


def test_rollup_and_statement_tasks_are_on_the_beat_schedule():
    tasks = {entry["task"] for entry in beat_schedule(5).values()}
    assert {"insights.tasks.rollup", "insights.tasks.sor_sweep", "insights.tasks.notice_days"} <= tasks
