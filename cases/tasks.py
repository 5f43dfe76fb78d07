"""Celery tasks of the cases app: thin wrappers that call one service and are safe to run twice."""

from celery import shared_task

from .services import escalations, sla, workflow


@shared_task(name="cases.tasks.release_idle_claims", ignore_result=True)
def release_idle_claims() -> int:
    """Return idle claims to their queues (beat runs it every minute; overlapping runs are harmless)."""
    return len(workflow.release_idle_claims())


@shared_task(name="cases.tasks.sla_sweep", ignore_result=True)
def sla_sweep() -> dict:
    """Record the SLA crossings that are due, with their events and notifications (beat runs it
    every SWEEP_INTERVAL_SECONDS; a run that finds another holding the advisory lock returns)."""
    return sla.sla_sweep().as_dict()


@shared_task(name="cases.tasks.escalation_sweep", ignore_result=True)
def escalation_sweep() -> dict:
    """Page the next on-call step of escalations whose acknowledgement deadline passed."""
    return escalations.escalation_sweep()
