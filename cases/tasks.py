"""Celery tasks of the cases app: thin wrappers that call one service and are safe to run twice."""

from celery import shared_task

from .services import workflow


@shared_task(name="cases.tasks.release_idle_claims", ignore_result=True)
def release_idle_claims() -> int:
    """Return idle claims to their queues (beat runs it every minute; overlapping runs are harmless)."""
    return len(workflow.release_idle_claims())
