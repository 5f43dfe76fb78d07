"""Real threads against PostgreSQL: sixteen identical appeals at once make one appeal, and
sixteen different requests by the same appellant against one decision leave one open appeal."""


import pytest

from appeals import services
from appeals.models import Appeal
from cases.models import Case, CaseEvent
from tests.threads import run_together
from tsconsole.errors import Conflict

pytestmark = [pytest.mark.django_db(transaction=True)]

THREADS = 16


def _file(decision, integration, external_id):
    account = decision.case.subject.external_id
    return lambda: services.appeal_file(
        decision=decision.ref, appellant_kind="subject", appellant_ref=account, source="platform",
        external_id=external_id, statement="Please look again.", actor=integration)


def test_sixteen_identical_appeals_at_once_make_one(decided, integration):
    decision = decided()
    results = run_together(*[_file(decision, integration, "in-app-1") for _ in range(THREADS)])
    assert all(isinstance(r, services.Filed) for r in results), results
    assert sum(r.created for r in results) == 1
    assert len({r.appeal.pk for r in results}) == 1
    assert Appeal.objects.count() == 1
    assert Case.objects.filter(kind="appeal").count() == 1
    assert CaseEvent.objects.filter(verb="appeal_filed").count() == 1


def test_sixteen_different_requests_leave_one_open_appeal_per_appellant(decided, integration):
    decision = decided()
    results = run_together(*[_file(decision, integration, f"in-app-{i}") for i in range(THREADS)])
    created = [r for r in results if isinstance(r, services.Filed)]
    assert len(created) == 1 and created[0].created, results
    assert all(isinstance(r, Conflict) for r in results if r not in created), results
    assert Appeal.objects.count() == 1 and Case.objects.filter(kind="appeal").count() == 1
