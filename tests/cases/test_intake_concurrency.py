"""Intake under concurrency, in real threads on real PostgreSQL connections: one open case per subject
however many reports about it arrive at once, and one report per idempotency key."""

import threading

import pytest
from django.db import connections

from cases.models import Case, CaseEvent, CaseStatus, Category, Queue, QueueSla, Report, Subject
from cases.services.intake import Outcome, ReportIn, SubjectIn, reports_ingest
from tests.factories import user_with_role
from tsconsole import roles

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

THREADS = 16


@pytest.fixture
def setup():
    return intake_ready()


def intake_ready():
    """What intake needs (another transactional test may have flushed the migrated rows); the
    platform account that sends the reports."""
    queue, _ = Queue.objects.get_or_create(slug="general", defaults={"name": "General", "is_default": True})
    for priority in range(4):
        QueueSla.objects.get_or_create(queue=queue, priority=priority,
                                       defaults={"first_touch_minutes": 60, "resolution_minutes": 240})
    Category.objects.get_or_create(slug="race-spam", defaults={
        "name": "Race spam", "dsa_category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "default_severity": 3})
    return user_with_role(roles.INTEGRATION, username="racing-platform")


def run_together(target, count=THREADS):
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def about(subject_id, external_id, reporter):
    return ReportIn(source="user_report", external_id=external_id, category="race-spam", reporter_ref=reporter,
                    subject=SubjectIn(kind="account", external_id=subject_id, handle=f"h-{reporter}"))


def test_16_threads_reporting_one_new_subject_make_one_open_case_with_every_report(setup):
    results = run_together(lambda i: reports_ingest([about("target", f"race-{i}", f"u{i}")], actor=setup)[0])
    assert all(r.status == Outcome.CREATED for r in results)
    assert len({r.case["id"] for r in results}) == 1
    subject = Subject.objects.get(kind="account", external_id="target")
    case = Case.objects.get(subject=subject)
    assert case.status == CaseStatus.OPEN
    assert Report.objects.filter(case=case).count() == THREADS
    assert (case.report_count, case.reporter_count) == (THREADS, THREADS)
    verbs = list(CaseEvent.objects.filter(case=case).values_list("verb", flat=True))
    assert verbs.count("opened") == 1 and verbs.count("report_added") == THREADS - 1
    # 16 reporters rank a P3 case up
    assert case.priority == 2


def test_16_threads_joining_an_existing_open_case(setup):
    [first] = reports_ingest([about("busy", "seed", "u-seed")], actor=setup)
    results = run_together(lambda i: reports_ingest([about("busy", f"join-{i}", f"u{i}")], actor=setup)[0])
    assert {r.case["id"] for r in results} == {first.case["id"]}
    case = Case.objects.get(pk=first.case["id"])
    assert case.report_count == THREADS + 1 == Report.objects.filter(case=case).count()
    assert Case.objects.filter(subject__external_id="busy").count() == 1


def test_16_threads_sending_the_same_report_store_it_once(setup):
    results = run_together(lambda i: reports_ingest([about("dup-target", "same-key", "u1")], actor=setup)[0])
    assert sorted(r.status for r in results) == [Outcome.CREATED] + [Outcome.DUPLICATE] * (THREADS - 1)
    assert len({r.report_id for r in results}) == 1
    assert Report.objects.filter(external_id="same-key").count() == 1
    case = Case.objects.get(subject__external_id="dup-target")
    assert case.report_count == 1
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_overlapping_bulk_lists_in_opposite_orders_do_not_deadlock(setup):
    subjects = [f"shared-{n}" for n in range(40)]

    def send(i):
        order = subjects if i % 2 else list(reversed(subjects))
        return reports_ingest([about(s, f"bulk-{i}-{s}", f"u{i}") for s in order], actor=setup)

    results = run_together(send, count=8)
    assert all(o.status == Outcome.CREATED for batch in results for o in batch)
    assert Case.objects.filter(subject__external_id__startswith="shared-").count() == 40
    assert Report.objects.filter(external_id__startswith="bulk-").count() == 8 * 40
