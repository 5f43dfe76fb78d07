"""Escalations: a package sent to a team, paged up an on-call ladder until someone acknowledges.

The ladder of a team, rebuilt at every page from the current roster (so admin edits apply at
once): each on-call member in `oncall_order`, one at a time; then the team's leads; then the
members of the `leads` team (or, when that team is empty, everyone with the lead role). Step n is
paged when the escalation is created (n = 1) or when the acknowledgement deadline of step n - 1
passes; past the top, the top step is paged again every deadline interval. Every page is an
EscalationNotification row, unique per (escalation, step, recipient), and its outbox messages
take their idempotency keys from that row, so a re-run or a second sweep pages nobody twice.
"""

import datetime as dt
import logging
import zlib
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.links import absolute_url
from tsconsole.models import OutboxMessage, Team, TeamMembership
from tsconsole.roles import LEAD, can, users_with_role
from tsconsole.services import Notice, users_notify

from ..models import Case, CaseEvent, CaseStatus, Escalation, EscalationNotification, EscalationSeverity
from ..selectors.workspace import require_case_visible
from ..sla import sla_resume
from .events import EventRow, Verb, case_lock, case_transition, event_record, events_record
from .sla import LEADS_TEAM, advisory_xact_lock, case_url

logger = logging.getLogger(__name__)

ESCALATION_SWEEP_LOCK = zlib.crc32(b"tsconsole.cases.escalation_sweep")
SWEEP_BATCH = 500  # escalations paged per run; the rest wait for the next run seconds later
RETRY_EMPTY = dt.timedelta(minutes=5)
SUMMARY_MAX = 5_000
TEXT_MAX = 20_000
MAX_IMPACTED_IDS = 500
MAX_EVIDENCE_LINKS = 50
ID_MAX = 200
LINK_MAX = 1_000


class Outcome:
    """How a responder closes an escalation. Both return the case to review: with instructions
    for the analyst who escalated it, or to the responder, who decides it (the enforcement
    decision panel works from in_review)."""

    RETURN = "return_to_review"
    DECIDE = "decide"
    CHOICES = [(RETURN, "Return to the analyst with instructions"), (DECIDE, "I will decide it myself")]


def ack_window(severity: str) -> dt.timedelta:
    return dt.timedelta(minutes=settings.ESCALATION_ACK_MINUTES[severity])


def _who(user) -> str:
    return user.get_username() if user is not None else "nobody"


def _escalation_url(escalation_id: int) -> str:
    from django.urls import reverse

    return reverse("escalation-detail", args=[escalation_id])


# --------------------------------------------------------------------------- the ladder


def escalation_ladder(team: Team) -> list[list]:
    """The non-empty steps of `team`'s ladder, each a list of active users (see module doc)."""
    memberships = list(
        TeamMembership.objects.filter(team=team, user__is_active=True).select_related("user")
        .order_by("oncall_order", "user__username")
    )
    steps = [[m.user] for m in memberships if m.oncall_order is not None]
    leads = [m.user for m in memberships if m.is_lead]
    if leads:
        steps.append(leads)
    top = [
        m.user for m in TeamMembership.objects.filter(team__slug=LEADS_TEAM, user__is_active=True)
        .select_related("user").order_by("oncall_order", "user__username")
    ]
    if not top:
        top = list(users_with_role(LEAD))
    if top:
        steps.append(top)
    return steps


def _next_step(steps: list[list], escalation: Escalation, after: int) -> tuple[int, list]:
    """The first step after `after` with someone to page, and who; past the top, the top again.
    The person who escalated is never paged about their own escalation. ([] when nobody is left.)"""
    step = after + 1
    while True:
        recipients = [u for u in steps[min(step, len(steps)) - 1] if u.pk != escalation.created_by_id] if steps else []
        if recipients or step >= len(steps):
            return step, recipients
        step += 1


def _insert_pages(escalation: Escalation, step: int, recipients: list, now) -> list[tuple[int, int]]:
    """EscalationNotification rows for this step; only rows that were new come back (id, user id)."""
    if not recipients:
        return []
    table = EscalationNotification._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s)"] * len(recipients))
    params = []
    for user in recipients:
        params += [escalation.pk, step, user.pk, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (escalation_id, step, recipient_id, created_at) VALUES {values} "
            f"ON CONFLICT (escalation_id, step, recipient_id) DO NOTHING RETURNING id, recipient_id",
            params,
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _page(escalation: Escalation, step: int, recipients: list, now) -> list:
    """Page `recipients` for `step`: in-app and email each, and one post to the team's chat channel."""
    inserted = _insert_pages(escalation, step, recipients, now)
    if not inserted:
        return []
    by_id = {user.pk: user for user in recipients}
    severity = escalation.get_severity_display()
    overdue = step > 1
    title = (
        f"{severity} escalation on case #{escalation.case_id} for {escalation.team.name}"
        + (" is not acknowledged" if overdue else "")
    )
    deadline = f"Acknowledge by {escalation.ack_due_at:%Y-%m-%d %H:%M} UTC." if not overdue else (
        f"The acknowledgement deadline ({escalation.ack_due_at:%Y-%m-%d %H:%M} UTC) has passed; you are step {step}."
    )
    body = f"{escalation.summary}\n\n{deadline}"
    url = _escalation_url(escalation.pk)
    notices = [
        Notice(user=by_id[user_id], kind="escalation.page", key=f"escalation-notification:{row_id}", title=title,
               body=body, url=url, email=True)
        for row_id, user_id in inserted
    ]
    messages = []
    if escalation.team.chat_webhook_url:
        first = min(row_id for row_id, _ in inserted)
        names = ", ".join(sorted(_who(by_id[user_id]) for _, user_id in inserted))
        messages.append(dict(
            topic="escalation.page", channel=OutboxMessage.Channel.SLACK, recipient=escalation.team.chat_webhook_url,
            idempotency_key=f"escalation-notification:{first}:slack",
            payload={"text": f"{title}. Paged: {names}.\n{escalation.summary}\n{absolute_url(url)}"},
        ))
    users_notify(notices, also=messages)
    return [by_id[user_id] for _, user_id in inserted]


# --------------------------------------------------------------------------- validation


def _text_list(value, field: str, *, limit: int, item_max: int, errors: dict, check=None) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [line for line in value.replace(",", "\n").splitlines()]
    if not isinstance(value, Iterable) or isinstance(value, dict):
        errors[field] = ["Give a list of strings."]
        return []
    items = []
    for raw in value:
        if not isinstance(raw, str | int):
            errors[field] = ["Give a list of strings."]
            return []
        item = str(raw).strip()
        if not item:
            continue
        if len(item) > item_max:
            errors[field] = [f"Each entry may have at most {item_max} characters."]
            return []
        if check and not check(item):
            errors[field] = [f"{item[:80]!r} is not a link (use http://, https:// or a path starting with /)."]
            return []
        items.append(item)
    if len(items) > limit:
        errors[field] = [f"At most {limit} entries."]
        return []
    return items


def _is_link(text: str) -> bool:
    return text.startswith(("https://", "http://", "/")) and not text.startswith("//") and " " not in text


def _required_text(value, field: str, label: str, limit: int, errors: dict) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        errors[field] = [f"{label} is required."]
    elif len(text) > limit:
        errors[field] = [f"At most {limit} characters."]
    return text


def _raise_if(errors: dict) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(f"The escalation was not sent: {first}" if len(errors) == 1 else
                           "The escalation was not sent: fix the fields marked below.", field_errors=errors)


# --------------------------------------------------------------------------- escalate


def case_escalate(
    *, case, severity: str, team, summary: str, actor, impacted_ids=None, evidence_links=None,
    recommended_next_steps: str = "", now=None,
) -> Escalation:
    """Escalate a case to a team: the case becomes `escalated` and the first step of the team's
    on-call ladder is paged at once. The case's assignee (or a lead) may escalate a claimed case;
    anyone who may work an unclaimed case may escalate it."""
    errors: dict = {}
    if severity not in EscalationSeverity.values:
        errors["severity"] = ["Choose sev1, sev2, sev3 or sev4."]
    team_obj = team if isinstance(team, Team) else Team.objects.filter(slug=str(team or "").strip()).first()
    if team_obj is None:
        errors["team"] = [f"No team with the slug {str(team or '')[:60]!r}."]
    summary = _required_text(summary, "summary", "A summary", SUMMARY_MAX, errors)
    impacted = _text_list(impacted_ids, "impacted_ids", limit=MAX_IMPACTED_IDS, item_max=ID_MAX, errors=errors)
    links = _text_list(evidence_links, "evidence_links", limit=MAX_EVIDENCE_LINKS, item_max=LINK_MAX,
                       errors=errors, check=_is_link)
    steps_text = (recommended_next_steps or "").strip() if isinstance(recommended_next_steps, str | None) else None
    if steps_text is None or len(steps_text) > TEXT_MAX:
        errors["recommended_next_steps"] = [f"Give text of at most {TEXT_MAX} characters."]
    _raise_if(errors)

    now = now or timezone.now()
    case_id = case.pk if isinstance(case, Case) else int(case)
    require_case_visible(actor, case_id)  # before the lock: a missing case answers the same
    with transaction.atomic():
        case = case_lock(case_id)
        if case.assignee_id not in (None, actor.pk) and not can(actor, "case.reassign"):
            raise Conflict(f"Case {case_id} is assigned to {_who(case.assignee)}; only they or a lead can escalate it.")
        if case.status == CaseStatus.ESCALATED:
            raise Conflict(f"Case {case_id} is already escalated; acknowledge or resolve that escalation first.")
        escalation = Escalation.objects.create(
            case=case, severity=severity, team=team_obj, summary=summary, impacted_ids=impacted,
            evidence_links=links, recommended_next_steps=steps_text, created_by=actor, created_at=now,
            ack_due_at=now + ack_window(severity), ladder_step=0, next_notify_at=now,
        )
        fields = []
        if case.status == CaseStatus.ON_HOLD:
            # The escalation replaces the request for help; clocks paused by the hold run again.
            case.held_for, case.held_for_team, case.hold_reason = None, None, ""
            fields = ["held_for", "held_for_team", "hold_reason", *sla_resume(case, now)]
        case_transition(case, CaseStatus.ESCALATED, verb="escalated", actor=actor, at=now, update_fields=fields, data={
            "escalation_id": escalation.pk, "severity": severity, "team": team_obj.slug,
        })
        step, recipients = _next_step(escalation_ladder(team_obj), escalation, 0)
        if recipients:
            _page(escalation, step, recipients, now)
            escalation.ladder_step, escalation.next_notify_at = step, escalation.ack_due_at
            escalation.save(update_fields=["ladder_step", "next_notify_at"])
        # else nobody to page yet (empty roster): due now, so the sweep keeps looking.
    return escalation


# --------------------------------------------------------------------------- respond


def may_respond(user, escalation: Escalation) -> bool:
    """Members of the escalation's team, and leads, may acknowledge, add findings and resolve."""
    if can(user, "escalation.manage"):
        return True
    return TeamMembership.objects.filter(team_id=escalation.team_id, user_id=user.pk).exists()


def _lock(escalation_id, actor) -> Escalation:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_lock must run inside transaction.atomic()")
    try:
        pk = int(escalation_id.pk if isinstance(escalation_id, Escalation) else escalation_id)
        escalation = Escalation.objects.select_for_update(of=("self",)).select_related("team", "case").get(pk=pk)
    except (Escalation.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"Escalation {escalation_id} does not exist.")
    if not may_respond(actor, escalation):
        raise NotAllowed(f"Only members of {escalation.team.name} or a lead can act on this escalation.")
    return escalation


def _closed_message(escalation: Escalation) -> str:
    if escalation.status == Escalation.Status.ACKNOWLEDGED:
        return f"This escalation was already acknowledged by {_who(escalation.acknowledged_by)}."
    if escalation.resolved_by is None:
        return "This escalation was closed automatically when its case left the escalated status."
    return f"This escalation was already resolved by {_who(escalation.resolved_by)}."


def _acknowledge(escalation: Escalation, actor, now) -> list[str]:
    escalation.status = Escalation.Status.ACKNOWLEDGED
    escalation.acknowledged_by = actor
    escalation.acknowledged_at = now
    escalation.next_notify_at = None
    return ["status", "acknowledged_by", "acknowledged_at", "next_notify_at"]


def _tell(users, *, topic: str, key: str, title: str, body: str, url: str, email: bool = False) -> None:
    users_notify([
        Notice(user=user, kind=topic, key=f"{key}:u{user.pk}", title=title, body=body, url=url, email=email)
        for user in {u.pk: u for u in users if u is not None}.values()
    ])


def _people_to_update(escalation: Escalation, actor) -> list:
    """Who hears about a response: whoever escalated it and the case's assignee, not the responder."""
    people = [escalation.created_by, escalation.case.assignee]
    return [p for p in people if p is not None and p.pk != actor.pk]


def escalation_acknowledge(*, escalation, actor, now=None) -> Escalation:
    """Take the escalation: paging stops. The person who escalated hears who took it."""
    now = now or timezone.now()
    with transaction.atomic():
        escalation = _lock(escalation, actor)
        if escalation.status != Escalation.Status.OPEN:
            raise Conflict(_closed_message(escalation))
        escalation.save(update_fields=_acknowledge(escalation, actor, now))
        seconds = int((now - escalation.created_at).total_seconds())
        event_record(escalation.case, verb="escalation_acknowledged", actor=actor, at=now, data={
            "escalation_id": escalation.pk, "seconds_to_ack": seconds, "within_deadline": now <= escalation.ack_due_at,
        })
        _tell(_people_to_update(escalation, actor), topic="escalation.acknowledged",
              key=f"escalation:{escalation.pk}:acknowledged",
              title=f"{_who(actor)} acknowledged the escalation of case #{escalation.case_id}",
              body=escalation.summary, url=_escalation_url(escalation.pk))
    return escalation


def escalation_add_findings(*, escalation, findings: str, actor, now=None) -> Escalation:
    """Append findings (signed and dated). Adding findings to an open escalation acknowledges it:
    someone is evidently on it, so paging stops."""
    errors: dict = {}
    text = _required_text(findings, "findings", "Findings", TEXT_MAX, errors)
    if errors:
        raise InvalidInput(errors["findings"][0], field_errors=errors)
    now = now or timezone.now()
    with transaction.atomic():
        escalation = _lock(escalation, actor)
        if escalation.status == Escalation.Status.RESOLVED:
            raise Conflict("This escalation is resolved; add a note to the case instead.")
        if len(escalation.findings) + len(text) > 10 * TEXT_MAX:
            raise InvalidInput("The findings of this escalation are full; resolve it and escalate again.",
                               field_errors={"findings": ["No room left."]})
        fields = ["findings"]
        acknowledged = escalation.status == Escalation.Status.OPEN
        if acknowledged:
            fields += _acknowledge(escalation, actor, now)
        entry = f"[{now:%Y-%m-%d %H:%M} UTC · {_who(actor)}]\n{text}"
        escalation.findings = f"{escalation.findings}\n\n{entry}" if escalation.findings else entry
        escalation.save(update_fields=fields)
        event = event_record(escalation.case, verb="escalation_findings_added", actor=actor, at=now, data={
            "escalation_id": escalation.pk, "findings": text, "acknowledged": acknowledged,
        })
        _tell(_people_to_update(escalation, actor), topic="escalation.findings",
              key=f"escalation-findings:{event.pk}",
              title=f"New findings on the escalation of case #{escalation.case_id}", body=text,
              url=_escalation_url(escalation.pk))
    return escalation


def escalation_resolve(*, escalation, outcome: str, actor, instructions: str = "", now=None) -> Escalation:
    """Close the escalation and send the case back to review.

    `return_to_review`: instructions are required; the case goes back to its assignee (or to
    whoever escalated it) in review. `decide`: the responder takes the case in review and decides
    it on the case page. If the case already left `escalated` (someone decided it meanwhile), the
    escalation is closed and the case is left as it is.
    """
    errors: dict = {}
    if outcome not in (Outcome.RETURN, Outcome.DECIDE):
        errors["outcome"] = [f"Choose {Outcome.RETURN} or {Outcome.DECIDE}."]
    text = (instructions or "").strip() if isinstance(instructions, str | None) else ""
    if outcome == Outcome.RETURN and not text:
        errors["instructions"] = ["Say what the analyst should do next."]
    elif len(text) > TEXT_MAX:
        errors["instructions"] = [f"At most {TEXT_MAX} characters."]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    now = now or timezone.now()
    with transaction.atomic():
        escalation = _lock(escalation, actor)
        if escalation.status == Escalation.Status.RESOLVED:
            raise Conflict(_closed_message(escalation))
        case = case_lock(escalation.case_id)
        fields = ["status", "resolved_by", "resolved_at", "resolution_note", "next_notify_at"]
        if escalation.acknowledged_at is None:
            fields += _acknowledge(escalation, actor, now)
        escalation.status = Escalation.Status.RESOLVED
        escalation.resolved_by, escalation.resolved_at = actor, now
        escalation.resolution_note = text
        escalation.next_notify_at = None
        escalation.save(update_fields=sorted(set(fields)))
        data = {"escalation_id": escalation.pk, "outcome": outcome, "instructions": text}
        if case.status == CaseStatus.ESCALATED:
            if outcome == Outcome.DECIDE or case.assignee_id is None:
                case.assignee = actor if outcome == Outcome.DECIDE else escalation.created_by
            # A fresh claim: the idle-claim sweep counts from here, not from the original claim.
            case.claimed_at = now
            case_transition(case, CaseStatus.IN_REVIEW, verb="escalation_resolved", actor=actor, at=now, data=data,
                            update_fields=["assignee", "claimed_at"])
        else:
            event_record(case, verb="escalation_resolved", actor=actor, at=now,
                         data={**data, "case_status": case.status})
        escalation.case = case
        title = f"Escalation of case #{case.pk} resolved by {_who(actor)}"
        body = text or "The responder will decide the case."
        _tell(_people_to_update(escalation, actor), topic="escalation.resolved",
              key=f"escalation:{escalation.pk}:resolved", title=title, body=body, url=case_url(case.pk), email=True)
    return escalation


# --------------------------------------------------------------------------- the sweep


def escalation_sweep(*, now=None, exclusive: bool = True) -> dict:
    """Page the next ladder step of every open escalation whose deadline passed.

    Rows are taken with SKIP LOCKED, so an acknowledgement in progress is never paged over; an
    escalation whose case left `escalated` without it (decided meanwhile) is closed instead of
    paging people about a finished case.
    """
    now = now or timezone.now()
    result = {"skipped": False, "paged": 0, "escalations": 0, "closed": 0, "failed": 0}
    with transaction.atomic():
        if exclusive and not advisory_xact_lock(ESCALATION_SWEEP_LOCK):
            result["skipped"] = True
            return result
        due = list(
            Escalation.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("team", "case")
            .filter(status=Escalation.Status.OPEN, next_notify_at__lte=now)
            .order_by("next_notify_at", "id")[:SWEEP_BATCH]
        )
        ladders: dict[int, list] = {}
        events = []
        for escalation in due:
            # One escalation the sweep cannot handle (a row written behind the services, say) is
            # logged and put off; it never stops the paging of every other escalation.
            try:
                with transaction.atomic():
                    events += _sweep_one(escalation, ladders, now, result)
            except Exception:
                logger.exception("Escalation sweep: escalation %s could not be handled; skipped, retried in %s",
                                 escalation.pk, RETRY_EMPTY)
                Escalation.objects.filter(pk=escalation.pk).update(next_notify_at=now + RETRY_EMPTY)
                result["failed"] += 1
        events_record(events)
    return result


def _sweep_one(escalation: Escalation, ladders: dict, now, result: dict) -> list:
    """Close or page one due escalation; returns its events (written in bulk by the caller)."""
    events = []
    if escalation.case.status != CaseStatus.ESCALATED:
        Escalation.objects.filter(pk=escalation.pk).update(
            status=Escalation.Status.RESOLVED, resolved_at=now, next_notify_at=None,
            resolution_note=f"Closed automatically: the case became {escalation.case.get_status_display().lower()}.",
        )
        events.append(EventRow(
            escalation.case_id, None, CaseEvent.ActorKind.SYSTEM, Verb.ESCALATION_CLOSED, "", "",
            {"escalation_id": escalation.pk, "case_status": escalation.case.status}, now,
        ))
        result["closed"] += 1
        return events
    if escalation.team_id not in ladders:
        ladders[escalation.team_id] = escalation_ladder(escalation.team)
    step, recipients = _next_step(ladders[escalation.team_id], escalation, escalation.ladder_step)
    window = ack_window(escalation.severity)
    if not recipients:
        # Nobody anywhere on the ladder yet: look again soon, in case someone is added.
        Escalation.objects.filter(pk=escalation.pk).update(next_notify_at=now + min(window, RETRY_EMPTY))
        return events
    paged = _page(escalation, step, recipients, now)
    Escalation.objects.filter(pk=escalation.pk).update(ladder_step=step, next_notify_at=now + window)
    if paged:
        events.append(EventRow(
            escalation.case_id, None, CaseEvent.ActorKind.SYSTEM, Verb.ESCALATION_PAGED, "", "",
            {"escalation_id": escalation.pk, "step": step, "recipients": [_who(u) for u in paged]}, now,
        ))
        result["paged"] += len(paged)
    result["escalations"] += 1
    return events
