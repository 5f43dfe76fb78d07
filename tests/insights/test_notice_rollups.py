"""Notice rollups of the transparency report: notices per day (NoticeDay) and each case's first
notice (CaseFirstNotice) equal a full recomputation from the reports, whatever wrote them (intake
one by one and in bulk, the benchmark generator's raw SQL, the ORM), after reports move or go, and
after compaction; the report's notice counts agree with a count of the reports for any period."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Min

from cases.models import Category, DsaCategory, Report
from cases.services.intake import ReportIn, SubjectIn, report_ingest, reports_ingest
from insights import rollup
from insights.models import CaseFirstNotice, NoticeDay
from insights.transparency import Period, notices
from tests import factories as fx
from tests.factories import user_with_role
from tsconsole import roles

pytestmark = pytest.mark.django_db

D0 = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)


def recount_days() -> dict:
    """Notices per (UTC day, category, source), counted from the reports."""
    return dict(Counter((r.received_at.astimezone(UTC).date(), r.category_id, r.source) for r in Report.objects.all()))


def stored_days() -> dict:
    sums = Counter()
    for row in NoticeDay.objects.all():
        sums[(row.day, row.category_id, row.source)] += row.notices
    return {key: n for key, n in sums.items() if n}


def recount_first_notices() -> dict:
    return dict(Report.objects.values("case_id").annotate(first=Min("received_at")).values_list("case_id", "first"))


def stored_first_notices() -> dict:
    return dict(CaseFirstNotice.objects.values_list("case_id", "received_at"))


def assert_rollups_equal_recomputation():
    assert stored_days() == recount_days()
    assert stored_first_notices() == recount_first_notices()


def _report(n, subject, *, hours, category="spam", source="user_report"):
    return ReportIn(source=source, external_id=f"n-{n}", category=category,
                    subject=SubjectIn(kind="account", external_id=subject), received_at=D0 + timedelta(hours=hours))


def test_intake_in_bulk_and_one_by_one_keeps_the_rollups(db):
    platform = user_with_role(roles.INTEGRATION, username="platform")
    categories = list(Category.objects.filter(is_active=True, parent__isnull=False).values_list("slug", flat=True)[:3])
    batch = [_report(i, f"acct-{i % 7}", hours=(i * 5) % 70, category=categories[i % 3],
                     source=("user_report", "automated", "trusted_flagger")[i % 3]) for i in range(60)]
    reports_ingest(batch, actor=platform)
    assert_rollups_equal_recomputation()
    # a later report about an open case that was received before its first notice moves the case's first notice
    report_ingest(_report(100, "acct-1", hours=-30), actor=platform)
    report_ingest(_report(101, "acct-new", hours=5), actor=platform)
    reports_ingest(batch[:5], actor=platform)  # replays write nothing
    assert_rollups_equal_recomputation()
    first = Report.objects.get(external_id="n-100")
    assert CaseFirstNotice.objects.get(case_id=first.case_id).received_at == D0 - timedelta(hours=30)
    assert Report.objects.count() == 62


def test_orm_writes_moves_and_deletes_keep_the_rollups(db):
    case = fx.CaseFactory()
    other = fx.CategoryFactory()
    reports = [fx.ReportFactory(case=case, received_at=D0 + timedelta(hours=h)) for h in (3, 20, 30)]
    fx.ReportFactory(received_at=D0 + timedelta(days=3), source="automated")
    Report.objects.bulk_create([fx.ReportFactory.build(case=case, received_at=D0 + timedelta(hours=50))])
    assert_rollups_equal_recomputation()
    # move a report to another day, category and case; then delete the earliest of the case
    moved_to = fx.CaseFactory()
    Report.objects.filter(pk=reports[1].pk).update(received_at=D0 - timedelta(days=2), category=other, case=moved_to)
    assert_rollups_equal_recomputation()
    Report.objects.filter(pk=reports[0].pk).delete()
    assert_rollups_equal_recomputation()
    assert CaseFirstNotice.objects.get(case=case).received_at == D0 + timedelta(hours=30)
    # an update that changes nothing counted leaves the rows alone
    rows = NoticeDay.objects.count()
    Report.objects.update(description="redacted")
    assert NoticeDay.objects.count() == rows
    Report.objects.filter(case=moved_to).delete()
    assert not CaseFirstNotice.objects.filter(case=moved_to).exists()
    assert_rollups_equal_recomputation()


def test_compaction_merges_rows_without_changing_a_sum(db):
    case = fx.CaseFactory()
    for h in range(6):
        fx.ReportFactory(case=case, received_at=D0 + timedelta(hours=h * 7))
    doomed = fx.ReportFactory(received_at=D0 + timedelta(days=5))
    doomed.delete()
    before = stored_days()
    assert NoticeDay.objects.count() > len(before)
    assert rollup.notice_days_compact() == {"rows": len(before)}
    assert stored_days() == before == recount_days()
    keys = Counter(NoticeDay.objects.values_list("day", "category_id", "source"))
    assert set(keys.values()) == {1} and len(keys) == len(before)  # one row per key, none for the emptied day
    assert rollup.notice_days_compact() == {"rows": 0}  # nothing left to merge
    fx.ReportFactory(case=case, received_at=D0)
    rollup.notice_days_compact()
    assert stored_days() == recount_days()


def test_benchmark_generator_fills_the_rollups(db):
    call_command("bench_generate", stdout=StringIO(), cases=1000, chunk=1000, analysts=2, reports_per_case=3,
                 prefix="nr")
    assert Report.objects.count() >= 1000
    assert_rollups_equal_recomputation()


def test_the_migration_backfill_equals_the_triggers(db):
    """The migration fills the tables from the reports already stored with the same grouping."""
    for h in (1, 30, 55):
        fx.ReportFactory(received_at=D0 + timedelta(hours=h))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM insights_noticeday")
        cursor.execute("DELETE FROM insights_casefirstnotice")
    from importlib import import_module

    sql = import_module("insights.migrations.0002_notice_rollups").SQL
    with connection.cursor() as cursor:
        cursor.execute(sql[sql.index("INSERT INTO insights_noticeday (day, category_id, source, notices)\nSELECT"):])
    assert_rollups_equal_recomputation()


@pytest.mark.parametrize("start, end", [
    (D0, D0 + timedelta(days=3)),  # whole days
    (D0 + timedelta(hours=5), D0 + timedelta(days=2, hours=7)),  # partial days at both ends
    (D0 + timedelta(hours=5), D0 + timedelta(hours=9)),  # inside one day
    (D0 + timedelta(hours=23, minutes=59), D0 + timedelta(days=1, minutes=1)),  # across one midnight
    (D0 - timedelta(days=10), D0 + timedelta(days=10)),
])
def test_report_notice_counts_equal_a_count_of_the_reports(db, start, end):
    other = next(c for c in DsaCategory.values if c != DsaCategory.OTHER_VIOLATION_TC)
    flagger = fx.CategoryFactory(dsa_category=other)
    for i, h in enumerate((0, 4, 5, 8, 9, 23.99, 24, 24.01, 30, 47, 55, 72)):
        fx.ReportFactory(received_at=D0 + timedelta(hours=h), source=("user_report", "trusted_flagger")[i % 2],
                         **({"category": flagger} if i % 3 == 0 else {}))
    got = notices(Period(start=start, end=end))
    inside = Report.objects.filter(received_at__gte=start, received_at__lt=end).select_related("category")
    assert got["total"] == len(inside)
    assert got["trusted_flagger"] == sum(r.source == "trusted_flagger" for r in inside)
    by_category = Counter(r.category.dsa_category for r in inside)
    assert {c["category"]: c["total"] for c in got["by_category"]} == dict(by_category)
    by_source = Counter(r.source for r in inside)
    assert {s["source"]: s["count"] for s in got["by_source"] if s["count"]} == dict(by_source)


def test_the_notice_task_compacts(db):
    from insights.tasks import notice_days

    case = fx.CaseFactory()
    fx.ReportFactory(case=case, received_at=D0)
    fx.ReportFactory(case=case, received_at=D0 + timedelta(hours=1))
    assert notice_days() == {"rows": 1}
    assert NoticeDay.objects.count() == 1 and stored_days() == recount_days()
