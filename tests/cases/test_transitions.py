"""The case status map and the one event each transition writes."""

import pytest
from django.db import transaction

from cases.models import CaseEvent, CaseStatus
from cases.services.events import case_lock, case_transition
from cases.transitions import TRANSITIONS, can_transition, check_transition
from tests.factories import CaseFactory
from tsconsole.errors import Conflict

pytestmark = pytest.mark.django_db


def test_every_status_has_an_entry_in_the_map():
    assert set(TRANSITIONS) == set(CaseStatus.values)


def test_resolved_is_terminal():
    assert all(not can_transition(CaseStatus.RESOLVED, target) for target in CaseStatus.values)


@pytest.mark.parametrize("source,target", [
    (CaseStatus.OPEN, CaseStatus.IN_REVIEW),
    (CaseStatus.IN_REVIEW, CaseStatus.ON_HOLD),
    (CaseStatus.ON_HOLD, CaseStatus.IN_REVIEW),
    (CaseStatus.IN_REVIEW, CaseStatus.AWAITING_APPROVAL),
    (CaseStatus.AWAITING_APPROVAL, CaseStatus.RESOLVED),
    (CaseStatus.IN_REVIEW, CaseStatus.ESCALATED),
])
def test_allowed_transitions(source, target):
    check_transition(source, target)


@pytest.mark.parametrize("source,target", [
    (CaseStatus.OPEN, CaseStatus.ON_HOLD),
    (CaseStatus.OPEN, CaseStatus.AWAITING_APPROVAL),
    (CaseStatus.AWAITING_APPROVAL, CaseStatus.ON_HOLD),
    (CaseStatus.RESOLVED, CaseStatus.OPEN),
])
def test_refused_transitions_name_both_states(source, target):
    with pytest.raises(Conflict) as info:
        check_transition(source, target)
    assert CaseStatus(source).label.lower() in info.value.message


def test_transition_saves_status_and_writes_one_event(analyst):
    case = CaseFactory()
    with transaction.atomic():
        locked = case_lock(case.pk)
        event = case_transition(locked, CaseStatus.IN_REVIEW, verb="claimed", actor=analyst, data={"why": "test"})
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert list(CaseEvent.objects.filter(case=case)) == [event]
    assert (event.from_status, event.to_status, event.verb, event.actor) == ("open", "in_review", "claimed", analyst)
    assert event.actor_kind == CaseEvent.ActorKind.USER


def test_refused_transition_changes_nothing(analyst):
    case = CaseFactory()
    with pytest.raises(Conflict), transaction.atomic():
        case_transition(case_lock(case.pk), CaseStatus.AWAITING_APPROVAL, verb="x", actor=analyst)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert not CaseEvent.objects.filter(case=case).exists()


def test_system_actor_is_recorded_as_system():
    case = CaseFactory()
    with transaction.atomic():
        event = case_transition(case_lock(case.pk), CaseStatus.IN_REVIEW, verb="claimed", actor=None)
    assert event.actor is None and event.actor_kind == CaseEvent.ActorKind.SYSTEM

