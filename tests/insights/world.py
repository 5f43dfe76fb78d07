"""Small builders for insights tests: applied actions of every type, with their case and notice."""

from datetime import timedelta

from django.utils import timezone

from enforcement.models import ActionType, dsa_decision_fields
from tests import factories as fx

TEMPORARY = {ActionType.FEATURE_RESTRICTION, ActionType.SUSPENSION, ActionType.TRANSACTION_HOLD,
             ActionType.RESTRICT_VISIBILITY}
CONTENT_TYPES = {ActionType.REMOVE_CONTENT, ActionType.RESTRICT_VISIBILITY}


def applied_action(action_type, *, at=None, status="active", ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
                   source="user_report", visibility_form="", automated=False, policy=None, target=None, case=None,
                   **extra):
    """An applied action of `action_type` on a fresh case (content for content actions) with one notice."""
    at = at or timezone.now()
    subject = target or (fx.ContentFactory() if action_type in CONTENT_TYPES else fx.AccountFactory())
    case = case or fx.CaseFactory(subject=subject, status="resolved", resolution="actioned", resolved_at=at,
                                  opened_at=at - timedelta(hours=5))
    report = fx.ReportFactory(case=case, source=source, received_at=at - timedelta(hours=4))
    ends_at = at + timedelta(days=3) if action_type in TEMPORARY else None
    action = fx.EnforcementActionFactory(
        case=case, target=subject, action_type=action_type, status=status, decision_ground=ground,
        created_at=at, applied_at=at, ends_at=ends_at, automated_detection=automated,
        **(dict(policy=policy) if policy else {}),
        **dsa_decision_fields(action_type, visibility_form=visibility_form), **extra,
    )
    return action, report


# --------------------------------------------------------------------------- appeals and QA rows


def appeal_on(action, *, outcome="", kind="subject", filed_at=None, decided_at=None, **extra):
    """An appeal (rows only) against `action`'s decision, decided with `outcome` when one is given;
    an overturn marks the contested restriction reversed, as appeals' service would."""
    from appeals.models import Appeal

    filed_at = filed_at or action.applied_at + timedelta(hours=1)
    appeal = fx.AppealFactory(
        decision_case=action.case, decision_ref=action.decision_ref, policy=action.policy,
        action_type=action.action_type, original_decider=action.proposer, decision_applied_at=action.applied_at,
        appellant_kind=kind, filed_at=filed_at, **extra,
    )
    if outcome:
        decided_at = decided_at or filed_at + timedelta(hours=6)
        Appeal.objects.filter(pk=appeal.pk).update(status="decided", outcome=outcome, decided_at=decided_at)
        type(appeal.case).objects.filter(pk=appeal.case_id).update(status="resolved", resolved_at=decided_at)
        if outcome == "overturned" and action.action_type != "no_violation":
            type(action).objects.filter(pk=action.pk).update(status="reversed", reversed_at=decided_at)
        appeal.refresh_from_db()
    return appeal


def audit_on(action, *, outcome, score, reviewer, types=None, at=None, corrected_by=None):
    """A QA sample of `action`'s decision and its audit (rows only): `types` is the reviewer's own
    decision (default: the original's). With `corrected_by`, a lead's correction reverses it."""
    from qa.models import Audit, Correction, Rubric, Sample, SamplingRule, SamplingRuleVersion

    at = at or action.applied_at + timedelta(hours=2)
    rule, _ = SamplingRule.objects.get_or_create(name="insights test rule", defaults={"version": 1})
    version, _ = SamplingRuleVersion.objects.get_or_create(rule=rule, version=1, defaults={"kind": "high_impact"})
    rubric = Rubric.objects.filter(policy__isnull=True).order_by("-version").first() or Rubric.objects.create(version=1)
    sample = Sample.objects.create(
        rule=rule, rule_version=version, decision_ref=action.decision_ref, action=action, case=action.case,
        analyst=action.proposer, reviewer=reviewer, decided_at=action.created_at, status="reviewed",
        due_at=at, created_at=at - timedelta(minutes=30), reviewed_at=at)
    original = [action.action_type]
    audit = Audit.objects.create(
        sample=sample, reviewer=reviewer, rubric=rubric, policy=action.policy, action_types=types or original,
        scores={}, score=score, original_policy=action.policy, original_action_types=original,
        policy_match=True, actions_match=(types or original) == original, outcome=outcome, final_outcome=outcome,
        created_at=at)
    if corrected_by is not None:
        Correction.objects.create(audit=audit, lead=corrected_by, action_types=["no_violation"], reason="Wrong call.",
                                  reversed_actions=[action.pk], user_notified=True, created_at=at)
        type(action).objects.filter(pk=action.pk).update(status="reversed", reversed_at=at)
    return audit
