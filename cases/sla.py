"""SLA targets: due times are computed from the queue's targets for the case's priority."""

from datetime import datetime, timedelta

from .models import Case, QueueSla


def sla_target(queue_id: int, priority: int) -> QueueSla | None:
    return QueueSla.objects.filter(queue_id=queue_id, priority=priority).first()


def due_times(queue_id: int, priority: int, start: datetime, *, paused_seconds: int = 0) -> tuple:
    """(first_touch_due_at, resolution_due_at) from `start`, shifted by time spent paused on hold.

    A queue without a target for this priority has no clock (None, None).
    """
    target = sla_target(queue_id, priority)
    if target is None:
        return None, None
    shift = timedelta(seconds=paused_seconds)
    return (
        start + timedelta(minutes=target.first_touch_minutes) + shift,
        start + timedelta(minutes=target.resolution_minutes) + shift,
    )


def apply_due_times(case: Case) -> list[str]:
    """Set a case's due times from its queue, priority and opening time; returns the changed fields."""
    case.first_touch_due_at, case.resolution_due_at = due_times(
        case.queue_id, case.priority, case.opened_at, paused_seconds=case.sla_paused_seconds
    )
    return ["first_touch_due_at", "resolution_due_at"]
