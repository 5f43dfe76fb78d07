"""Database guarantees: one open case per subject, idempotent report keys, an append-only timeline."""

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import DatabaseError

from cases.models import CaseEvent, CaseStatus, Category, Queue
from tests.factories import AccountFactory, CaseEventFactory, CaseFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_a_subject_has_at_most_one_open_case():
    subject = AccountFactory()
    CaseFactory(subject=subject)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(subject=subject, status=CaseStatus.IN_REVIEW)


def test_a_resolved_case_does_not_block_a_new_one():
    subject = AccountFactory()
    CaseFactory(subject=subject, status=CaseStatus.RESOLVED)
    CaseFactory(subject=subject, status=CaseStatus.RESOLVED)
    assert CaseFactory(subject=subject).status == CaseStatus.OPEN


def test_report_external_id_is_unique_per_source():
    first = ReportFactory(external_id="r-1", source="user_report")
    ReportFactory(external_id="r-1", source="automated", case=first.case)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportFactory(external_id="r-1", source="user_report", case=first.case)


def test_subject_external_id_is_unique_per_kind():
    AccountFactory(external_id="x-1")
    from cases.models import Subject

    with pytest.raises(IntegrityError), transaction.atomic():
        Subject.objects.create(kind="account", external_id="x-1")


def test_case_events_refuse_update_and_delete():
    event = CaseEventFactory()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(verb="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.verb == "note_added"


def test_default_taxonomy_and_queues_ship_with_the_database():
    assert Category.objects.filter(parent__isnull=True).count() >= 14
    assert Category.objects.get(slug="csam").sensitive
    assert Category.objects.get(slug="csam").dsa_category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    default = Queue.objects.get(is_default=True)
    assert default.sla_targets.count() == 4


def test_only_one_default_queue():
    with pytest.raises(IntegrityError), transaction.atomic():
        Queue.objects.create(slug="another", name="Another", is_default=True)
