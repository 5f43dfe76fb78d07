"""SLA targets: due times are computed from the queue's targets for the case's priority."""

from datetime import datetime, timedelta

from .models import Case, QueueSla


def sla_target(queue_id: int, priority: int) -> QueueSla | None:
    return QueueSla.objects.filter(queue_id=queue_id, priority=priority).first()


def due_times(queue_id: int, priority: int, start: datetime, *, paused_seconds: int = 0, targets=None) -> tuple:
    """(first_touch_due_at, resolution_due_at) from `start`, shifted by time spent paused on hold.

    A queue without a target for this priority has no clock (None, None). `targets`, a mapping
    {(queue_id, priority): QueueSla} loaded once, spares a query per case when many are timed at once.
    """
    target = targets.get((queue_id, priority)) if targets is not None else sla_target(queue_id, priority)
    if target is None:
        return None, None
    shift = timedelta(seconds=paused_seconds)
    return (
        start + timedelta(minutes=target.first_touch_minutes) + shift,
        start + timedelta(minutes=target.resolution_minutes) + shift,
    )


def apply_due_times(case: Case, *, targets=None) -> list[str]:
    """Set a case's due times from its queue, priority and opening time; returns the changed fields."""
    case.first_touch_due_at, case.resolution_due_at = due_times(
        case.queue_id, case.priority, case.opened_at, paused_seconds=case.sla_paused_seconds, targets=targets
    )
    return ["first_touch_due_at", "resolution_due_at"]


def sla_pause(case: Case, now: datetime) -> list[str]:
    """Stop the clocks while a case waits on hold, when its queue says so; returns changed fields."""
    if not case.queue.pause_sla_on_hold or case.sla_paused_at is not None:
        return []
    case.sla_paused_at = now
    return ["sla_paused_at"]


def sla_resume(case: Case, now: datetime) -> list[str]:
    """Restart paused clocks: the paused time is added to the case and its due times move later."""
    if case.sla_paused_at is None:
        return []
    case.sla_paused_seconds += max(0, int((now - case.sla_paused_at).total_seconds()))
    case.sla_paused_at = None
    return ["sla_paused_at", "sla_paused_seconds", *apply_due_times(case)]
