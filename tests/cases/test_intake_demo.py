"""The demo data is made through intake, is idempotent, and has what the console's pages need to show."""

import pytest
from django.db.models import Count

from cases import demo
from cases.models import Case, CaseEvent, CaseStatus, Report, Signal, Subject

pytestmark = pytest.mark.django_db


def test_demo_seed_goes_through_intake_and_runs_once():
    summary = demo.seed()
    assert "reports" in summary
    counts = (Report.objects.count(), Case.objects.count(), CaseEvent.objects.count())
    assert demo.seed() == "already present"
    assert (Report.objects.count(), Case.objects.count(), CaseEvent.objects.count()) == counts

    assert 300 <= counts[0] <= 800
    assert Report.objects.values("category__parent").distinct().count() >= 10
    assert set(Report.objects.values_list("source", flat=True)) == {
        "user_report", "automated", "support_escalation", "legal_request", "trusted_flagger"}
    # every case was opened by intake and says why it has its priority
    assert CaseEvent.objects.filter(verb="opened").count() == counts[1]
    assert not Case.objects.filter(priority_reasons=[]).exists()
    assert Case.objects.filter(report_count__gt=1).exists()
    assert CaseEvent.objects.filter(verb="priority_changed").exists()


def test_demo_subjects_have_history_resolved_through_the_transition():
    demo.seed()
    resolved = Case.objects.filter(status=CaseStatus.RESOLVED, subject__external_id__startswith="demo-")
    assert resolved.count() >= 20
    for case in resolved[:5]:
        event = case.events.get(verb="resolved")
        assert (event.from_status, event.to_status) == ("open", "resolved")
        assert case.resolved_at == event.created_at and case.resolution
    again = Subject.objects.filter(cases__status=CaseStatus.RESOLVED).filter(cases__status=CaseStatus.OPEN)
    assert again.exists(), "some subjects with history are reported again"


def test_demo_accounts_share_signals_and_a_ring():
    demo.seed()
    shared = Signal.objects.annotate(n=Count("subject_links")).filter(n__gt=1)
    assert shared.filter(n=5, kind__in=["device_id", "payment_fingerprint"]).count() == 2
    assert shared.filter(n=2, kind="device_id").count() >= 5
    assert not Signal.objects.filter(value_hash__contains="@").exists()
