"""Demo: the team's last three days of work, replayed through the real services at the times they
happened (manage.py seed_demo, after the cases, escalations and enforcement seeders).

Three analysts claim cases soon after they arrive and decide them: most within policy, many along
the strike ladder, a few put on hold for a colleague's help, escalated to the leads, or waiting for a
lead's approval. What is left open is what a team has on its plate at this hour: most cases inside
their SLA, some at risk, a few breached, and each analyst holding a handful in review.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus
from cases.selectors.workspace import case_access_q
from cases.services.escalations import Outcome, case_escalate, escalation_acknowledge, escalation_resolve
from cases.services.workflow import case_claim, case_hold, case_resolve_no_violation, case_resume, note_add
from tsconsole.demo import demo_clock

from . import selectors, services
from .demo import DEMO_PREFIX, _ladder_actions

ANALYSTS = ["analyst", "analyst2", "analyst3"]
LEFT_BREACHED = 3  # overdue cases nobody got to: a few, as on any real day
HELD_IN_REVIEW = 4  # cases each analyst is working on right now
WITHIN_POLICY = [
    "Reviewed the post and the account's history: no breach of policy.",
    "Satire, clearly labelled; the report misread it.",
    "Heated but within the harassment policy: no target, no threat.",
    "Duplicate of a report already acted on.",
]
WORKING_NOTES = [
    "Checking the linked accounts before deciding.",
    "Asked the reporter's case history; reading the earlier reports.",
    "Comparing with last week's similar cases.",
]
RATIONALES = [
    "Matches the reported behaviour; history checked, no context that changes the reading.",
    "Clear violation; the account's earlier strikes are for the same policy.",
    "The evidence shows the behaviour the policy prohibits; no mitigating context found.",
]


def _fraction(case: Case, now) -> float:
    """How much of its resolution window the case had used by `now`."""
    window = (case.resolution_due_at - case.opened_at).total_seconds()
    return (now - case.opened_at).total_seconds() / window if window > 0 else 1.0


def _work(case: Case, analyst, lead, admin, rng: random.Random, now, *, finish: bool) -> str:
    """Claim the case inside (mostly) its first-touch window; if `finish`, decide it minutes later."""
    first_touch = (case.first_touch_due_at - case.opened_at) if case.first_touch_due_at else timedelta(hours=1)
    late = rng.random() < 0.08
    claim_at = case.opened_at + first_touch * (rng.uniform(1.05, 1.6) if late else rng.uniform(0.15, 0.9))
    claim_at = min(claim_at, now - timedelta(minutes=30))
    with demo_clock(claim_at):
        case_claim(case=case.pk, actor=analyst)
    if not finish:
        # Worked on in the last minutes: an idle claim would go back to the queue after its timeout.
        with demo_clock(now - timedelta(minutes=rng.randint(1, 12))):
            note_add(case=case.pk, actor=analyst, body=rng.choice(WORKING_NOTES))
        return "in_review"
    at = claim_at + timedelta(minutes=rng.randint(4, 40))
    roll = rng.random()
    if roll < 0.06:  # a colleague's help first
        with demo_clock(at):
            case_hold(case=case.pk, actor=analyst, helper=lead, reason="Is this the same ring as last week's cases?")
        at += timedelta(minutes=rng.randint(20, 90))
        with demo_clock(at):
            case_resume(case=case.pk, actor=analyst)
        at += timedelta(minutes=5)
    elif roll < 0.10:  # escalated to the leads, who send it back with a ruling
        with demo_clock(at):
            escalation = case_escalate(case=case.pk, actor=analyst, severity=rng.choice(["sev2", "sev3"]), team="leads",
                                       summary="Possible coordinated campaign; needs a lead's call on scope.")
        at += timedelta(minutes=rng.randint(8, 50))
        with demo_clock(at):
            escalation_acknowledge(escalation=escalation.pk, actor=lead)
        at += timedelta(minutes=rng.randint(10, 60))
        with demo_clock(at):
            escalation_resolve(escalation=escalation.pk, actor=lead, outcome=Outcome.RETURN,
                               instructions="Single actor, not a campaign: decide under the usual ladder.")
        at += timedelta(minutes=5)
    at = min(at, now - timedelta(minutes=2))
    policy = selectors.policy_for_category(case.category)
    subject_ok = not (case.subject.kind == "content" and case.subject.author_id is None)
    with demo_clock(at):
        if policy is None or not subject_ok or rng.random() < 0.5:
            case_resolve_no_violation(case=case.pk, actor=analyst, reason=rng.choice(WITHIN_POLICY))
            return "no_violation"
        decision = services.case_decide(
            case=case.pk, actor=analyst, actions=_ladder_actions(case), rationale=rng.choice(RATIONALES),
            statement="We took action because this broke our rules on "
                      f"{case.category.name.lower()}. You can appeal this decision.",
        )
    if decision.requires_approval:
        if at < now - timedelta(hours=3) or rng.random() < 0.5:  # leads clear approvals within hours
            with demo_clock(min(at + timedelta(minutes=rng.randint(15, 120)), now - timedelta(minutes=1))):
                approver = admin if analyst == lead else lead  # nobody approves their own decision
                services.decision_approve(action=decision.actions[0].pk, actor=approver, comment="Agreed.")
            return "approved"
        return "awaiting_approval"
    return "actioned"


def seed() -> str:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[*ANALYSTS, "lead", "admin"])}
    if len(users) < len(ANALYSTS) + 2:
        return "skipped: demo users missing"
    if CaseEvent.objects.filter(actor=users["analyst3"]).exists():
        return "already present"
    rng = random.Random(7)
    now = timezone.now()
    lead = users["lead"]
    cases = list(
        Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True, subject__external_id__startswith=DEMO_PREFIX)
        .select_related("subject", "category", "queue").order_by("opened_at", "id")
    )
    ids = [case.pk for case in cases]
    workable = {name: set(Case.objects.filter(case_access_q(users[name]), pk__in=ids).values_list("pk", flat=True))
                for name in ANALYSTS}
    counts: dict[str, int] = {}
    left_breached = 0
    holding = dict.fromkeys([*ANALYSTS, "lead"], 0)
    for case in cases:
        if case.resolution_due_at is None or case.first_touch_due_at is None:
            continue
        used = _fraction(case, now)
        touch_due = case.first_touch_due_at and case.first_touch_due_at < now
        if used >= 1 and left_breached < LEFT_BREACHED:
            left_breached += 1
            continue
        workers = [name for name in ANALYSTS if case.pk in workable[name]]
        workers = workers or ["lead"]  # queues of teams with no demo analyst (legal requests)
        name = rng.choice(workers)
        if used >= 0.7 or (touch_due and holding[name] >= HELD_IN_REVIEW):
            outcome = _work(case, users[name], lead, users["admin"], rng, now, finish=True)
        elif touch_due:  # past its first-touch time: someone picked it up and is on it
            outcome = _work(case, users[name], lead, users["admin"], rng, now, finish=False)
            holding[name] += 1
        else:
            continue  # arrived recently: waiting in the queue, inside its SLA
        counts[outcome] = counts.get(outcome, 0) + 1
    services.actions_expire()
    return ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in sorted(counts.items())) + \
        f"; {left_breached} left overdue"
