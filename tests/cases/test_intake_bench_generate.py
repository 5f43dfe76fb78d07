"""manage.py bench_generate: the benchmark dataset is realistic and keeps the product's invariants."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, Report, Subject, SubjectSignal

pytestmark = [
    pytest.mark.django_db,
]


def generate(**options):
    out = StringIO()
    call_command("bench_generate", stdout=out, **{"cases": 3000, "chunk": 1000, "analysts": 3, **options})
    return out.getvalue()


def test_dataset_shape_and_invariants():
    out = generate(reports_per_case=3, open_fraction=0.2, overdue=25, prefix="t")
    assert '"bench": "generate"' in out
    now = timezone.now()
    assert Case.objects.count() == 3000
    open_cases = Case.objects.exclude(status=CaseStatus.RESOLVED)
    assert open_cases.count() == 600
    assert not open_cases.exclude(status=CaseStatus.OPEN).exists()
    assert not open_cases.filter(assignee__isnull=False).exists()
    assert open_cases.filter(resolution_due_at__lt=now).count() == 25
    assert open_cases.filter(first_touch_due_at__lt=now).count() == 25
    # one open case per subject; resolved history shares subjects
    assert not open_cases.values("subject").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert Subject.objects.annotate(n=Count("cases")).filter(n__gt=1).exists()
    resolved = Case.objects.filter(status=CaseStatus.RESOLVED)
    assert not resolved.filter(resolved_at__isnull=True).exists()
    assert not resolved.filter(resolved_by__isnull=True).exists()
    # every queue and priority is represented
    assert Case.objects.values("queue").distinct().count() == 4
    assert set(Case.objects.values_list("priority", flat=True).distinct()) == {0, 1, 2, 3}
    # reports: about three per case, counts agree, ids are idempotency keys
    assert 8500 <= Report.objects.count() <= 9500
    sample = Case.objects.order_by("id")[:50]
    for case in sample:
        assert case.reports.count() == case.report_count
    assert CaseEvent.objects.filter(verb="opened").count() == 3000
    assert CaseEvent.objects.filter(verb="resolved").count() == 2400
    assert SubjectSignal.objects.exists()
    assert all(reasons for reasons in Case.objects.values_list("priority_reasons", flat=True)[:100])


def test_a_second_run_needs_another_prefix():
    generate(cases=1000, prefix="once")
    with pytest.raises(CommandError, match="exist already"):
        generate(cases=1000, prefix="once")
    generate(cases=1000, prefix="twice")
    assert Case.objects.count() == 2000


@pytest.mark.parametrize("options", [{"open_fraction": 0.9}, {"overdue": 10**6}, {"cases": 0}])
def test_bad_options_are_refused(options):
    with pytest.raises(CommandError):
        generate(**options)
