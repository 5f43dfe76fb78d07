"""Work items of higher apps worked as cases: an appeal opens a case of its own kind in its queue,
so it is claimed, held, handed off, noted and timed by the same machinery as a report case."""

from django.db import transaction
from django.utils import timezone

from tsconsole.errors import InvalidInput

from .. import sla
from ..models import Case, CaseKind, CaseRecusal, CaseStatus, Category, Priority, Queue, Subject
from .events import event_record


def case_open_work_item(
    *, subject: Subject, queue: Queue, category: Category, kind: str, priority: int, actor, reasons: list | None = None,
    data: dict | None = None, recused: dict | None = None, at=None,
) -> Case:
    """Open a case of `kind` (not "report": report cases are opened by intake) about `subject` in
    `queue`, with due times from the queue's SLA targets for `priority`, and its `opened` event.

    `recused` ({user: reason}) names people who must never work it (an appeal's original decider
    and approver): claiming skips it for them and it cannot be handed to them. Runs inside the
    caller's transaction, so the work item and whatever asked for it commit together.
    """
    if kind == CaseKind.REPORT or kind not in CaseKind.values:
        raise InvalidInput(f"Cases of kind {kind!r} are not opened this way.")
    if priority not in Priority.values:
        raise InvalidInput(f"Unknown priority {priority!r}.")
    now = at or timezone.now()
    with transaction.atomic():
        case = Case(
            subject=subject, queue=queue, category=category, kind=kind, status=CaseStatus.OPEN, priority=priority,
            priority_reasons=list(reasons or []), opened_at=now, last_activity_at=now,
        )
        sla.apply_due_times(case)
        case.save(force_insert=True)
        CaseRecusal.objects.bulk_create([
            CaseRecusal(case=case, user=user, reason=reason[:200]) for user, reason in (recused or {}).items()
        ])
        event_record(case, verb="opened", actor=actor, to_status=CaseStatus.OPEN, at=now, data={
            "queue": queue.slug, "priority": priority, "kind": kind, **(data or {}),
        })
    return case
