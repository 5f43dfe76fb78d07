"""Enforcement writes: decide a case, approve or reject a decision, expire temporary actions,
reverse an action, and save a policy (a new version per edit).

Each function is one transaction: lock the case (cases.services.events.case_lock), check who may
act and the status, save named fields, write exactly one CaseEvent per state change, and write
the outward effects (webhooks through the outbox, reporter notices, in-app notifications) in the
same transaction, so they exist if and only if the change was committed.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseKind, CaseStatus, Source, Subject
from cases.selectors.workspace import require_case_visible
from cases.services.events import EventRow, Verb, case_lock, case_transition, event_record, events_record
from cases.services.outcomes import reporters_notify
from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.models import OutboxMessage, WebhookEndpoint
from tsconsole.roles import can
from tsconsole.services import Notice, audit_record, outbox_enqueue_many, outbox_publish, users_notify

from . import selectors
from .models import (
    ACCOUNT_ONLY,
    CONTENT_ONLY,
    DURATION_OPTIONAL,
    DURATION_REQUIRED,
    MAX_DURATION_HOURS,
    SEVERITY,
    VISIBILITY_FORMS,
    ActionStatus,
    ActionType,
    AutomatedDecision,
    DecisionGround,
    EnforcementAction,
    Macro,
    Policy,
    PolicyVersion,
    Strike,
    dsa_decision_fields,
)

TEXT_MAX_CHARS = 10_000
MAX_ACTIONS = 8
TOPIC_APPLIED = "enforcement.applied"
TOPIC_EXPIRED = "enforcement.expired"
TOPIC_REVERSED = "enforcement.reversed"
EXPIRY_BATCH = 500


@dataclass
class Decision:
    """What case_decide did: the actions written, and whether they wait for a lead."""

    case: Case
    ref: str
    actions: list[EnforcementAction]
    requires_approval: bool
    approval_reasons: list[str] = field(default_factory=list)
    suggestion: dict | None = None


@dataclass
class _Spec:
    index: int
    type: str
    hours: int | None
    target: str  # "subject" | "author" | "" (the default for the type)
    visibility: str


# --------------------------------------------------------------------------- input checks


def _text(value, field_name: str, label: str, *, required: bool, limit: int = TEXT_MAX_CHARS) -> str:
    text = (value or "").strip() if isinstance(value, str) else ("" if value is None else None)
    if text is None:
        raise InvalidInput(f"{label} must be text.", field_errors={field_name: ["Must be text."]})
    if required and not text:
        raise InvalidInput(f"{label} is required.", field_errors={field_name: [f"{label} is required."]})
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long (at most {limit} characters).",
                           field_errors={field_name: [f"At most {limit} characters."]})
    return text


def _parse_actions(actions) -> list[_Spec]:
    """Check the shape of the requested actions; errors come back per item, like DRF's list errors."""
    if not isinstance(actions, list) or not actions:
        raise InvalidInput("Choose at least one action.", field_errors={"actions": ["Choose at least one action."]})
    if len(actions) > MAX_ACTIONS:
        raise InvalidInput(f"At most {MAX_ACTIONS} actions per decision.",
                           field_errors={"actions": [f"At most {MAX_ACTIONS} actions."]})
    errors: list[dict] = []
    specs = []
    for index, item in enumerate(actions):
        item_errors: dict = {}
        if not isinstance(item, dict):
            errors.append({"non_field_errors": ["Each action is an object with a \"type\"."]})
            continue
        kind = item.get("type")
        if kind not in ActionType.values:
            item_errors["type"] = [f"Unknown action type {kind!r}; one of {', '.join(ActionType.values)}."]
        hours = item.get("duration_hours")
        if hours in ("", None):
            hours = None
        elif isinstance(hours, bool) or not isinstance(hours, int | str) or not str(hours).isdigit():
            item_errors["duration_hours"] = ["A whole number of hours."]
            hours = None
        else:
            hours = int(hours)
            if not 1 <= hours <= MAX_DURATION_HOURS:
                item_errors["duration_hours"] = [f"From 1 to {MAX_DURATION_HOURS} hours."]
        if kind in DURATION_REQUIRED and hours is None and "duration_hours" not in item_errors:
            item_errors["duration_hours"] = [f"A {ActionType(kind).label.lower()} needs a duration."]
        if kind in ActionType.values and kind not in DURATION_REQUIRED | DURATION_OPTIONAL and hours is not None:
            item_errors["duration_hours"] = [f"A {ActionType(kind).label.lower()} has no duration."]
        target = item.get("target") or ""
        if target not in ("", "subject", "author"):
            item_errors["target"] = ["\"subject\" or \"author\"."]
        visibility = item.get("visibility") or ""
        if visibility and (kind != ActionType.RESTRICT_VISIBILITY or visibility not in VISIBILITY_FORMS):
            item_errors["visibility"] = [f"Only for restrict_visibility: one of {', '.join(VISIBILITY_FORMS)}."]
        unknown = set(item) - {"type", "duration_hours", "target", "visibility"}
        if unknown:
            item_errors["non_field_errors"] = [f"Unknown keys: {', '.join(sorted(unknown))}."]
        errors.append(item_errors)
        specs.append(_Spec(index, kind, hours, target, visibility))
    if any(errors):
        raise InvalidInput("Some actions are not valid.", field_errors={"actions": errors})
    types = [s.type for s in specs]
    if ActionType.NO_VIOLATION in types and len(types) > 1:
        raise InvalidInput("\"No violation\" cannot be combined with other actions.",
                           field_errors={"actions": ["\"No violation\" stands alone."]})
    return specs


def _target_for(spec: _Spec, subject: Subject, account: Subject | None) -> Subject:
    """Which subject an action acts on: explicit `target`, else the natural one for its type."""
    def fail(message):
        errors = [{} for _ in range(spec.index + 1)]
        errors[spec.index] = {"target": [message]}
        raise InvalidInput(message, field_errors={"actions": errors})

    label = ActionType(spec.type).label.lower()
    if spec.target == "author":
        if subject.kind == Subject.Kind.ACCOUNT:
            fail("The case subject is an account: it has no author.")
        if account is None:
            fail("This content has no known author account.")
        target = account
    elif spec.target == "subject":
        target = subject
    elif spec.type in ACCOUNT_ONLY and subject.kind == Subject.Kind.CONTENT:
        if account is None:
            fail(f"A {label} acts on an account, and this content has no known author.")
        target = account
    else:
        target = subject
    if spec.type in ACCOUNT_ONLY and target.kind != Subject.Kind.ACCOUNT:
        fail(f"A {label} acts on an account, not on content.")
    if spec.type in CONTENT_ONLY and target.kind != Subject.Kind.CONTENT:
        fail(f"A {label} acts on content, not on an account.")
    return target


def _policy(case: Case, slug) -> Policy:
    if slug in (None, ""):
        policy = selectors.policy_for_category(case.category)
        if policy is None:
            raise InvalidInput(
                f"No active policy covers the category {case.category}; choose one.",
                field_errors={"policy": ["Required: the case category has no default policy."]},
            )
        return policy
    value = slug.slug if isinstance(slug, Policy) else str(slug)
    policy = Policy.objects.filter(slug=value, is_active=True).first()
    if policy is None:
        raise InvalidInput(f"There is no active policy {value!r}.", field_errors={"policy": ["Unknown or inactive policy."]})
    return policy


def _statement(*, case: Case, policy: Policy, statement, macro, macro_values, types: list[str], end, now,
               required: bool):
    """The user-facing statement: typed text, or a macro filled with values. Refused while a
    placeholder is unfilled, and a macro refused when it describes none of the decision's action
    types. The values only known when deciding ({end_date}, {appeal_deadline}) are filled in typed
    text too. Returns (text, macro or None)."""
    text = _text(statement, "statement", "The statement of reasons", required=False)
    chosen = None
    if macro not in (None, ""):
        chosen = Macro.objects.filter(slug=str(macro), is_active=True).first()
        if chosen is None:
            raise InvalidInput(f"There is no active macro {macro!r}.", field_errors={"macro": ["Unknown or inactive macro."]})
        if not chosen.fits(types):
            meant = ", ".join(ActionType(t).label.lower() for t in chosen.action_types)
            taken = ", ".join(ActionType(t).label.lower() for t in types)
            raise InvalidInput(
                f"The macro \u201c{chosen.name}\u201d is written for a {meant}, and this decision is a {taken}.",
                field_errors={"macro": [f"Written for a {meant}: choose a macro for a {taken}, or write the statement."]},
            )
    if macro_values is not None and not isinstance(macro_values, dict):
        raise InvalidInput("Macro values are an object of placeholder → text.", field_errors={"macro_values": ["Must be an object."]})
    timed = selectors.decision_time_values(end=end, applied_at=now)
    if chosen is not None and not text:
        values = selectors.statement_values(case, policy)
        values.update(timed)
        values.update({k: str(v).strip() for k, v in (macro_values or {}).items() if v is not None})
        text = selectors.fill_placeholders(chosen.body, values)
        missing = selectors.placeholders(text)
        if missing:
            raise InvalidInput(
                f"Fill the macro's placeholders before sending: {', '.join(missing)}.",
                field_errors={"macro_values": {name: ["Required."] for name in missing}},
            )
    if required and not text:
        raise InvalidInput(
            "A statement of reasons is required: the user is told why.",
            field_errors={"statement": ["Write a statement or choose a macro."]},
        )
    text = selectors.fill_placeholders(text, timed)
    left = selectors.placeholders(text)
    if left:
        names = ", ".join("{" + name + "}" for name in left)
        raise InvalidInput(f"The statement still has unfilled placeholders: {names}.",
                           field_errors={"statement": [f"Fill or remove {names}."]})
    return text, chosen


def _departs(suggestion: dict | None, specs: list[_Spec], targets: list[Subject], account: Subject | None) -> bool:
    """Whether the decision leaves out the step the ladder suggests for the account."""
    if not suggestion or account is None:
        return False
    for spec, target in zip(specs, targets, strict=True):
        if target.pk == account.pk and spec.type == suggestion["action"] and spec.hours == suggestion.get("duration_hours"):
            return False
    return True


# --------------------------------------------------------------------------- outward effects


def _payload(action: EnforcementAction) -> dict:
    """What the platform is told about an action: no rationale, no names, no reporters."""
    deadline = selectors.appeal_deadline(action.applied_at)
    return {
        "action_id": action.pk,
        "decision": str(action.decision_ref),
        "case_id": action.case_id,
        "type": action.action_type,
        "status": action.status,
        "subject": {"kind": action.target.kind, "external_id": action.target.external_id},
        "policy": {"slug": action.policy.slug, "version": action.policy_version.version},
        "applied_at": action.applied_at.isoformat() if action.applied_at else None,
        "ends_at": action.ends_at.isoformat() if action.ends_at else None,
        "statement": action.statement,
        "appealable_until": deadline.isoformat() if deadline else None,
        "dsa": {
            "decision_visibility": action.decision_visibility or None,
            "decision_account": action.decision_account or None,
            "decision_provision": action.decision_provision or None,
            "decision_monetary": action.decision_monetary or None,
            "decision_ground": action.decision_ground,
            "category": action.category,
            "automated_detection": action.automated_detection,
            "automated_decision": action.automated_decision,
        },
    }


def _activate(actions: list[EnforcementAction], *, now, account: Subject | None, fields: list[str]) -> None:
    """Put decided actions into effect: times, the strike, and one `enforcement.applied` each."""
    for action in actions:
        action.status = ActionStatus.ACTIVE
        action.applied_at = now
        action.ends_at = now + action.duration if action.duration else None
        action.save(update_fields=["status", "applied_at", "ends_at", *fields])
    violations = [a for a in actions if a.action_type != ActionType.NO_VIOLATION]
    if violations and account is not None:
        bearer = min(violations, key=lambda a: SEVERITY.index(a.action_type))
        Strike.objects.create(
            account=account, policy=bearer.policy, action=bearer, case_id=bearer.case_id, issued_at=now,
            expires_at=now + timedelta(days=bearer.policy_version.strike_window_days),
        )
    for action in violations:
        outbox_publish(topic=TOPIC_APPLIED, payload=_payload(action), key=f"{TOPIC_APPLIED}:action{action.pk}")


def _resolve_case(case: Case, actions: list[EnforcementAction], *, decider, now, verb: str, actor, data: dict) -> None:
    actioned = any(a.action_type != ActionType.NO_VIOLATION for a in actions)
    case.resolution = Case.Resolution.ACTIONED if actioned else Case.Resolution.NO_VIOLATION
    case.resolution_reason = actions[0].rationale
    case.resolved_by = decider
    case.resolved_at = now
    case_transition(case, CaseStatus.RESOLVED, verb=verb, actor=actor, at=now, data=data,
                    update_fields=["resolution", "resolution_reason", "resolved_by", "resolved_at"])
    reporters_notify(case, action_taken=actioned, decision_ref=f"decision{actions[0].decision_ref}")


def _summary(actions: list[EnforcementAction]) -> list[dict]:
    return [
        {"id": a.pk, "type": a.action_type, "target": a.target.external_id, "duration_hours": a.duration_hours}
        for a in actions
    ]


def _case_url(case_id: int) -> str:
    return reverse("case-detail", args=[case_id])


# --------------------------------------------------------------------------- decision building


@dataclass
class _Plan:
    """A checked decision before it is written: policy and version, targets, statement, ladder."""

    specs: list[_Spec]
    targets: list[Subject]
    policy: Policy
    version: PolicyVersion
    statement: str
    macro: Macro | None
    suggestion: dict | None
    departs: bool
    approval_reasons: list[str]


def _plan(*, case, subject, account, specs, policy, statement, macro, macro_values, now) -> _Plan:
    """Check a requested decision against the case: policy, targets, duplicates, ladder, statement,
    and why it would need a second person."""
    chosen_policy = _policy(case, policy)
    version = selectors.policy_current_version(chosen_policy)
    if version is None:
        raise Conflict(f"Policy {chosen_policy.slug} has no saved version; an admin must save it first.")
    targets = [_target_for(spec, subject, account) for spec in specs]
    seen = set()
    for spec, target in zip(specs, targets, strict=True):
        if (spec.type, target.pk) in seen:
            raise InvalidInput(f"{ActionType(spec.type).label} on {target} is listed twice.",
                               field_errors={"actions": [f"{ActionType(spec.type).label} twice."]})
        seen.add((spec.type, target.pk))
    violation = specs[0].type != ActionType.NO_VIOLATION
    suggestion = selectors.ladder_suggestion(account, chosen_policy, now=now) if violation else None
    departs = _departs(suggestion, specs, targets, account)
    # {end_date} is the end of the most severe timed action (a suspension outlasts a label).
    timed = sorted((s for s in specs if s.hours), key=lambda s: SEVERITY.index(s.type))
    end = now + timedelta(hours=timed[0].hours) if timed else None
    text, used_macro = _statement(
        case=case, policy=chosen_policy, statement=statement, macro=macro, macro_values=macro_values,
        types=[s.type for s in specs], end=end, now=now, required=violation,
    )
    reasons = []
    if violation:
        if any(s.type == ActionType.TERMINATION for s in specs):
            reasons.append("termination")
        for target in {t.pk: t for t in targets}.values():
            reasons += [r for r in selectors.high_impact_reasons(target) if r not in reasons]
    return _Plan(specs=specs, targets=targets, policy=chosen_policy, version=version, statement=text,
                 macro=used_macro, suggestion=suggestion, departs=departs, approval_reasons=reasons)


def _create(case, plan: _Plan, *, actor, now, rationale, ground, departure_reason, requires_approval) -> list:
    """Write the actions of a planned decision (one decision_ref), pending or active-to-be."""
    automated = case.reports.filter(source=Source.AUTOMATED).exists()
    ref = None
    created = []
    for spec, target in zip(plan.specs, plan.targets, strict=True):
        action = EnforcementAction(
            case=case, target=target, policy=plan.policy, policy_version=plan.version, action_type=spec.type,
            status=ActionStatus.PENDING_APPROVAL if requires_approval else ActionStatus.ACTIVE,
            decision_ground=ground or plan.version.decision_ground, category=case.category.dsa_category,
            automated_detection=automated, automated_decision=AutomatedDecision.NOT_AUTOMATED,
            rationale=rationale, statement=plan.statement, macro=plan.macro, ladder_suggestion=plan.suggestion,
            departure_reason=departure_reason if plan.departs else "",
            duration=timedelta(hours=spec.hours) if spec.hours else None,
            created_at=now, proposer=actor, requires_approval=requires_approval,
            **dsa_decision_fields(spec.type, visibility_form=spec.visibility),
        )
        if ref is not None:
            action.decision_ref = ref
        action.save()
        ref = action.decision_ref
        created.append(action)
    return created


def _strike_counts(decision_ref, now) -> bool:
    """Whether a decision still carries a strike that counts (its bearer neither reversed nor lapsed)."""
    return Strike.objects.filter(action__decision_ref=decision_ref, expires_at__gt=now,
                                 action__status__in=(ActionStatus.ACTIVE, ActionStatus.EXPIRED)).exists()


def decision_take(*, case: Case, actions, rationale, statement, actor, appeal_ref: str = "", correction_ref: str = "",
                  supersedes=None, policy=None, ground: str = "", at=None) -> list[EnforcementAction]:
    """New actions on review of a decision: checked like any decision, in effect at once, with
    their strike and `enforcement.applied` webhooks (through which the user is told), and one
    `decided` event naming the review.

    Two callers, each naming itself:
    - an appeal overturned on a notifier's appeal or modified (`appeal_ref`, on the appeal's own
      case, which the caller has locked; capability appeal.decide). The appeals service has
      applied the review rules (not the original decider or approver; a lead for terminations
      and high-impact subjects), which stand in for the two-person rule;
    - a lead's correction of a decided case after a QA audit (`correction_ref`; capability
      action.reverse; the case must be resolved). The audit's reviewer and the correcting lead,
      neither of whom took part in the decision, stand in for the two-person rule.

    `supersedes` is the decision under review: while it still carries a counting strike, the new
    actions carry none (one violation, one strike); an appeal reverses the original first, so its
    new decision carries the strike. One transaction (joining the caller's, if any).
    """
    if bool(appeal_ref) == bool(correction_ref):
        raise ValueError("decision_take needs exactly one of appeal_ref and correction_ref")
    if appeal_ref and not can(actor, "appeal.decide"):
        raise NotAllowed("Your role does not allow deciding appeals.")
    if correction_ref and not can(actor, "action.reverse"):
        raise NotAllowed("Only a lead may add actions to a decided case.")
    rationale = _text(rationale, "rationale", "A rationale", required=True)
    specs = _parse_actions(actions)
    if specs[0].type == ActionType.NO_VIOLATION:
        raise InvalidInput("New actions on review act on the subject; \"no violation\" is a reversal, not new actions.",
                           field_errors={"actions": ["Choose the actions that replace the decision."]})
    if ground and ground not in DecisionGround.values:
        raise InvalidInput("Unknown decision ground.", field_errors={"ground": [f"One of {', '.join(DecisionGround.values)}."]})
    with transaction.atomic():
        if correction_ref:
            case = case_lock(case.pk if isinstance(case, Case) else int(case))
            if case.status != CaseStatus.RESOLVED:
                raise Conflict(f"Case {case.pk} is {case.get_status_display().lower()}: decide it there; a correction "
                               "adds actions to a decided case only.")
        now = at or timezone.now()
        subject = Subject.objects.select_related("author").get(pk=case.subject_id)
        account = selectors.responsible_account(subject)
        plan = _plan(case=case, subject=subject, account=account, specs=specs, policy=policy, statement=statement,
                     macro=None, macro_values=None, now=now)
        created = _create(case, plan, actor=actor, now=now, rationale=rationale, ground=ground,
                          departure_reason=rationale, requires_approval=False)
        struck = supersedes is not None and _strike_counts(supersedes, now)
        _activate(created, now=now, account=None if struck else account, fields=[])
        if correction_ref and case.resolution != Case.Resolution.ACTIONED:
            case.resolution = Case.Resolution.ACTIONED
            case.save(update_fields=["resolution"])
        review = {"appeal": appeal_ref} if appeal_ref else {"correction": correction_ref}
        event_record(case, verb="decided", actor=actor, at=now, data={
            "decision": str(created[0].decision_ref), "policy": plan.policy.slug, "policy_version": plan.version.version,
            "actions": _summary(created), "ladder_suggestion": plan.suggestion, "departed": plan.departs,
            "supersedes": str(supersedes) if supersedes else None, "strike": not struck and account is not None,
            **review,
        })
    return created


# --------------------------------------------------------------------------- decide


def case_decide(
    *, case, actions, rationale, actor, policy=None, statement="", macro=None, macro_values=None,
    departure_reason="", ground="",
) -> Decision:
    """Decide a case: one or more actions (or "no violation") under a policy, with an internal
    rationale and a user-facing statement of reasons.

    The decider is the case's assignee or a lead. The strike ladder's suggestion for the account
    is recorded on every action; leaving it out needs a `departure_reason`. Under the two-person
    rule (a high-impact account, or any termination) the actions wait in pending_approval and
    the case in awaiting_approval; otherwise they take effect and the case is resolved, the
    platform and the reporters are told, and the account gets its strike.
    """
    rationale = _text(rationale, "rationale", "A rationale", required=True)
    departure_reason = _text(departure_reason, "departure_reason", "The reason for departing from the ladder", required=False)
    specs = _parse_actions(actions)
    if ground and ground not in DecisionGround.values:
        raise InvalidInput("Unknown decision ground.", field_errors={"ground": [f"One of {', '.join(DecisionGround.values)}."]})
    if not can(actor, "case.work"):
        raise NotAllowed("Your role does not allow deciding cases.")
    case_id = case.pk if isinstance(case, Case) else int(case)
    require_case_visible(actor, case_id)  # a case in another team's queue answers like a missing one
    with transaction.atomic():
        case = case_lock(case_id)
        if case.kind != CaseKind.REPORT:
            raise Conflict(f"Case {case.pk} is {case.get_kind_display().lower()} work: decide it there, not as a report case.")
        if case.status not in selectors.DECIDABLE:
            if case.status == CaseStatus.AWAITING_APPROVAL:
                raise Conflict(f"Case {case.pk} already has a decision awaiting a lead's approval.")
            if case.status == CaseStatus.RESOLVED:
                raise Conflict(f"Case {case.pk} is resolved; a new decision needs an appeal or a reversal.")
            if case.status == CaseStatus.ON_HOLD:
                raise Conflict(f"Case {case.pk} is on hold; resume it before deciding.")
            raise Conflict(f"Case {case.pk} is not claimed; claim it before deciding.")
        if case.assignee_id != actor.pk and not can(actor, "case.reassign"):
            holder = case.assignee.get_username() if case.assignee_id else "nobody"
            raise Conflict(f"Case {case.pk} is assigned to {holder}; only they or a lead can decide it.")
        subject = Subject.objects.select_related("author").get(pk=case.subject_id)
        account = selectors.responsible_account(subject)
        now = timezone.now()
        plan = _plan(case=case, subject=subject, account=account, specs=specs, policy=policy, statement=statement,
                     macro=macro, macro_values=macro_values, now=now)
        if plan.departs and not departure_reason:
            label = selectors.suggestion_label(plan.suggestion)
            raise InvalidInput(
                f"The ladder suggests {label} (strike {plan.suggestion['step']}); say why you depart from it.",
                field_errors={"departure_reason": [f"Required: the ladder suggests {label}."]},
            )
        reasons = plan.approval_reasons
        requires_approval = bool(reasons)
        created = _create(case, plan, actor=actor, now=now, rationale=rationale, ground=ground,
                          departure_reason=departure_reason, requires_approval=requires_approval)
        ref = created[0].decision_ref
        suggestion = plan.suggestion
        data = {
            "decision": str(ref), "policy": plan.policy.slug, "policy_version": plan.version.version,
            "actions": _summary(created), "ladder_suggestion": suggestion, "departed": plan.departs,
        }
        if requires_approval:
            data["approval_reasons"] = reasons
            case_transition(case, CaseStatus.AWAITING_APPROVAL, verb="decision_proposed", actor=actor, at=now, data=data)
            _ask_for_approval(case, created, proposer=actor, reasons=reasons)
        else:
            _activate(created, now=now, account=account, fields=[])
            _resolve_case(case, created, decider=actor, now=now, verb="decided", actor=actor, data=data)
    return Decision(case=case, ref=str(ref), actions=created, requires_approval=requires_approval,
                    approval_reasons=reasons, suggestion=suggestion)


def _ask_for_approval(case: Case, actions: list[EnforcementAction], *, proposer, reasons: list[str]) -> None:
    """Tell the leads who may approve it that a decision is waiting, so the two-person rule does
    not leave the case sitting unseen on the Approvals page."""
    labels = ", ".join(ActionType(a.action_type).label.lower() for a in actions)
    users_notify([
        Notice(
            user=lead, kind="enforcement.awaiting_approval", url=reverse("enforcement-approvals"),
            title=f"{proposer.get_username()} asks for approval on case {case.pk}",
            body=f"{labels} ({'; '.join(reasons)})",
            key=f"decision{actions[0].decision_ref}:proposed:{lead.pk}",
        )
        for lead in selectors.approvers_for(case, proposer=proposer)
    ])


# --------------------------------------------------------------------------- approve / reject


def _pending_decision(action, actor, doing: str):
    """Lock the case of `action` and return (case, its pending actions of that decision)."""
    if not can(actor, "approval.decide"):
        raise NotAllowed(f"Only a lead may {doing} decisions.")
    action_id = action.pk if isinstance(action, EnforcementAction) else int(action)
    head = EnforcementAction.objects.filter(pk=action_id).values("case_id", "decision_ref").first()
    if head is None:
        raise NotFound(f"Action {action_id} does not exist.")
    case = case_lock(head["case_id"])
    actions = list(
        EnforcementAction.objects.select_for_update(of=("self",))
        .select_related("target", "policy", "policy_version", "proposer")
        .filter(decision_ref=head["decision_ref"]).order_by("id")
    )
    pending = [a for a in actions if a.status == ActionStatus.PENDING_APPROVAL]
    if not pending:
        raise Conflict(f"The decision with action {action_id} is not awaiting approval "
                       f"(it is {actions[0].get_status_display().lower()}).")
    if case.status != CaseStatus.AWAITING_APPROVAL:
        raise Conflict(f"Case {case.pk} is not awaiting approval.")
    if any(a.proposer_id == actor.pk for a in pending):
        raise NotAllowed("You proposed this decision; another lead must review it (two-person rule).")
    actions = pending
    return case, actions


def decision_approve(*, action, actor, comment: str = "") -> list[EnforcementAction]:
    """A lead other than the proposer approves a pending decision: its actions take effect now and
    the case is resolved (with the platform and reporters told, as for any decision)."""
    comment = _text(comment, "comment", "The comment", required=False)
    with transaction.atomic():
        case, actions = _pending_decision(action, actor, "approve")
        now = timezone.now()
        for a in actions:
            a.reviewer, a.reviewed_at, a.review_comment = actor, now, comment
        subject = Subject.objects.select_related("author").get(pk=case.subject_id)
        _activate(actions, now=now, account=selectors.responsible_account(subject),
                  fields=["reviewer", "reviewed_at", "review_comment"])
        proposer = actions[0].proposer
        _resolve_case(case, actions, decider=proposer, now=now, verb="decision_approved", actor=actor, data={
            "decision": str(actions[0].decision_ref), "actions": _summary(actions), "comment": comment,
            "proposer": proposer.get_username(),
        })
        users_notify([Notice(
            user=proposer, kind="enforcement.approved", url=_case_url(case.pk),
            title=f"{actor.get_username()} approved your decision on case {case.pk}", body=comment,
            key=f"decision{actions[0].decision_ref}:approved",
        )])
    return actions


def decision_reject(*, action, actor, comment: str) -> list[EnforcementAction]:
    """A lead other than the proposer rejects a pending decision, saying why: nothing takes effect
    and the case goes back to its assignee in review."""
    comment = _text(comment, "comment", "A comment explaining the rejection", required=True)
    with transaction.atomic():
        case, actions = _pending_decision(action, actor, "reject")
        now = timezone.now()
        for a in actions:
            a.status = ActionStatus.REJECTED
            a.reviewer, a.reviewed_at, a.review_comment = actor, now, comment
            a.save(update_fields=["status", "reviewer", "reviewed_at", "review_comment"])
        proposer = actions[0].proposer
        case_transition(case, CaseStatus.IN_REVIEW, verb="decision_rejected", actor=actor, at=now, data={
            "decision": str(actions[0].decision_ref), "actions": _summary(actions), "comment": comment,
            "proposer": proposer.get_username(),
        })
        users_notify([Notice(
            user=proposer, kind="enforcement.rejected", url=_case_url(case.pk),
            title=f"{actor.get_username()} rejected your decision on case {case.pk}", body=comment,
            key=f"decision{actions[0].decision_ref}:rejected",
        )])
    return actions


# --------------------------------------------------------------------------- expiry


def actions_expire(*, now=None, batch_size: int = EXPIRY_BATCH) -> int:
    """Expire every active action whose end has passed: the beat sweep (no ETA tasks).

    Set-wise per batch: pick due rows with FOR UPDATE SKIP LOCKED (a concurrent sweep or a
    reversal holding a row is skipped, never waited on), flip them with one conditional UPDATE,
    then one bulk insert of CaseEvents and one of outbox rows. A second run finds nothing left,
    and a concurrent one takes disjoint rows, so running it twice is harmless.
    Returns how many actions expired.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                EnforcementAction.objects.select_for_update(skip_locked=True)
                .filter(status=ActionStatus.ACTIVE, ends_at__lte=now)
                .order_by("ends_at", "id").values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return total
            EnforcementAction.objects.filter(id__in=ids, status=ActionStatus.ACTIVE).update(
                status=ActionStatus.EXPIRED, expired_at=now)
            rows = list(
                EnforcementAction.objects.filter(id__in=ids, status=ActionStatus.EXPIRED, expired_at=now)
                .select_related("target", "policy", "policy_version")
            )
            events_record([
                EventRow(a.case_id, None, CaseEvent.ActorKind.SYSTEM, Verb.ACTION_EXPIRED, "", "",
                         {"action": a.pk, "type": a.action_type, "decision": str(a.decision_ref),
                          "ends_at": a.ends_at.isoformat()}, now)
                for a in rows
            ])
            endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(TOPIC_EXPIRED)]
            outbox_enqueue_many([
                {
                    "topic": TOPIC_EXPIRED, "channel": OutboxMessage.Channel.WEBHOOK, "endpoint": endpoint,
                    "payload": _payload(a), "idempotency_key": f"{TOPIC_EXPIRED}:action{a.pk}:ep{endpoint.pk}",
                }
                for a in rows for endpoint in endpoints
            ])
            total += len(rows)
        if len(ids) < batch_size:
            return total


# --------------------------------------------------------------------------- reversal


def action_reverse(*, action, reason: str, actor, appeal_ref: str = "") -> EnforcementAction:
    """Reverse an active or expired action, with a reason: it stops applying at once, its strike
    stops counting, and the platform is told (`enforcement.reversed`).

    A lead (capability action.reverse) reverses from the console. An appeal overturned or modified
    reverses through the reviewer's own capability, appeal.decide, passing `appeal_ref`; the
    appeals service has checked the reviewer rules first. On appeal a "no violation" outcome is
    reversed too (it restricted nothing, so the platform has nothing to undo and is not told).
    """
    reason = _text(reason, "reason", "A reason for the reversal", required=True)
    if appeal_ref:
        if not can(actor, "appeal.decide"):
            raise NotAllowed("Your role does not allow deciding appeals.")
    elif not can(actor, "action.reverse"):
        raise NotAllowed("Only a lead may reverse an action.")
    action_id = action.pk if isinstance(action, EnforcementAction) else int(action)
    with transaction.atomic():
        case_id = EnforcementAction.objects.filter(pk=action_id).values_list("case_id", flat=True).first()
        if case_id is None:
            raise NotFound(f"Action {action_id} does not exist.")
        case = case_lock(case_id)
        action = (
            EnforcementAction.objects.select_for_update(of=("self",))
            .select_related("target", "policy", "policy_version").get(pk=action_id)
        )
        if action.status not in (ActionStatus.ACTIVE, ActionStatus.EXPIRED):
            raise Conflict(f"Action {action.pk} is {action.get_status_display().lower()}; only an active or expired action can be reversed.")
        if action.action_type == ActionType.NO_VIOLATION and not appeal_ref:
            raise Conflict("A \"no violation\" outcome restricts nothing; decide the case again through an appeal.")
        now = timezone.now()
        previous = action.status
        action.status = ActionStatus.REVERSED
        action.reversed_by, action.reversed_at, action.reversal_reason = actor, now, reason
        action.save(update_fields=["status", "reversed_by", "reversed_at", "reversal_reason"])
        event_record(case, verb="action_reversed", actor=actor, at=now, data={
            "action": action.pk, "type": action.action_type, "decision": str(action.decision_ref),
            "was": previous, "reason": reason, **({"appeal": appeal_ref} if appeal_ref else {}),
        })
        if action.action_type != ActionType.NO_VIOLATION:
            payload = _payload(action)
            payload["reversed_at"] = now.isoformat()
            if appeal_ref:
                payload["appeal"] = appeal_ref
            outbox_publish(topic=TOPIC_REVERSED, payload=payload, key=f"{TOPIC_REVERSED}:action{action.pk}")
    return action


# --------------------------------------------------------------------------- policies


def policy_save(*, policy: Policy, actor) -> Policy:
    """Save a policy; when a versioned field changed (or it is new), record the next version."""
    with transaction.atomic():
        latest = None
        if policy.pk:
            Policy.objects.select_for_update().filter(pk=policy.pk).first()
            latest = PolicyVersion.objects.filter(policy_id=policy.pk).order_by("-version").first()
        changed = latest is None or any(
            getattr(policy, name) != getattr(latest, name) for name in Policy.VERSIONED_FIELDS
        )
        if changed:
            policy.version = (latest.version if latest else 0) + 1
        policy.save()
        if changed:
            PolicyVersion.objects.create(
                policy=policy, version=policy.version, created_by=actor if getattr(actor, "pk", None) else None,
                **{name: getattr(policy, name) for name in Policy.VERSIONED_FIELDS},
            )
            audit_record(actor=actor, verb="policy.version_saved", object_type="policy", object_ref=policy.slug,
                         data={"version": policy.version})
    return policy


# --------------------------------------------------------------------------- support lookup


def subject_lookup(*, query: str, kind: str = "", actor) -> list[dict]:
    """The support lookup: outcomes for a subject by external id or handle, and an audit entry
    saying who looked up what (every lookup, found or not)."""
    query = (query or "").strip()[:200]
    results = selectors.support_lookup(query, kind=kind)
    audit_record(actor=actor, verb="support.lookup", object_type="subject", object_ref=query, data={
        "kind": kind, "matches": [f"{r['kind']}:{r['external_id']}" for r in results],
        "outcomes": sum(len(r["outcomes"]) for r in results),
    })
    return results
