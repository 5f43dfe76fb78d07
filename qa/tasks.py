"""QA beat tasks: thin wrappers over idempotent services."""

from celery import shared_task

from . import sampling


@shared_task(name="qa.tasks.draw_samples", ignore_result=True)
def draw_samples() -> dict:
    """One sampling pass (safe to run twice or at once: unique per rule and decision, advisory lock)."""
    return sampling.samples_draw()
