"""The shape every case write shares: lock, check the transition map, save, record one event.

This module is the one writer of CaseEvent rows. Every verb is a member of `Verb`; a single event
goes through `event_record` (or `case_transition`), many at once through `events_record` (intake,
the sweeps, expiry: one multi-row INSERT per 500 rows), and a statement that inserts its event from
its own SELECT (the claim's data-modifying CTE) takes its INSERT head from `event_insert_sql` and
its verb from `verb_value`. Nothing else writes the table.
"""

import functools
import json
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection, models, transaction
from django.utils import timezone

from tsconsole.bulk import chunks, column_types, unnest_sql
from tsconsole.errors import NotFound
from tsconsole.prepared import execute_text
from tsconsole.roles import INTEGRATION, has_role

from ..models import Case, CaseEvent
from ..transitions import check_transition


class Verb(models.TextChoices):
    """Every kind of case event. Add a member here before writing a new kind."""

    OPENED = "opened", "Opened"
    REPORT_ADDED = "report_added", "Report added"
    CLAIMED = "claimed", "Claimed"
    RELEASED = "released", "Released"
    CLAIM_EXPIRED = "claim_expired", "Claim expired"
    NOTE_ADDED = "note_added", "Note added"
    EVIDENCE_ADDED = "evidence_added", "Evidence added"
    EVIDENCE_REVEALED = "evidence_revealed", "Evidence revealed"
    CATEGORY_CHANGED = "category_changed", "Category changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    HELD = "held", "Held for help"
    RESUMED = "resumed", "Resumed"
    HANDED_OFF = "handed_off", "Handed off"
    RESOLVED = "resolved", "Resolved"
    SLA_AT_RISK = "sla_at_risk", "SLA at risk"
    SLA_BREACHED = "sla_breached", "SLA breached"
    ESCALATED = "escalated", "Escalated"
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged", "Escalation acknowledged"
    ESCALATION_FINDINGS_ADDED = "escalation_findings_added", "Escalation findings added"
    ESCALATION_RESOLVED = "escalation_resolved", "Escalation resolved"
    ESCALATION_CLOSED = "escalation_closed", "Escalation closed"
    ESCALATION_PAGED = "escalation_paged", "Escalation paged"
    DECIDED = "decided", "Decided"
    DECISION_PROPOSED = "decision_proposed", "Decision proposed"
    DECISION_APPROVED = "decision_approved", "Decision approved"
    DECISION_REJECTED = "decision_rejected", "Decision rejected"
    ACTION_EXPIRED = "action_expired", "Action expired"
    ACTION_REVERSED = "action_reversed", "Action reversed"
    APPEAL_FILED = "appeal_filed", "Appeal filed"
    APPEAL_DECIDED = "appeal_decided", "Appeal decided"
    QA_AUDITED = "qa_audited", "QA audited"
    QA_FEEDBACK_ACKNOWLEDGED = "qa_feedback_acknowledged", "QA feedback acknowledged"
    QA_DISPUTED = "qa_disputed", "QA feedback disputed"
    QA_DISPUTE_RULED = "qa_dispute_ruled", "QA dispute ruled"
    QA_CORRECTED = "qa_corrected", "Corrected after QA"


def verb_value(verb) -> str:
    """The stored string of a verb; refuses anything that is not a `Verb` (a typo is a bug, not a new verb)."""
    try:
        return Verb(verb).value
    except ValueError:
        raise ValueError(f"Unknown case event verb {verb!r}: add it to cases.services.events.Verb") from None


class EventRow(NamedTuple):
    """One event for `events_record`."""

    case_id: int
    actor_id: int | None
    actor_kind: str
    verb: str
    from_status: str
    to_status: str
    data: dict
    created_at: object


EVENT_COLUMNS = ("case_id", "actor_id", "actor_kind", "verb", "from_status", "to_status", "data", "created_at")
EVENTS_PER_STATEMENT = 500


def event_insert_sql() -> str:
    """`INSERT INTO <events> (<columns>)`: the head of a statement that inserts events from its own
    SELECT, in EVENT_COLUMNS order (pass the verb through `verb_value`)."""
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    return f"INSERT INTO {table} ({', '.join(EVENT_COLUMNS)})"


def events_record(rows: Iterable[EventRow | tuple]) -> int:
    """Append many events: one INSERT per EVENTS_PER_STATEMENT rows, no model instances.
    Call inside the transaction of the change. Returns how many were written."""
    rows = [EventRow(*row) for row in rows]
    head = event_insert_sql()
    for chunk in chunks(rows, EVENTS_PER_STATEMENT):
        rows_sql, params = unnest_sql(_event_types(), [
            (row.case_id, row.actor_id, row.actor_kind, verb_value(row.verb), row.from_status, row.to_status,
             json.dumps(row.data or {}), row.created_at)
            for row in chunk
        ])
        with connection.cursor() as cursor:
            execute_text(cursor, f"{head} {rows_sql}", params)  # one text for any number of events: prepared
    return len(rows)


@functools.cache
def _event_types() -> list[str]:
    return column_types(CaseEvent, EVENT_COLUMNS)


def actor_kind(actor) -> str:
    if actor is None:
        return CaseEvent.ActorKind.SYSTEM
    if has_role(actor, INTEGRATION):
        return CaseEvent.ActorKind.INTEGRATION
    return CaseEvent.ActorKind.USER


def event_record(
    case: Case, *, verb: Verb | str, actor=None, from_status: str = "", to_status: str = "", data: dict | None = None,
    at=None,
) -> CaseEvent:
    """Append one event to the case timeline (call inside the transaction of the change)."""
    return CaseEvent.objects.create(
        case=case, actor=actor if actor is not None and actor.is_authenticated else None,
        actor_kind=actor_kind(actor), verb=verb_value(verb), from_status=from_status, to_status=to_status,
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
