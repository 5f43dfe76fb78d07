"""Queue configuration by leads: a queue's settings, the teams that may work it, its SLA targets."""

from django.db import IntegrityError, transaction

from tsconsole.errors import Conflict, InvalidInput
from tsconsole.services import audit_record

from ..models import Priority, Queue, QueueSla
from ..sla import MAX_SLA_MINUTES

TARGET_KEYS = ("priority", "first_touch_minutes", "resolution_minutes")
QUEUE_FIELDS = (
    "slug", "name", "description", "complexity_weight", "claim_timeout_minutes", "pause_sla_on_hold",
    "raise_priority_on_breach", "is_active", "position",
)


def _check_targets(targets: list[dict]) -> None:
    """Each target names a priority and both minutes, within 1..MAX_SLA_MINUTES (a partial update
    replaces the whole list, so a target with a key left out is refused, not half-applied)."""
    seen = set()
    for target in targets:
        priority = target.get("priority")
        missing = [key for key in TARGET_KEYS if target.get(key) is None]
        if missing:
            raise InvalidInput(
                f"Each SLA target needs {', '.join(TARGET_KEYS)}; missing {', '.join(missing)}.",
                field_errors={"sla_targets": [f"Missing {', '.join(missing)}."]})
        if priority not in Priority.values:
            raise InvalidInput("SLA targets are per priority 0–3.", field_errors={"sla_targets": ["Unknown priority."]})
        if priority in seen:
            raise InvalidInput(f"Priority P{priority} has two SLA targets.",
                               field_errors={"sla_targets": [f"P{priority} given twice."]})
        seen.add(priority)
        if not 0 < target["first_touch_minutes"] <= target["resolution_minutes"]:
            raise InvalidInput(
                f"P{priority}: the first-touch target must be positive and no longer than the resolution target.",
                field_errors={"sla_targets": [f"P{priority}: first touch must be > 0 and ≤ resolution."]},
            )
        if target["resolution_minutes"] > MAX_SLA_MINUTES:
            raise InvalidInput(
                f"P{priority}: SLA targets are at most {MAX_SLA_MINUTES} minutes (a year).",
                field_errors={"sla_targets": [f"P{priority}: at most {MAX_SLA_MINUTES} minutes."]},
            )


def queue_sla_targets_check(targets: list[dict]) -> None:
    """The checks `queue_save` makes on SLA targets, for forms that show them before saving (the admin)."""
    _check_targets(targets)


def queue_save(*, actor, data: dict, queue: Queue | None = None) -> Queue:
    """Create a queue (queue=None) or update one. `data` holds any of QUEUE_FIELDS, `allowed_teams`
    (Team objects; empty: everyone who works cases) and `sla_targets` (a list of {priority,
    first_touch_minutes, resolution_minutes} that replaces the queue's targets).

    New targets apply to cases opened or re-prioritised from now on; cases already open keep the due
    times they were given, so a configuration change never silently breaches or rescues them.
    """
    targets = data.get("sla_targets")
    if targets is not None:
        _check_targets(targets)
    try:
        with transaction.atomic():
            created = queue is None
            if created:
                queue = Queue()
            else:
                queue = Queue.objects.select_for_update().get(pk=queue.pk)
            changed = [field for field in QUEUE_FIELDS if field in data and getattr(queue, field) != data[field]]
            for field in QUEUE_FIELDS:
                if field in data:
                    setattr(queue, field, data[field])
            queue.save()
            if "allowed_teams" in data:
                queue.allowed_teams.set(data["allowed_teams"])
                changed.append("allowed_teams")
            if targets is not None:
                for target in targets:
                    QueueSla.objects.update_or_create(queue=queue, priority=target["priority"], defaults={
                        "first_touch_minutes": target["first_touch_minutes"],
                        "resolution_minutes": target["resolution_minutes"]})
                QueueSla.objects.filter(queue=queue).exclude(priority__in=[t["priority"] for t in targets]).delete()
                changed.append("sla_targets")
            audit_record(actor=actor, verb="queue.created" if created else "queue.updated", object_type="queue",
                         object_ref=queue.slug, data={"changed": changed})
    except IntegrityError:
        raise Conflict(f"A queue with the slug “{data.get('slug')}” already exists.",
                       field_errors={"slug": ["Already taken."]})
    return queue
