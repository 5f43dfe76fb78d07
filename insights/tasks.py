from celery import shared_task

from . import exports, services
from . import rollup as rollups


@shared_task(name="insights.tasks.sor_sweep", acks_late=True)
def sor_sweep() -> dict:
    """Beat sweep: statements of reasons for new restrictions, and their submission. Safe to run
    twice (an advisory lock makes a second run return at once; statements are unique per action)."""
    return services.sor_sweep()


@shared_task(name="insights.tasks.rollup", acks_late=True)
def rollup() -> dict:
    """Beat sweep: rewrite the recent hours of the rollups (idempotent: an hour is rewritten whole)."""
    return rollups.rollup_sweep()


@shared_task(name="insights.tasks.notice_days", acks_late=True)
def notice_days() -> dict:
    """Beat sweep: merge the notice counts that report writes appended (sums unchanged; idempotent)."""
    return rollups.notice_days_compact()


@shared_task(name="insights.tasks.run_export", acks_late=True)
def run_export(job_id: int) -> str:
    """Write one export job's file; a job already done or running elsewhere is left alone."""
    return exports.run_job(job_id)
