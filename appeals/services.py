"""Appeal writes: file an appeal against a decision, and decide it (upheld, overturned, modified).

Each is one transaction. Filing opens the appeal's own case in the appeals queue through the
workspace (cases.services.work_items), so it is claimed, held, handed off and noted like any case;
deciding resolves that case. Reversals and new actions go through enforcement's services, which
write their own events and `enforcement.*` webhooks; the appellant, and only the appellant, hears
the outcome through one `appeal.decided` outbox message.
"""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import CaseKind, CaseStatus, Priority, Queue, Report, Subject
from cases.services.events import Verb, case_lock, case_transition, event_record
from cases.services.work_items import case_open_work_item
from enforcement import selectors as enforcement_selectors
from enforcement import services as enforcement
from enforcement.models import SEVERITY, ActionStatus, ActionType, EnforcementAction
from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.roles import can
from tsconsole.services import outbox_publish

from .models import QUEUE_SLUG, Appeal, AppealStatus, AppellantKind, Channel, Outcome

STATEMENT_MAX_CHARS = 5_000
TEXT_MAX_CHARS = 10_000
REF_MAX_CHARS = 200
TOPIC_DECIDED = "appeal.decided"
# What a decision must be to be appealed: in effect now or once.
APPEALABLE = (ActionStatus.ACTIVE, ActionStatus.EXPIRED)


@dataclass
class Filed:
    """What appeal_file did: the appeal, and whether this call created it (False: a replay)."""

    appeal: Appeal
    created: bool


def _text(value, field: str, label: str, *, required: bool = True, limit: int = TEXT_MAX_CHARS) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field_errors={field: ["Must be text."]})
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} is required.", field_errors={field: [f"{label} is required."]})
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long (at most {limit} characters).",
                           field_errors={field: [f"At most {limit} characters."]})
    return text


def _decision_ref(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip())
    except (TypeError, ValueError, AttributeError):
        raise NotFound(f"There is no decision {value!r}.")


def _standing(kind: str, ref: str, actions: list[EnforcementAction], decision_case) -> None:
    """Refuse an appellant who is neither affected by the decision nor one of its notifiers."""
    if kind == AppellantKind.SUBJECT:
        restrictions = [a for a in actions if a.action_type != ActionType.NO_VIOLATION]
        affected = set()
        for action in restrictions:
            account = enforcement_selectors.responsible_account(action.target)
            if account is not None:
                affected.add(account.external_id)
        if not restrictions:
            raise InvalidInput(
                "This decision restricted nobody, so no affected user can appeal it; a notifier may.",
                field_errors={"appellant": ["Only a notifier may appeal a decision not to act."]})
        if ref not in affected:
            raise InvalidInput(
                f"Account {ref!r} is not affected by this decision (it acted on {', '.join(sorted(affected))}).",
                field_errors={"appellant": ["Not the restricted account or the content's author."]})
    else:
        if not Report.objects.filter(case_id=decision_case.pk, reporter_ref=ref).exists():
            raise InvalidInput(
                f"{ref!r} did not report this case, so cannot appeal its decision as a notifier.",
                field_errors={"appellant": ["Not one of the case's reporters."]})


def _priority(actions: list[EnforcementAction], subject: Subject) -> tuple[int, list[str]]:
    reasons = []
    types = {a.action_type for a in actions}
    if ActionType.TERMINATION in types:
        reasons.append("appeal of a termination")
    elif ActionType.SUSPENSION in types:
        reasons.append("appeal of a suspension")
    reasons += [f"high impact: {r}" for r in enforcement_selectors.high_impact_reasons(subject)]
    return (Priority.P1 if reasons else Priority.P2), reasons


def _most_severe(actions: list[EnforcementAction]) -> str:
    kinds = [a.action_type for a in actions if a.action_type in SEVERITY]
    return min(kinds, key=SEVERITY.index) if kinds else ActionType.NO_VIOLATION


def appeal_file(
    *, decision, appellant_kind: str, appellant_ref: str, source: str, external_id: str, statement: str, actor,
    channel: str = Channel.IN_PRODUCT,
) -> Filed:
    """File an appeal against a decision (its `decision_ref`) for an affected user or a notifier.

    The same (source, external_id) again returns the first appeal unchanged. Refused: an unknown
    decision (404); one reversed, pending or rejected (409); after the appeal window (400, naming
    the date it closed); an appellant without standing (400); a second open appeal by the same
    appellant against the same decision (409, naming it).
    """
    if not can(actor, "appeal.create"):
        raise NotAllowed("Your role does not allow filing appeals.")
    source = _text(source, "source", "The source", limit=40)
    external_id = _text(external_id, "external_id", "The external id", limit=REF_MAX_CHARS)
    statement = _text(statement, "statement", "The appellant's statement", limit=STATEMENT_MAX_CHARS)
    appellant_ref = _text(appellant_ref, "appellant", "The appellant's external id", limit=REF_MAX_CHARS)
    if appellant_kind not in AppellantKind.values:
        raise InvalidInput("The appellant is the affected \"subject\" or a \"notifier\".",
                           field_errors={"appellant": ["kind: subject or notifier."]})
    if channel not in Channel.values:
        raise InvalidInput(f"Unknown channel {channel!r}.", field_errors={"channel": [f"One of {', '.join(Channel.values)}."]})
    replay = Appeal.objects.filter(source=source, external_id=external_id).first()
    if replay is not None:
        return Filed(replay, created=False)
    ref = _decision_ref(decision)
    actions = list(
        EnforcementAction.objects.filter(decision_ref=ref)
        .select_related("case", "case__subject", "case__category", "target", "target__author", "policy", "reviewer", "proposer")
        .order_by("id")
    )
    if not actions:
        raise NotFound(f"There is no decision {ref}.")
    statuses = {a.status for a in actions}
    if statuses <= {ActionStatus.REVERSED}:
        when = max(a.reversed_at for a in actions if a.reversed_at)
        raise Conflict(f"Decision {ref} was reversed on {when:%Y-%m-%d}; there is nothing left to appeal.")
    if statuses <= {ActionStatus.PENDING_APPROVAL}:
        raise Conflict(f"Decision {ref} is awaiting a lead's approval and has not taken effect; it cannot be appealed yet.")
    if statuses <= {ActionStatus.REJECTED}:
        raise Conflict(f"Decision {ref} was rejected by a lead and never took effect; there is nothing to appeal.")
    standing = [a for a in actions if a.status in APPEALABLE]
    applied_at = min(a.applied_at for a in standing)
    closes = enforcement_selectors.appeal_deadline(applied_at)
    now = timezone.now()
    if now > closes:
        raise InvalidInput(
            f"The window to appeal this decision closed on {closes:%Y-%m-%d} "
            f"(it was communicated on {applied_at:%Y-%m-%d}).",
            field_errors={"decision": [f"Appeal window closed on {closes:%Y-%m-%d}."]})
    decision_case = actions[0].case
    _standing(appellant_kind, appellant_ref, standing, decision_case)
    subject = decision_case.subject
    priority, reasons = _priority(standing, subject)
    queue = Queue.objects.filter(slug=QUEUE_SLUG).first()
    if queue is None:
        raise Conflict("The appeals queue does not exist; an admin must restore it before appeals can be filed.")
    first = actions[0]
    approver = next((a.reviewer for a in actions if a.requires_approval and a.reviewer_id
                     and a.status != ActionStatus.REJECTED), None)
    recused = {first.proposer: "you made the decision under appeal"}
    if approver is not None and approver.pk != first.proposer_id:
        recused[approver] = "you approved the decision under appeal"
    try:
        with transaction.atomic():
            case = case_open_work_item(
                subject=subject, queue=queue, category=decision_case.category, kind=CaseKind.APPEAL,
                priority=priority, reasons=reasons, actor=actor, at=now, recused=recused,
                data={"appeal_of": str(ref), "decision_case": decision_case.pk, "appellant_kind": appellant_kind,
                      "channel": channel},
            )
            appeal = Appeal.objects.create(
                case=case, decision_ref=ref, decision_case=decision_case, subject=subject, policy=first.policy,
                action_type=_most_severe(standing), original_decider=first.proposer, original_approver=approver,
                decision_applied_at=applied_at, window_closes_at=closes, appellant_kind=appellant_kind,
                appellant_ref=appellant_ref, source=source, external_id=external_id, channel=channel,
                statement=statement, filed_by=actor, filed_at=now,
            )
            event_record(decision_case, verb=Verb.APPEAL_FILED, actor=actor, at=now, data={
                "appeal": appeal.pk, "appeal_case": case.pk, "decision": str(ref),
                "appellant_kind": appellant_kind, "channel": channel,
            })
    except IntegrityError:
        # A concurrent or earlier request won the race on one of the two unique indexes.
        replay = Appeal.objects.filter(source=source, external_id=external_id).first()
        if replay is not None:
            return Filed(replay, created=False)
        open_one = Appeal.objects.filter(decision_ref=ref, appellant_kind=appellant_kind, appellant_ref=appellant_ref,
                                         status=AppealStatus.OPEN).first()
        if open_one is None:
            raise
        raise Conflict(f"Appeal #{open_one.pk} by this appellant against decision {ref} is still open.")
    return Filed(appeal, created=True)


# --------------------------------------------------------------------------- decide


def reviewer_refusal(appeal: Appeal, user) -> str:
    """Why `user` may not decide this appeal, or "" when they may. Applies to every role."""
    if user.pk == appeal.original_decider_id:
        return "You made the decision under appeal; someone else must review it."
    if appeal.original_approver_id and user.pk == appeal.original_approver_id:
        return "You approved the decision under appeal; someone else must review it."
    if not can(user, "appeal.decide"):
        return "Your role does not allow deciding appeals."
    return ""


def lead_reasons(appeal: Appeal, subject: Subject, actions: list | None = None) -> list[str]:
    """Why this appeal needs a lead: it concerns a termination, or a high-impact subject."""
    reasons = []
    if appeal.action_type == ActionType.TERMINATION or any(
            isinstance(a, dict) and a.get("type") == ActionType.TERMINATION for a in actions or []):
        reasons.append("termination")
    reasons += enforcement_selectors.high_impact_reasons(subject)
    return reasons


def appeal_decide(*, appeal, outcome: str, rationale: str, statement: str, actor, actions=None, policy=None) -> Appeal:
    """Decide an appeal: upheld (the decision stands), overturned (every action of the decision is
    reversed; on a notifier's appeal the new `actions` act on the subject), or modified (the actions
    are replaced by the new `actions`).

    The reviewer holds the appeal's case (or is a lead), made neither the decision nor its
    approval, and is a lead when it concerns a termination or a high-impact subject. The
    appellant alone is told the outcome with the reasoned `statement`.
    """
    if outcome not in Outcome.values:
        raise InvalidInput(f"The outcome is one of {', '.join(Outcome.values)}.",
                           field_errors={"outcome": [f"One of {', '.join(Outcome.values)}."]})
    rationale = _text(rationale, "rationale", "A rationale")
    statement = _text(statement, "statement", "A statement to the appellant")
    appeal_id = appeal.pk if isinstance(appeal, Appeal) else int(appeal)
    case_id = Appeal.objects.filter(pk=appeal_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound(f"Appeal {appeal_id} does not exist.")
    with transaction.atomic():
        case = case_lock(case_id)
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("subject").get(pk=appeal_id)
        if appeal.status == AppealStatus.DECIDED:
            raise Conflict(f"Appeal #{appeal.pk} was already decided ({appeal.get_outcome_display().lower()}) "
                           f"on {appeal.decided_at:%Y-%m-%d}.")
        refusal = reviewer_refusal(appeal, actor)
        if refusal:
            raise NotAllowed(refusal)
        needs_lead = lead_reasons(appeal, appeal.subject, actions if isinstance(actions, list) else None)
        if needs_lead and not can(actor, "approval.decide"):
            raise NotAllowed(f"This appeal needs a lead ({', '.join(needs_lead)}).")
        if case.status not in (CaseStatus.IN_REVIEW, CaseStatus.ESCALATED):
            if case.status == CaseStatus.ON_HOLD:
                raise Conflict(f"Appeal #{appeal.pk} is on hold; resume it before deciding.")
            raise Conflict(f"Appeal #{appeal.pk} is not claimed; claim it before deciding.")
        if case.assignee_id != actor.pk and not can(actor, "case.reassign"):
            holder = case.assignee.get_username() if case.assignee_id else "nobody"
            raise Conflict(f"Appeal #{appeal.pk} is assigned to {holder}; only they or a lead can decide it.")
        wants_actions = outcome == Outcome.MODIFIED or (
            outcome == Outcome.OVERTURNED and appeal.appellant_kind == AppellantKind.NOTIFIER)
        if wants_actions and not actions:
            why = ("a modified decision replaces the actions" if outcome == Outcome.MODIFIED
                   else "overturning a notifier's appeal means acting on the subject")
            raise InvalidInput(f"Choose the new actions: {why}.", field_errors={"actions": ["Required."]})
        if not wants_actions and actions:
            raise InvalidInput(f"An appeal {outcome} takes no new actions.",
                               field_errors={"actions": ["Only for modified, or overturned on a notifier's appeal."]})
        now = timezone.now()
        ref = f"appeal{appeal.pk}"
        reversed_ids = []
        if outcome != Outcome.UPHELD:
            for action in EnforcementAction.objects.filter(decision_ref=appeal.decision_ref, status__in=APPEALABLE
                                                           ).order_by("id"):
                enforcement.action_reverse(action=action.pk, reason=f"Appeal #{appeal.pk} {outcome}: {rationale}",
                                           actor=actor, appeal_ref=ref)
                reversed_ids.append(action.pk)
        new_actions = []
        if wants_actions:
            new_actions = enforcement.decision_take(
                case=case, actions=actions, rationale=rationale, statement=statement, actor=actor, appeal_ref=ref,
                policy=policy or appeal.policy.slug, at=now)
            appeal.new_decision_ref = new_actions[0].decision_ref
        appeal.status = AppealStatus.DECIDED
        appeal.outcome = outcome
        appeal.rationale = rationale
        appeal.response = statement
        appeal.decided_by = actor
        appeal.decided_at = now
        appeal.save(update_fields=["status", "outcome", "rationale", "response", "decided_by", "decided_at",
                                   "new_decision_ref"])
        data = {"appeal": appeal.pk, "outcome": outcome, "decision": str(appeal.decision_ref),
                "reversed": reversed_ids, "new_decision": str(appeal.new_decision_ref or "") or None}
        case.resolution_reason = rationale
        case.resolved_by = actor
        case.resolved_at = now
        case_transition(case, CaseStatus.RESOLVED, verb=Verb.APPEAL_DECIDED, actor=actor, at=now, data=data,
                        update_fields=["resolution_reason", "resolved_by", "resolved_at"])
        if appeal.decision_case_id != case.pk:
            event_record(appeal.decision_case, verb=Verb.APPEAL_DECIDED, actor=actor, at=now, data=data)
        _tell_appellant(appeal, new_actions)
    return appeal


def _tell_appellant(appeal: Appeal, new_actions: list[EnforcementAction]) -> None:
    """One message to the appellant, keyed by the appeal so a retry sends nothing twice. Nobody
    else who reported the case is told: the appeal is the appellant's."""
    outbox_publish(
        topic=TOPIC_DECIDED,
        payload={
            "appeal_id": appeal.pk,
            "source": appeal.source,
            "external_id": appeal.external_id,
            "decision": str(appeal.decision_ref),
            "appellant": {"kind": appeal.appellant_kind, "external_id": appeal.appellant_ref},
            "outcome": appeal.outcome,
            "statement": appeal.response,
            "decided_at": appeal.decided_at.isoformat(),
            "new_decision": str(appeal.new_decision_ref) if appeal.new_decision_ref else None,
            "new_actions": [{"action_id": a.pk, "type": a.action_type} for a in new_actions],
        },
        key=f"{TOPIC_DECIDED}:appeal{appeal.pk}",
    )
