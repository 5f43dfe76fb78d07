"""The shape every case write shares: lock, check the transition map, save, record one event."""

from django.db import transaction
from django.utils import timezone

from tsconsole.errors import NotFound
from tsconsole.roles import INTEGRATION, has_role

from ..models import Case, CaseEvent
from ..transitions import check_transition


def actor_kind(actor) -> str:
    if actor is None:
        return CaseEvent.ActorKind.SYSTEM
    if has_role(actor, INTEGRATION):
        return CaseEvent.ActorKind.INTEGRATION
    return CaseEvent.ActorKind.USER


def event_record(
    case: Case, *, verb: str, actor=None, from_status: str = "", to_status: str = "", data: dict | None = None,
    at=None,
) -> CaseEvent:
    """Append one event to the case timeline (call inside the transaction of the change)."""
    return CaseEvent.objects.create(
        case=case, actor=actor if actor is not None and actor.is_authenticated else None,
        actor_kind=actor_kind(actor), verb=verb, from_status=from_status, to_status=to_status,
        data=data or {}, created_at=at or timezone.now(),
    )


def case_lock(case_id: int) -> Case:
    """Lock the case row for the rest of the transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("case_lock must run inside transaction.atomic()")
    try:
        return Case.objects.select_for_update().get(pk=case_id)
    except Case.DoesNotExist:
        raise NotFound(f"Case {case_id} does not exist.")


def case_transition(
    case: Case, to_status: str, *, verb: str, actor=None, data: dict | None = None,
    update_fields: list[str] | None = None, at=None,
) -> CaseEvent:
    """Move a locked case to `to_status` (checked against the map), save, and record the event.

    Callers set any other fields first and name them in `update_fields`.
    """
    from_status = case.status
    check_transition(from_status, to_status)
    now = at or timezone.now()
    case.status = to_status
    case.last_activity_at = now
    fields = {"status", "last_activity_at", "updated_at", *(update_fields or [])}
    case.save(update_fields=sorted(fields))
    return event_record(case, verb=verb, actor=actor, from_status=from_status, to_status=to_status, data=data, at=now)
