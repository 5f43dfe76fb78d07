"""Demo enforcement: a few decided cases, one waiting for a lead, an expired and a reversed action.

Everything goes through the services (claim, decide, approve, expire, reverse), so the demo shows
the same events, strikes and outbox rows as real use. Runs after the cases seeder.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Case, CaseStatus, Subject
from cases.services.workflow import case_claim

from . import selectors, services
from .models import ActionType, EnforcementAction

DEMO_PREFIX = "demo-"


def _candidates(wanted: int) -> list[Case]:
    """Open demo cases in queues every analyst may work, whose account is not high-impact."""
    cases = (
        Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True, subject__external_id__startswith=DEMO_PREFIX,
                            queue__allowed_teams__isnull=True)
        .select_related("subject", "subject__author", "category", "queue").order_by("id")
    )
    chosen = []
    for case in cases:
        if selectors.policy_for_category(case.category) is None or selectors.high_impact_reasons(case.subject):
            continue
        if case.subject.kind == Subject.Kind.CONTENT and case.subject.author_id is None:
            continue
        chosen.append(case)
        if len(chosen) == wanted:
            break
    return chosen


def _ladder_actions(case: Case) -> list[dict]:
    """What the policy's ladder suggests, plus removing the content when the subject is content."""
    account = selectors.responsible_account(case.subject)
    step = selectors.ladder_suggestion(account, selectors.policy_for_category(case.category))
    actions = [{"type": ActionType.REMOVE_CONTENT}] if case.subject.kind == Subject.Kind.CONTENT else []
    item = {"type": step["action"]}
    if case.subject.kind == Subject.Kind.CONTENT:
        item["target"] = "author"  # the ladder's step is for the account behind the content
    if step.get("duration_hours"):
        item["duration_hours"] = step["duration_hours"]
    return actions + [item]


def seed() -> str:
    User = get_user_model()
    if EnforcementAction.objects.filter(case__subject__external_id__startswith=DEMO_PREFIX).exists():
        return "already present"
    analyst = User.objects.filter(username="analyst").first()
    lead = User.objects.filter(username="lead").first()
    admin = User.objects.filter(username="admin").first()
    if analyst is None or lead is None or admin is None:
        return "skipped: demo users missing"
    cases = _candidates(6)
    if len(cases) < 6:
        return f"skipped: only {len(cases)} suitable open demo cases"
    for case in cases:
        case_claim(case=case.pk, actor=analyst)
    decided, plain, pending, expiring, reversing, ladder_case = cases[0], cases[1], cases[2], cases[3], cases[4], cases[5]

    # Decided along the ladder, the statement from a macro.
    services.case_decide(
        case=decided.pk, actor=analyst, actions=_ladder_actions(decided),
        rationale="Matches the reported behaviour; history checked, no context that changes the reading.",
        macro="removed-content" if decided.subject.kind == Subject.Kind.CONTENT else "warning",
        macro_values={"reason": "Please review our rules before posting again."},
    )
    # No violation.
    services.case_decide(
        case=plain.pk, actor=analyst, actions=[{"type": ActionType.NO_VIOLATION}],
        rationale="Satire account, clearly labelled; the report misread the post.",
    )
    # A termination waits for a lead under the two-person rule.
    services.case_decide(
        case=pending.pk, actor=analyst, actions=[{"type": ActionType.TERMINATION}],
        rationale="Third coordinated campaign from linked accounts this month; see linked accounts panel.",
        statement="Your account is terminated for repeated, coordinated violations of our rules.",
        departure_reason="Ring behaviour across linked accounts: the ladder's single-account steps understate it.",
    )
    # A feature restriction that has run its course: dated back a day, then ended by the expiry sweep.
    expiring_decision = services.case_decide(
        case=expiring.pk, actor=analyst,
        actions=[{"type": ActionType.FEATURE_RESTRICTION, "duration_hours": 24}],
        rationale="Repeated low-level spam replies.",
        statement="You cannot reply to posts for 24 hours because your replies were spam.",
        departure_reason="Short restriction is enough for a first spam burst.",
    )
    now = timezone.now()
    EnforcementAction.objects.filter(pk__in=[a.pk for a in expiring_decision.actions]).update(
        applied_at=now - timedelta(hours=30), ends_at=now - timedelta(hours=6))
    services.actions_expire()
    # A suspension reversed by a lead.
    reversed_decision = services.case_decide(
        case=reversing.pk, actor=analyst,
        actions=[{"type": ActionType.SUSPENSION, "duration_hours": 72}],
        rationale="Threatening replies to a journalist.",
        statement="Your account is suspended for 3 days because you threatened another person.",
        departure_reason="Threats to a named person: straight to a suspension.",
    )
    services.action_reverse(
        action=reversed_decision.actions[0].pk, actor=lead,
        reason="The replies quoted a film; context the report did not show.",
    )
    # One more along the ladder, approved by a lead if the subject needed it.
    other = services.case_decide(
        case=ladder_case.pk, actor=analyst, actions=_ladder_actions(ladder_case),
        rationale="Clear violation of the policy; no mitigating context.",
        statement="We took action on your account because it broke our rules.",
    )
    if other.requires_approval:
        services.decision_approve(action=other.actions[0].pk, actor=admin, comment="Agreed.")
    return "4 decided cases, 1 awaiting approval, 1 expired and 1 reversed action"
