"""A small batch's statements run on the plans their connection made once (the report's own
transaction asks for generic plans), and the setting ends with that transaction."""

import pytest
from django.db import connection, transaction

from cases.models import Report
from cases.services.intake import reports_ingest

from .test_intake_concurrency import about, intake_ready

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform():
    return intake_ready()


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


def _custom_plans() -> dict[str, int]:
    """Custom plans made so far by the intake's prepared statements on this connection, by statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, custom_plans FROM pg_prepared_statements WHERE name LIKE 'tsc\\_%%'")
        return dict(cursor.fetchall())


def test_single_reports_are_not_planned_again_on_every_run(platform):
    for n in range(12):  # new subjects and, every third report, one more on the same subject's case
        reports_ingest([about(f"plan-subject-{n // 3}", f"plan-report-{n}", f"reporter-{n}")], actor=platform)
        assert _plan_cache_mode() == "auto"  # the setting ended with the report's transaction
    assert Report.objects.filter(external_id__startswith="plan-report-").count() == 12
    plans = _custom_plans()
    upserts = [text for text in plans if "INSERT INTO cases_subject" in text]
    assert upserts and len(plans) >= 5
    assert sum(plans.values()) == 0, {text[:80]: n for text, n in plans.items() if n}


def test_a_batch_inside_a_callers_transaction_leaves_its_plans_alone(platform):
    with transaction.atomic():
        reports_ingest([about("plan-outer", "plan-outer-1", "r1")], actor=platform)
        assert _plan_cache_mode() == "auto"


def test_a_large_batch_is_planned_for_its_size(platform):
    batch = [about(f"plan-big-{n}", f"plan-big-{n}", f"r{n}") for n in range(30)]
    for offset in range(3):
        reports_ingest([about(r.subject.external_id, f"{r.external_id}-{offset}", r.reporter_ref) for r in batch],
                       actor=platform)
    assert sum(_custom_plans().values()) > 0
