"""QA writes: sampling rules and rubrics (a new version per edit), assigning and reviewing
samples, feedback, disputes, corrections, and calibration sessions.

Each function is one transaction; rows are locked before their state is checked, so two people
acting at once see one succeed and one told why not. Everything that happens to a case (an
audit, a dispute, its ruling, a correction) is written on the case timeline through
cases.services.events.event_record; configuration edits go to the audit log.
"""

import re
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from appeals import selectors as appeal_selectors
from cases.models import Case, CaseStatus, Queue
from cases.services.events import Verb, event_record
from enforcement.models import SEVERITY, ActionStatus, ActionType, EnforcementAction, Policy
from enforcement.services import action_reverse, decision_take
from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.roles import can
from tsconsole.services import Notice, audit_record, users_notify
from tsconsole.validators import control_character, describe

from . import agreement
from .models import (
    Audit,
    CalibrationAnswer,
    CalibrationCase,
    CalibrationParticipant,
    CalibrationSession,
    Correction,
    Dispute,
    Feedback,
    FeedbackStatus,
    Outcome,
    Rubric,
    RubricCriterion,
    RuleKind,
    Sample,
    SampleStatus,
    SamplingRule,
    SamplingRuleVersion,
)

TEXT_MAX = 10_000
NO_VIOLATION = ActionType.NO_VIOLATION.value
MAX_CALIBRATION_CASES = 50
MAX_CALIBRATION_PARTICIPANTS = 50


def _text(value, field: str, label: str, *, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field_errors={field: ["Must be text."]})
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} is required.", field_errors={field: [f"{label} is required."]})
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"{label} is too long (at most {TEXT_MAX} characters).", field_errors={field: [f"At most {TEXT_MAX} characters."]})
    return text


def _require(actor, capability: str, message: str) -> None:
    if not can(actor, capability):
        raise NotAllowed(message)


# --------------------------------------------------------------------------- decisions (the shape shared by reviews, calibration, corrections)


@dataclass(frozen=True)
class DecisionIn:
    """A decision as QA compares it: a policy (None for no violation) and its sorted action types."""

    policy: Policy | None
    types: tuple[str, ...]

    @property
    def category(self) -> str:
        """The label Fleiss' kappa and agreement count: the set of action types, or no_violation."""
        return "+".join(self.types)

    @property
    def is_violation(self) -> bool:
        return self.types != (NO_VIOLATION,)


def decision_parse(value, *, field: str = "decision") -> DecisionIn:
    """`{"policy": slug, "actions": [{"type": ...}, ...]}` or `{"no_violation": true}`."""
    if not isinstance(value, dict):
        raise InvalidInput("The decision is an object: {\"policy\": ..., \"actions\": [...]} or {\"no_violation\": true}.",
                           field_errors={field: ["Must be an object."]})
    unknown = set(value) - {"policy", "actions", "no_violation"}
    if unknown:
        raise InvalidInput(f"Unknown keys in the decision: {', '.join(sorted(unknown))}.",
                           field_errors={field: [f"Unknown keys: {', '.join(sorted(unknown))}."]})
    if value.get("no_violation") is True:
        if value.get("actions"):
            raise InvalidInput("\"No violation\" cannot come with actions.", field_errors={field: ["No violation stands alone."]})
        return DecisionIn(policy=_policy_or_none(value.get("policy"), field), types=(NO_VIOLATION,))
    actions = value.get("actions")
    if not isinstance(actions, list) or not actions:
        raise InvalidInput("Choose at least one action, or no violation.", field_errors={field: ["Choose at least one action, or no violation."]})
    types = []
    for item in actions:
        kind = item.get("type") if isinstance(item, dict) else item
        if kind not in ActionType.values:
            raise InvalidInput(f"Unknown action type {kind!r}.",
                               field_errors={field: [f"Unknown action type {kind!r}; one of {', '.join(ActionType.values)}."]})
        types.append(kind)
    if NO_VIOLATION in types:
        if len(set(types)) > 1:
            raise InvalidInput("\"No violation\" cannot be combined with other actions.", field_errors={field: ["No violation stands alone."]})
        return DecisionIn(policy=_policy_or_none(value.get("policy"), field), types=(NO_VIOLATION,))
    policy = _policy_or_none(value.get("policy"), field)
    if policy is None:
        raise InvalidInput("Name the policy the actions enforce.", field_errors={field: ["A policy is required with actions."]})
    return DecisionIn(policy=policy, types=tuple(sorted(set(types))))


def _policy_or_none(slug, field: str) -> Policy | None:
    if slug in (None, ""):
        return None
    policy = Policy.objects.filter(slug=str(slug)).first()
    if policy is None:
        raise InvalidInput(f"There is no policy {slug!r}.", field_errors={field: [f"Unknown policy {slug!r}."]})
    return policy


def _most_severe(types) -> str:
    ranked = [t for t in SEVERITY if t in types]
    return ranked[0] if ranked else (types[0] if types else "")


# --------------------------------------------------------------------------- sampling rules


RULE_FIELDS = ("kind", "queue", "policy", "action_type", "analyst", "rate", "first_n", "floor_k", "due_days")


def _rule_params(data: dict) -> dict:
    """Check a rule's parameters; returns SamplingRuleVersion field values."""
    kind = data.get("kind")
    if kind not in RuleKind.values:
        raise InvalidInput("Choose what the rule samples.", field_errors={"kind": [f"One of {', '.join(RuleKind.values)}."]})
    out = {"kind": kind, "queue": None, "policy": None, "action_type": "", "analyst": None,
           "rate": None, "first_n": None, "floor_k": None, "due_days": data.get("due_days") or 7}
    if data.get("queue"):
        out["queue"] = Queue.objects.filter(slug=str(data["queue"])).first()
        if out["queue"] is None:
            raise InvalidInput(f"There is no queue {data['queue']!r}.", field_errors={"queue": ["Unknown queue."]})
    if data.get("policy"):
        out["policy"] = Policy.objects.filter(slug=str(data["policy"])).first()
        if out["policy"] is None:
            raise InvalidInput(f"There is no policy {data['policy']!r}.", field_errors={"policy": ["Unknown policy."]})
    if data.get("action_type"):
        if data["action_type"] not in ActionType.values:
            raise InvalidInput("Unknown action type.", field_errors={"action_type": [f"One of {', '.join(ActionType.values)}."]})
        out["action_type"] = data["action_type"]
    if data.get("analyst"):
        out["analyst"] = get_user_model().objects.filter(username=str(data["analyst"])).first()
        if out["analyst"] is None:
            raise InvalidInput(f"There is no user {data['analyst']!r}.", field_errors={"analyst": ["Unknown user."]})
    try:
        if kind == RuleKind.RANDOM:
            rate = float(data.get("rate"))
            if not 0 < rate <= 1:
                raise ValueError
            out["rate"] = rate
        elif kind == RuleKind.NEW_ANALYST:
            out["first_n"] = int(data.get("first_n"))
            if not 1 <= out["first_n"] <= 10_000:
                raise ValueError
        elif kind == RuleKind.WEEKLY_FLOOR:
            out["floor_k"] = int(data.get("floor_k"))
            if not 1 <= out["floor_k"] <= 1000:
                raise ValueError
    except (TypeError, ValueError):
        field, hint = {"random": ("rate", "A share above 0 and at most 1, e.g. 0.05."),
                       "new_analyst": ("first_n", "A whole number from 1 to 10000."),
                       "weekly_floor": ("floor_k", "A whole number from 1 to 1000.")}[kind]
        raise InvalidInput(f"The rule needs {field}: {hint}", field_errors={field: [hint]})
    try:
        out["due_days"] = int(out["due_days"])
        if not 1 <= out["due_days"] <= 90:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput("Days to review: 1 to 90.", field_errors={"due_days": ["A whole number from 1 to 90."]})
    return out


def sampling_rule_save(*, actor, data: dict, rule: SamplingRule | int | None = None) -> SamplingRule:
    """Create a rule, or edit one by writing its next version (samples keep the version that drew them)."""
    _require(actor, "qa.manage", "Only a lead or an admin may change sampling rules.")
    params = _rule_params(data)
    with transaction.atomic():
        if rule is None:
            name = _text(data.get("name"), "name", "A name", required=True)[:120]
            if SamplingRule.objects.filter(name=name).exists():
                raise Conflict(f"A rule named {name!r} exists already; edit it instead.")
            rule = SamplingRule.objects.create(name=name, version=0)
        else:
            rule_id = rule.pk if isinstance(rule, SamplingRule) else int(rule)
            rule = SamplingRule.objects.select_for_update().filter(pk=rule_id).first()
            if rule is None:
                raise NotFound(f"Sampling rule {rule_id} does not exist.")
        if "is_active" in data:
            rule.is_active = bool(data["is_active"])
        rule.version += 1
        rule.save(update_fields=["version", "is_active"])
        SamplingRuleVersion.objects.create(rule=rule, version=rule.version, created_by=actor, **params)
        audit_record(actor=actor, verb="qa.sampling_rule_saved", object_type="sampling_rule", object_ref=rule.pk,
                     data={"version": rule.version, "kind": params["kind"], "active": rule.is_active})
    return rule


def sampling_rule_set_active(*, rule, active: bool, actor) -> SamplingRule:
    _require(actor, "qa.manage", "Only a lead or an admin may change sampling rules.")
    with transaction.atomic():
        rule = SamplingRule.objects.select_for_update().filter(pk=getattr(rule, "pk", rule)).first()
        if rule is None:
            raise NotFound("No such sampling rule.")
        rule.is_active = active
        rule.save(update_fields=["is_active"])
        audit_record(actor=actor, verb="qa.sampling_rule_" + ("activated" if active else "paused"),
                     object_type="sampling_rule", object_ref=rule.pk)
    return rule


def sample_assign(*, sample, reviewer, actor) -> Sample:
    """A lead (re)assigns a due sample to a QA reviewer who neither decided nor approved it."""
    _require(actor, "qa.manage", "Only a lead may assign samples.")
    user = reviewer if hasattr(reviewer, "pk") else get_user_model().objects.filter(username=str(reviewer)).first()
    if user is None or not can(user, "qa.review"):
        raise InvalidInput("Assign the sample to a QA reviewer or a lead.", field_errors={"reviewer": ["Not a reviewer."]})
    with transaction.atomic():
        sample = Sample.objects.select_for_update().filter(pk=getattr(sample, "pk", sample)).first()
        if sample is None:
            raise NotFound("No such sample.")
        if sample.status != SampleStatus.DUE:
            raise Conflict(f"Sample {sample.pk} is reviewed already.")
        if user.pk in (sample.analyst_id, sample.approver_id):
            raise NotAllowed(f"{user.get_username()} took part in this decision and cannot audit it.")
        sample.reviewer = user
        sample.save(update_fields=["reviewer"])
        audit_record(actor=actor, verb="qa.sample_assigned", object_type="sample", object_ref=sample.pk,
                     data={"reviewer": user.get_username()})
    return sample


# --------------------------------------------------------------------------- rubrics


def rubric_current(policy: Policy | None) -> Rubric | None:
    """The newest rubric of the policy, else the newest default rubric."""
    if policy is not None:
        own = Rubric.objects.filter(policy=policy).order_by("-version").first()
        if own:
            return own
    return Rubric.objects.filter(policy__isnull=True).order_by("-version").first()


def rubric_for_case(case: Case) -> Rubric | None:
    """The rubric a sample of this case is scored with: that of the policy covering the case's
    category (not of the decision's policy, which the blinded form must not hint at)."""
    return rubric_for_category(case.category)


# The rubric that scores a case of a category (`category`, its group `group`): the newest of the
# active policy covering the category (its own, else its group's, as enforcement's
# policy_for_category chooses), else the newest default. In SQL: the blinded page reads it on every
# request, and the ORM took ten times longer to compile the nested statement than PostgreSQL to run it.
_CURRENT_RUBRIC_ID = f"""(SELECT r.id FROM {Rubric._meta.db_table} r
    WHERE r.policy_id IS NULL OR r.policy_id = COALESCE(
        (SELECT p.id FROM {Policy._meta.db_table} p WHERE p.is_active AND p.category_id = %(category)s LIMIT 1),
        (SELECT p.id FROM {Policy._meta.db_table} p WHERE p.is_active AND p.category_id = %(group)s LIMIT 1))
    ORDER BY r.policy_id NULLS LAST, r.version DESC LIMIT 1)"""


def _category_params(category) -> dict:
    return {"category": getattr(category, "pk", None), "group": getattr(category, "parent_id", None)}


def rubric_for_category(category) -> Rubric | None:
    found = list(Rubric.objects.raw(f"SELECT * FROM {Rubric._meta.db_table} WHERE id = {_CURRENT_RUBRIC_ID}",
                                    _category_params(category)))
    return found[0] if found else None


def rubric_criteria_for_category(category) -> list[RubricCriterion]:
    """The criteria of `rubric_for_category`'s rubric, in order, in one statement."""
    return list(RubricCriterion.objects.raw(
        f"SELECT * FROM {RubricCriterion._meta.db_table} WHERE rubric_id = {_CURRENT_RUBRIC_ID} ORDER BY position, id",
        _category_params(category)))


RUBRIC_MAX_CRITERIA = 30
CRITERION_LABEL_MAX = 120
CRITERION_HELP_MAX = 300
CRITERION_KEY_MAX = 40
CRITERION_WEIGHT_MAX = 10
_KEY = re.compile(r"^[-a-z0-9_]+\Z")


def _whole(value, low: int, high: int) -> int | None:
    """An int in [low, high] from an int or a string of digits (a form's field), else None."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _line(value, what: str, *, limit: int, required: bool) -> str:
    """One line of text: a string, within `limit`, without control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.", field_errors={"criteria": [f"{what} must be text."]})
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"{what} is required.", field_errors={"criteria": [f"{what} is required."]})
    if len(text) > limit:
        raise InvalidInput(f"{what} is too long: at most {limit} characters.",
                           field_errors={"criteria": [f"{what}: at most {limit} characters."]})
    char = control_character(text, multiline=False)
    if char is not None:
        raise InvalidInput(f"{what} contains {describe(char)}; remove it.",
                           field_errors={"criteria": [f"{what}: no control characters."]})
    return text


def rubric_criteria_clean(criteria) -> list[dict]:
    """Check a rubric's criteria, in order: at least one and at most RUBRIC_MAX_CRITERIA; each a
    name (unique, ignoring case and spacing), an optional description, a whole weight from 1 to 10
    and a critical flag; every one scored 1–5 in audits. A criterion without a key gets one made
    from its name (keys are what audits' scores are stored under, so an edited criterion keeps its
    key). Messages name the criterion."""
    if not isinstance(criteria, list) or not criteria:
        raise InvalidInput("A rubric needs at least one criterion.", field_errors={"criteria": ["At least one criterion."]})
    if len(criteria) > RUBRIC_MAX_CRITERIA:
        raise InvalidInput(f"A rubric has at most {RUBRIC_MAX_CRITERIA} criteria.",
                           field_errors={"criteria": [f"At most {RUBRIC_MAX_CRITERIA}."]})
    clean, names, keys = [], set(), set()
    for i, c in enumerate(criteria, start=1):
        if not isinstance(c, dict):
            raise InvalidInput(f"Criterion {i} must be an object.", field_errors={"criteria": ["Each criterion is an object."]})
        label = _line(c.get("label"), f"Criterion {i}'s name", limit=CRITERION_LABEL_MAX, required=True)
        where = f"Criterion {i} (“{label}”)"
        folded = " ".join(label.casefold().split())
        if folded in names:
            raise InvalidInput(f"{where} has the same name as an earlier one; names are unique.",
                               field_errors={"criteria": ["Names are unique."]})
        names.add(folded)
        help_text = _line(c.get("help_text"), f"{where}'s description", limit=CRITERION_HELP_MAX, required=False)
        weight = _whole(c.get("weight", 1), 1, CRITERION_WEIGHT_MAX)
        if weight is None:
            raise InvalidInput(f"{where}: the weight is a whole number from 1 to {CRITERION_WEIGHT_MAX}.",
                               field_errors={"criteria": [f"Weights are whole numbers from 1 to {CRITERION_WEIGHT_MAX}."]})
        key = c.get("key") or ""
        if key:
            key = _line(key, f"{where}'s key", limit=CRITERION_KEY_MAX, required=True)
            if not _KEY.match(key):
                raise InvalidInput(f"{where}: the key is lower-case letters, digits, - and _.",
                                   field_errors={"criteria": ["Keys are lower-case letters, digits, - and _."]})
        else:
            stem = slugify(label)[:CRITERION_KEY_MAX - 3] or f"criterion-{i}"
            key, n = stem, 1
            while key in keys or any(key == (o.get("key") or "") for o in criteria):
                n += 1
                key = f"{stem}-{n}"
        if key in keys:
            raise InvalidInput(f"{where}: criterion key {key!r} is listed twice.", field_errors={"criteria": ["Keys are unique."]})
        keys.add(key)
        clean.append({"key": key, "label": label, "help_text": help_text, "weight": weight,
                      "critical": c.get("critical") in (True, "on", "1", "true")})
    return clean


def rubric_save(*, policy: Policy | None, criteria: list[dict], actor, pass_mark: int = 80) -> Rubric:
    """Write the next version of a policy's rubric (or of the default): criteria with weights, some
    critical (see rubric_criteria_clean). Audits keep the version they were scored with."""
    _require(actor, "qa.manage", "Only a lead or an admin may change rubrics.")
    clean = rubric_criteria_clean(criteria)
    mark = _whole(pass_mark, 0, 100)
    if mark is None:
        raise InvalidInput("The pass mark is a whole number from 0 to 100.", field_errors={"pass_mark": ["0–100"]})
    with transaction.atomic():
        scope = Rubric.objects.filter(policy=policy) if policy else Rubric.objects.filter(policy__isnull=True)
        latest = scope.select_for_update().aggregate(v=Max("version"))["v"] or 0
        rubric = Rubric.objects.create(policy=policy, version=latest + 1, pass_mark=mark, created_by=actor)
        RubricCriterion.objects.bulk_create([RubricCriterion(rubric=rubric, position=i, **c) for i, c in enumerate(clean)])
        audit_record(actor=actor, verb="qa.rubric_saved", object_type="rubric", object_ref=rubric.pk,
                     data={"policy": policy.slug if policy else None, "version": rubric.version,
                           "pass_mark": mark, "criteria": [c["key"] for c in clean]})
    return rubric


def rubric_score(rubric: Rubric, scores) -> tuple[dict, float, bool]:
    """Check scores (every criterion, 1–5) and return (scores, weighted 0–100, critical miss).

    The weighted score maps 1..5 onto 0..100 per criterion; a critical criterion scored 1 or 2
    is a critical miss."""
    criteria = list(rubric.criteria.all())
    if not isinstance(scores, dict):
        raise InvalidInput("Scores are an object of criterion → 1..5.", field_errors={"scores": ["Must be an object."]})
    errors = {}
    clean = {}
    for c in criteria:
        value = scores.get(c.key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[c.key] = [f"Score {c.label} from 1 to 5."]
        else:
            clean[c.key] = value
    extra = set(scores) - {c.key for c in criteria}
    if extra:
        errors["non_field_errors"] = [f"Unknown criteria: {', '.join(sorted(map(str, extra)))}."]
    if errors:
        raise InvalidInput("Score every criterion of the rubric from 1 to 5.", field_errors={"scores": errors})
    total_weight = sum(c.weight for c in criteria) or 1
    weighted = sum(c.weight * (clean[c.key] - 1) / 4 for c in criteria) / total_weight * 100
    critical = any(c.critical and clean[c.key] <= 2 for c in criteria)
    return clean, round(weighted, 1), critical


# --------------------------------------------------------------------------- reviews


def original_decision(sample: Sample) -> dict:
    """The decision under review (only ever shown after the reviewer's own is recorded)."""
    actions = list(
        EnforcementAction.objects.filter(decision_ref=sample.decision_ref).select_related("policy", "proposer", "reviewer")
        .order_by("id")
    )
    first = actions[0]
    return {
        "policy": first.policy,
        "types": tuple(sorted({a.action_type for a in actions})),
        "actions": actions,
        "rationale": first.rationale,
        "statement": first.statement,
        "analyst": first.proposer,
        "approver": first.approver,
        "decided_at": sample.decided_at,
    }


def audit_outcome(*, mine: DecisionIn, original_types, policy_match: bool, score: float, pass_mark: int,
                  critical_miss: bool) -> str:
    """agree / minor / major / critical.

    critical: a critical rubric criterion scored 1–2. major: the reviewer disagrees on whether
    there was a violation, or on the most severe action. minor: same outcome for the user but a
    different policy, a different set of lesser actions, or a rubric score under the pass mark.
    """
    original_types = tuple(original_types)
    if critical_miss:
        return Outcome.CRITICAL
    original_violation = original_types != (NO_VIOLATION,)
    if mine.is_violation != original_violation or _most_severe(mine.types) != _most_severe(original_types):
        return Outcome.MAJOR
    if not policy_match or mine.types != original_types or score < pass_mark:
        return Outcome.MINOR
    return Outcome.AGREE


def sample_review(*, sample, decision, scores, actor, feedback: str = "") -> Audit:
    """Record the reviewer's blind decision and rubric scores, compare them with the original and
    send any disagreement to the analyst's inbox. Only the sample's reviewer (or a lead, on an
    unassigned sample or one assigned to nobody who can still do it) may review, never the
    decision's analyst or approver; a sample is reviewed once."""
    _require(actor, "qa.review", "Your role does not review QA samples.")
    mine = decision_parse(decision)
    feedback = _text(feedback, "feedback", "Feedback", required=False)
    with transaction.atomic():
        sample = (
            Sample.objects.select_for_update(of=("self",)).select_related("case")
            .filter(pk=getattr(sample, "pk", sample)).first()
        )
        if sample is None:
            raise NotFound("No such sample.")
        if actor.pk in (sample.analyst_id, sample.approver_id):
            raise NotAllowed("You took part in this decision; someone else must audit it.")
        if sample.reviewer_id != actor.pk and not (can(actor, "qa.manage") and sample.reviewer_id is None):
            raise NotAllowed("This sample is assigned to another reviewer.")
        if sample.status != SampleStatus.DUE:
            raise Conflict(f"Sample {sample.pk} is reviewed already.")
        original = original_decision(sample)
        rubric = rubric_for_case(sample.case)
        if rubric is None:
            raise Conflict("No rubric is set up; an admin must create the default rubric.")
        clean, score, critical = rubric_score(rubric, scores)
        policy_match = (mine.policy is None and not mine.is_violation) or (
            mine.policy is not None and mine.policy.pk == original["policy"].pk)
        if not mine.is_violation and original["types"] == (NO_VIOLATION,):
            policy_match = True
        outcome = audit_outcome(mine=mine, original_types=original["types"], policy_match=policy_match, score=score,
                                pass_mark=rubric.pass_mark, critical_miss=critical)
        now = timezone.now()
        audit = Audit.objects.create(
            sample=sample, reviewer=actor, rubric=rubric, policy=mine.policy, action_types=list(mine.types),
            scores=clean, score=score, critical_miss=critical, original_policy=original["policy"],
            original_action_types=list(original["types"]), policy_match=policy_match,
            actions_match=mine.types == original["types"], outcome=outcome, final_outcome=outcome,
            feedback=feedback, created_at=now,
        )
        sample.status, sample.reviewed_at, sample.reviewer = SampleStatus.REVIEWED, now, actor
        sample.save(update_fields=["status", "reviewed_at", "reviewer"])
        event_record(sample.case, verb=Verb.QA_AUDITED, actor=actor, at=now, data={
            "sample": sample.pk, "audit": audit.pk, "outcome": outcome, "score": score, "decision": str(sample.decision_ref),
        })
        if outcome != Outcome.AGREE or feedback:
            Feedback.objects.create(audit=audit, analyst_id=sample.analyst_id, created_at=now)
            users_notify([Notice(
                user=original["analyst"], kind="qa.feedback", url=reverse("qa-feedback"),
                title=f"QA feedback on case {sample.case_id}: {Outcome(outcome).label.lower()}",
                body=feedback[:500], key=f"qa:audit{audit.pk}:feedback",
            )])
    return audit


# --------------------------------------------------------------------------- feedback, disputes, corrections


def _feedback_of(actor, feedback) -> Feedback:
    item = (
        Feedback.objects.select_for_update(of=("self",)).select_related("audit__sample__case")
        .filter(pk=getattr(feedback, "pk", feedback)).first()
    )
    if item is None or item.analyst_id != actor.pk:
        raise NotFound("No such feedback in your inbox.")
    return item


def feedback_acknowledge(*, feedback, actor) -> Feedback:
    """The analyst confirms they have read the feedback and accept it."""
    with transaction.atomic():
        item = _feedback_of(actor, feedback)
        if item.status != FeedbackStatus.NEW:
            raise Conflict(f"This feedback is {item.get_status_display().lower()} already.")
        now = timezone.now()
        item.status, item.acknowledged_at = FeedbackStatus.ACKNOWLEDGED, now
        item.save(update_fields=["status", "acknowledged_at"])
        event_record(item.audit.sample.case, verb=Verb.QA_FEEDBACK_ACKNOWLEDGED, actor=actor, at=now,
                     data={"audit": item.audit_id})
    return item


def feedback_dispute(*, feedback, reason, actor) -> Dispute:
    """The analyst contests the audit, saying why; a lead arbitrates."""
    reason = _text(reason, "reason", "A reason for the dispute", required=True)
    with transaction.atomic():
        item = _feedback_of(actor, feedback)
        if item.status not in (FeedbackStatus.NEW, FeedbackStatus.ACKNOWLEDGED):
            raise Conflict(f"This feedback is {item.get_status_display().lower()}; it can be disputed once.")
        now = timezone.now()
        item.status = FeedbackStatus.DISPUTED
        item.save(update_fields=["status"])
        dispute = Dispute.objects.create(feedback=item, reason=reason, created_at=now)
        event_record(item.audit.sample.case, verb=Verb.QA_DISPUTED, actor=actor, at=now,
                     data={"audit": item.audit_id, "dispute": dispute.pk})
    return dispute


def dispute_rule(*, dispute, ruling: str, actor, note: str = "", outcome: str = "") -> Dispute:
    """A lead who is neither the reviewer nor the analyst rules: the audit is upheld, or
    overturned (with the outcome it should have had; default agree)."""
    _require(actor, "qa.manage", "Only a lead may arbitrate disputes.")
    if ruling not in Dispute.Ruling.values:
        raise InvalidInput("Rule \"upheld\" or \"overturned\".", field_errors={"ruling": ["upheld or overturned"]})
    note = _text(note, "note", "A note explaining the ruling", required=True)
    if ruling == Dispute.Ruling.OVERTURNED:
        outcome = outcome or Outcome.AGREE
        if outcome not in Outcome.values:
            raise InvalidInput("Unknown outcome.", field_errors={"outcome": [f"One of {', '.join(Outcome.values)}."]})
    with transaction.atomic():
        d = (
            Dispute.objects.select_for_update(of=("self",)).select_related("feedback__audit__sample__case")
            .filter(pk=getattr(dispute, "pk", dispute)).first()
        )
        if d is None:
            raise NotFound("No such dispute.")
        if d.ruling:
            raise Conflict("This dispute has been ruled on already.")
        audit = d.feedback.audit
        if actor.pk in (audit.reviewer_id, d.feedback.analyst_id, audit.sample.approver_id):
            raise NotAllowed("You took part in this audit or decision; another lead must arbitrate.")
        now = timezone.now()
        d.ruling, d.arbiter, d.arbiter_note, d.ruled_at = ruling, actor, note, now
        d.ruled_outcome = outcome if ruling == Dispute.Ruling.OVERTURNED else audit.outcome
        d.save(update_fields=["ruling", "arbiter", "arbiter_note", "ruled_at", "ruled_outcome"])
        d.feedback.status = FeedbackStatus.UPHELD if ruling == Dispute.Ruling.UPHELD else FeedbackStatus.OVERTURNED
        d.feedback.save(update_fields=["status"])
        audit.final_outcome = d.ruled_outcome
        audit.save(update_fields=["final_outcome"])
        event_record(audit.sample.case, verb=Verb.QA_DISPUTE_RULED, actor=actor, at=now, data={
            "audit": audit.pk, "dispute": d.pk, "ruling": ruling, "outcome": d.ruled_outcome,
        })
        users_notify([Notice(
            user=d.feedback.analyst, kind="qa.dispute_ruled", url=reverse("qa-feedback"),
            title=f"Your QA dispute on case {audit.sample.case_id}: {d.get_ruling_display().lower()}",
            body=note[:500], key=f"qa:dispute{d.pk}:ruled",
        )])
    return d


def _added_specs(decision, added: list[str]) -> list[dict]:
    """The requested actions of the added types, as enforcement takes them (type, duration, target)."""
    specs = []
    for item in decision.get("actions") or []:
        spec = dict(item) if isinstance(item, dict) else {"type": item}
        if spec.get("type") in added and all(s["type"] != spec["type"] for s in specs):
            specs.append(spec)
    return specs


def audit_correct(*, audit, decision, reason, actor, statement: str = "") -> Correction:
    """A lead corrects an audited decision through enforcement's services.

    The original's restrictions that the corrected decision drops are reversed with
    enforcement's `action_reverse`; those it adds are taken as a new decision on the case with
    enforcement's `decision_take` (as a modified appeal does), with the user-facing `statement`
    and a duration where the action needs one; no second strike while the original's counts.
    The user hears through the platform (`enforcement.reversed` / `enforcement.applied`) only
    when their outcome changes: a correction of the policy alone tells nobody. A decision an
    appeal overturned or modified is not made stricter here: the appeal's outcome stands.
    """
    _require(actor, "qa.manage", "Only a lead may correct decisions.")
    corrected = decision_parse(decision)
    reason = _text(reason, "reason", "A reason for the correction", required=True)
    with transaction.atomic():
        audit = (
            Audit.objects.select_for_update(of=("self",)).select_related("sample__case", "original_policy")
            .filter(pk=getattr(audit, "pk", audit)).first()
        )
        if audit is None:
            raise NotFound("No such audit.")
        if hasattr(audit, "correction"):
            raise Conflict("This decision has been corrected already.")
        if audit.final_outcome == Outcome.AGREE:
            raise Conflict("The audit agrees with the decision; there is nothing to correct.")
        sample = audit.sample
        if actor.pk in (sample.analyst_id, sample.approver_id):
            raise NotAllowed("You took part in this decision; another lead must correct it.")
        actions = list(EnforcementAction.objects.filter(decision_ref=sample.decision_ref).order_by("id"))
        in_force = [a for a in actions if a.status in (ActionStatus.ACTIVE, ActionStatus.EXPIRED)
                    and a.action_type != NO_VIOLATION]
        original_types = {a.action_type for a in actions}
        if corrected.types == tuple(sorted(original_types)) and (corrected.policy or audit.original_policy) == audit.original_policy:
            raise Conflict("The corrected decision is the same as the original.")
        added = [t for t in corrected.types if t != NO_VIOLATION and t not in {a.action_type for a in in_force}]
        if added:
            appeal = appeal_selectors.decision_overturned_by(sample.decision_ref)
            if appeal is not None:
                labels = ", ".join(ActionType(t).label.lower() for t in added)
                raise Conflict(
                    f"Appeal #{appeal.pk} {appeal.get_outcome_display().lower()} this decision on "
                    f"{appeal.decided_at:%Y-%m-%d}; a correction cannot add {labels} over the appeal's outcome.")
        drop = [a for a in in_force if a.action_type not in corrected.types]
        for action in drop:
            action_reverse(action=action, reason=f"QA correction: {reason}", actor=actor)
        new_actions = []
        if added:
            new_actions = decision_take(
                case=sample.case, actions=_added_specs(decision, added), rationale=f"QA correction: {reason}",
                statement=statement, actor=actor, correction_ref=f"qa-audit{audit.pk}", supersedes=sample.decision_ref,
                policy=corrected.policy or audit.original_policy)
        now = timezone.now()
        correction = Correction.objects.create(
            audit=audit, lead=actor, policy=corrected.policy, action_types=list(corrected.types), reason=reason,
            reversed_actions=[a.pk for a in drop], added_actions=[a.pk for a in new_actions],
            new_decision_ref=new_actions[0].decision_ref if new_actions else None,
            user_notified=bool(drop or new_actions), created_at=now,
        )
        event_record(sample.case, verb=Verb.QA_CORRECTED, actor=actor, at=now, data={
            "audit": audit.pk, "decision": str(sample.decision_ref), "corrected": list(corrected.types),
            "policy": corrected.policy.slug if corrected.policy else None, "reversed": correction.reversed_actions,
            "added": correction.added_actions,
            "new_decision": str(correction.new_decision_ref) if correction.new_decision_ref else None,
            "user_notified": correction.user_notified,
        })
    return correction


# --------------------------------------------------------------------------- calibration


def calibration_create(*, title, cases, participants, actor, golden: dict | None = None) -> CalibrationSession:
    """A lead builds a session from resolved cases and invites analysts and QA reviewers.
    `golden` optionally maps case id → {"decision": ..., "rationale": ...}."""
    _require(actor, "qa.manage", "Only a lead may run calibration sessions.")
    title = _text(title, "title", "A title", required=True)[:200]
    if not isinstance(cases, list) or not cases or len(cases) > MAX_CALIBRATION_CASES:
        raise InvalidInput(f"Choose 1 to {MAX_CALIBRATION_CASES} cases.", field_errors={"cases": [f"1 to {MAX_CALIBRATION_CASES} case ids."]})
    try:
        case_ids = list(dict.fromkeys(int(c) for c in cases))
    except (TypeError, ValueError):
        raise InvalidInput("Cases are case ids.", field_errors={"cases": ["A list of case ids."]})
    found = set(Case.objects.filter(pk__in=case_ids, status=CaseStatus.RESOLVED).values_list("pk", flat=True))
    missing = [c for c in case_ids if c not in found]
    if missing:
        raise InvalidInput(f"These are not resolved cases: {', '.join(map(str, missing))}.",
                           field_errors={"cases": [f"Not resolved or unknown: {missing}"]})
    if not isinstance(participants, list) or len(participants) < 2 or len(participants) > MAX_CALIBRATION_PARTICIPANTS:
        raise InvalidInput("Invite at least two participants.", field_errors={"participants": ["2 or more usernames."]})
    names = list(dict.fromkeys(str(p) for p in participants))
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
    bad = [n for n in names if n not in users or not can(users[n], "calibration.participate")]
    if bad:
        raise InvalidInput(f"Not analysts or QA reviewers: {', '.join(bad)}.", field_errors={"participants": [f"Cannot take part: {bad}"]})
    golden = golden or {}
    parsed_golden = {}
    for key, value in golden.items():
        if int(key) not in found:
            raise InvalidInput(f"Golden answer for case {key}, which is not in the session.", field_errors={"golden": ["Unknown case."]})
        parsed_golden[int(key)] = (decision_parse(value.get("decision"), field="golden").category,
                                   _text(value.get("rationale"), "golden", "The golden answer's rationale", required=True))
    with transaction.atomic():
        now = timezone.now()
        session = CalibrationSession.objects.create(title=title, created_by=actor, created_at=now)
        CalibrationCase.objects.bulk_create([
            CalibrationCase(session=session, case_id=c, position=i, golden_category=parsed_golden.get(c, ("", ""))[0],
                            golden_rationale=parsed_golden.get(c, ("", ""))[1])
            for i, c in enumerate(case_ids)
        ])
        CalibrationParticipant.objects.bulk_create([CalibrationParticipant(session=session, user=users[n]) for n in names])
        audit_record(actor=actor, verb="qa.calibration_created", object_type="calibration", object_ref=session.pk,
                     data={"cases": case_ids, "participants": names})
        users_notify([
            Notice(user=users[name], kind="qa.calibration", url=reverse("qa-calibration", args=[session.pk]),
                   title=f"Calibration: {title}", body=f"{len(case_ids)} cases to decide blind.",
                   key=f"qa:calibration{session.pk}:{users[name].pk}")
            for name in names
        ])
    return session


def calibration_golden_set(*, session, case, decision, rationale, actor) -> CalibrationCase:
    """The lead sets (or changes, while open) the golden answer of a case, with a rationale."""
    _require(actor, "qa.manage", "Only a lead may set golden answers.")
    category = decision_parse(decision).category
    rationale = _text(rationale, "rationale", "A rationale for the golden answer", required=True)
    with transaction.atomic():
        s = CalibrationSession.objects.select_for_update().filter(pk=getattr(session, "pk", session)).first()
        if s is None:
            raise NotFound("No such calibration session.")
        if s.status != CalibrationSession.Status.OPEN:
            raise Conflict("The session is closed.")
        item = CalibrationCase.objects.filter(session=s, case_id=int(case)).first()
        if item is None:
            raise InvalidInput(f"Case {case} is not in this session.", field_errors={"case": ["Not in the session."]})
        item.golden_category, item.golden_rationale = category, rationale
        item.save(update_fields=["golden_category", "golden_rationale"])
        audit_record(actor=actor, verb="qa.calibration_golden_set", object_type="calibration", object_ref=s.pk,
                     data={"case": item.case_id, "golden": category})
    return item


def calibration_answer(*, session, case, decision, actor, rationale: str = "") -> CalibrationAnswer:
    """A participant's answer on one case: final once given, while the session is open."""
    mine = decision_parse(decision)
    rationale = _text(rationale, "rationale", "The rationale", required=False)
    with transaction.atomic():
        s = CalibrationSession.objects.select_for_update().filter(pk=getattr(session, "pk", session)).first()
        if s is None or not CalibrationParticipant.objects.filter(session=s, user=actor).exists():
            raise NotFound("No such calibration session among yours.")
        if s.status != CalibrationSession.Status.OPEN:
            raise Conflict("The session is closed; answers are no longer taken.")
        try:
            case_id = int(case)
        except (TypeError, ValueError):
            raise InvalidInput("The case is a case id.", field_errors={"case": ["A case id."]})
        item = CalibrationCase.objects.filter(session=s, case_id=case_id).first()
        if item is None:
            raise InvalidInput(f"Case {case_id} is not in this session.", field_errors={"case": ["Not in the session."]})
        try:
            with transaction.atomic():
                return CalibrationAnswer.objects.create(item=item, user=actor, policy=mine.policy, category=mine.category,
                                                        rationale=rationale, created_at=timezone.now())
        except IntegrityError:
            raise Conflict(f"You answered case {case_id} already; answers are final.")


def calibration_close(*, session, actor) -> CalibrationSession:
    """The lead closes the session; results (spread, agreement, Fleiss' kappa) are computed once."""
    _require(actor, "qa.manage", "Only a lead may close calibration sessions.")
    with transaction.atomic():
        s = CalibrationSession.objects.select_for_update().filter(pk=getattr(session, "pk", session)).first()
        if s is None:
            raise NotFound("No such calibration session.")
        if s.status != CalibrationSession.Status.OPEN:
            raise Conflict("The session is closed already.")
        s.status, s.closed_at = CalibrationSession.Status.CLOSED, timezone.now()
        s.results = calibration_results(s)
        s.save(update_fields=["status", "closed_at", "results"])
        audit_record(actor=actor, verb="qa.calibration_closed", object_type="calibration", object_ref=s.pk,
                     data={"fleiss_kappa": s.results["fleiss_kappa"]})
    return s


def calibration_results(session: CalibrationSession) -> dict:
    """Per case: the spread of answers, percent agreement, consensus and golden answer; Fleiss'
    kappa over the session and per policy; each participant's agreement with the golden answer
    (where set) or else the consensus (the modal answer, when there is a single one)."""
    from enforcement.selectors import policy_for_category

    items = list(CalibrationCase.objects.filter(session=session).select_related("case__category__parent").order_by("position"))
    answers = list(CalibrationAnswer.objects.filter(item__session=session).select_related("user"))
    by_item: dict[int, list[CalibrationAnswer]] = {i.pk: [] for i in items}
    for a in answers:
        by_item[a.item_id].append(a)
    cases_out, rows_by_policy, all_rows = [], {}, []
    per_person: dict[str, list[bool]] = {}
    for item in items:
        counts = Counter(a.category for a in by_item[item.pk])
        modal = counts.most_common(2)
        consensus = modal[0][0] if modal and (len(modal) == 1 or modal[0][1] > modal[1][1]) else ""
        reference = item.golden_category or consensus
        for a in by_item[item.pk]:
            if reference:
                per_person.setdefault(a.user.username, []).append(a.category == reference)
        policy = policy_for_category(item.case.category)
        key = policy.slug if policy else "none"
        if sum(counts.values()) >= 2:
            rows_by_policy.setdefault(key, []).append(counts)
            all_rows.append(counts)
        cases_out.append({
            "case": item.case_id, "policy": key, "answers": sum(counts.values()), "spread": dict(counts),
            "percent_agreement": agreement.percent_agreement(counts), "consensus": consensus or None,
            "golden": item.golden_category or None, "golden_rationale": item.golden_rationale or None,
        })
    kappa = agreement.fleiss_kappa(all_rows)
    rated = [c["percent_agreement"] for c in cases_out if c["percent_agreement"] is not None]
    return {
        "fleiss_kappa": kappa,
        "percent_agreement": round(sum(rated) / len(rated), 4) if rated else None,
        "kappa_by_policy": {k: agreement.fleiss_kappa(v) for k, v in sorted(rows_by_policy.items())},
        "cases": cases_out,
        "participants": {
            name: {"compared": len(v), "agreement": round(sum(v) / len(v), 4) if v else None}
            for name, v in sorted(per_person.items())
        },
    }
