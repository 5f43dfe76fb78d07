"""SLA targets: due times are computed from the queue's targets for the case's priority."""

import logging
from datetime import datetime, timedelta

from .models import Case, QueueSla

logger = logging.getLogger(__name__)

# The longest SLA target a queue may set: a year. Far beyond any real target, and far enough from
# the end of the calendar that due times (now + target + time on hold) are always dates.
MAX_SLA_MINUTES = 365 * 24 * 60


def target_usable(target: QueueSla) -> bool:
    """A target within the bounds the configuration service enforces. Rows saved before the bounds
    existed (or written behind the service) may not be: they are logged and treated as no target,
    so one bad row never stops intake, the sweep or a page for every other queue."""
    ok = all(
        isinstance(minutes, int) and 0 < minutes <= MAX_SLA_MINUTES
        for minutes in (target.first_touch_minutes, target.resolution_minutes)
    )
    if not ok:
        logger.error("SLA target %s (queue %s, P%s) is out of bounds (1..%s minutes); it is ignored until fixed",
                     target.pk, target.queue_id, target.priority, MAX_SLA_MINUTES)
    return ok


def sla_target(queue_id: int, priority: int) -> QueueSla | None:
    return QueueSla.objects.filter(queue_id=queue_id, priority=priority).first()


def due_times(queue_id: int, priority: int, start: datetime, *, paused_seconds: int = 0, targets=None) -> tuple:
    """(first_touch_due_at, resolution_due_at) from `start`, shifted by time spent paused on hold.

    A queue without a target for this priority has no clock (None, None). `targets`, a mapping
    {(queue_id, priority): QueueSla} loaded once, spares a query per case when many are timed at once.
    """
    target = targets.get((queue_id, priority)) if targets is not None else sla_target(queue_id, priority)
    if target is None or not target_usable(target):
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
