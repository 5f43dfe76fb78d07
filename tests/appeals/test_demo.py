"""The demo seeds appeals in every state through the services, once."""

import io

import pytest
from django.core.management import call_command

from appeals.models import Appeal
from cases.models import CaseEvent

pytestmark = pytest.mark.django_db


def test_demo_has_appeals_in_every_state_and_seeds_once():
    call_command("seed_demo", "--force", stdout=io.StringIO())
    appeals = Appeal.objects.select_related("case")
    states = {(a.status, a.outcome, a.case.status) for a in appeals}
    assert ("open", "", "open") in states  # waiting in the queue
    assert ("open", "", "in_review") in states  # a reviewer is on it
    assert ("decided", "upheld", "resolved") in states
    assert ("decided", "overturned", "resolved") in states
    assert appeals.filter(appellant_kind="notifier").exists()
    for appeal in appeals.filter(status="decided"):
        assert appeal.decided_by_id not in (appeal.original_decider_id, appeal.original_approver_id)
        assert CaseEvent.objects.filter(case_id=appeal.case_id, verb="appeal_decided").count() == 1
    count = appeals.count()
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert Appeal.objects.count() == count
