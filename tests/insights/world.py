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
