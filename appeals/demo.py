"""Demo appeals: one waiting in the queue, one a reviewer is working, a notifier's appeal against a
"no violation" decision, one upheld and one overturned.

Everything goes through the services (file, claim, decide), so the demo shows the same cases,
events, reversals and outbox rows as real use. Runs after the enforcement seeder.
"""

from django.contrib.auth import get_user_model

from cases.models import Report
from cases.services.workflow import case_claim
from enforcement.models import ActionStatus, ActionType, EnforcementAction
from enforcement.selectors import responsible_account

from . import services
from .models import Appeal

DEMO_PREFIX = "demo-"
SOURCE = "demo-platform"


def _decisions() -> dict[str, EnforcementAction]:
    """One action of each demo decision that can be appealed, keyed by what it is."""
    found: dict[str, EnforcementAction] = {}
    seen = set()
    actions = (
        EnforcementAction.objects.filter(case__subject__external_id__startswith=DEMO_PREFIX,
                                         status__in=(ActionStatus.ACTIVE, ActionStatus.EXPIRED))
        .select_related("case", "target", "target__author").order_by("id")
    )
    for action in actions:
        if action.action_type == ActionType.NO_VIOLATION:
            found.setdefault("no_violation", action)
        elif action.status == ActionStatus.EXPIRED:
            found.setdefault("expired", action)
        elif responsible_account(action.target) is not None and action.decision_ref not in seen:
            found.setdefault("second" if "first" in found else "first", action)
        seen.add(action.decision_ref)
    return found


def _file(action, key: str, words: str, actor, *, notifier: str = ""):
    appellant = notifier or responsible_account(action.target).external_id
    return services.appeal_file(
        decision=action.decision_ref, appellant_kind="notifier" if notifier else "subject", appellant_ref=appellant,
        source=SOURCE, external_id=f"demo-appeal-{key}", statement=words, actor=actor,
    ).appeal


def seed() -> str:
    User = get_user_model()
    if Appeal.objects.filter(source=SOURCE).exists():
        return "already present"
    platform = User.objects.filter(groups__name="integration").first() or User.objects.filter(username="admin").first()
    analyst2 = User.objects.filter(username="analyst2").first()
    lead = User.objects.filter(username="lead").first()
    if platform is None or analyst2 is None or lead is None:
        return "skipped: demo users missing"
    found = _decisions()
    made = []
    if "first" in found:
        _file(found["first"], "waiting", "I was quoting the other person to call them out, not agreeing with them. "
              "Please look at the whole thread.", platform)
        made.append("1 waiting")
    if "expired" in found:
        appeal = _file(found["expired"], "upheld", "My replies were not spam, I was answering questions.", platform)
        case_claim(case=appeal.case_id, actor=analyst2)
        services.appeal_decide(
            appeal=appeal, outcome="upheld", actor=analyst2,
            rationale="Forty identical link replies in ten minutes; the restriction fits the policy.",
            statement="We reviewed your appeal. Your replies repeated the same link many times in a few minutes, "
                      "which our rules treat as spam, so the restriction stands.",
        )
        made.append("1 upheld")
    if "second" in found:
        appeal = _file(found["second"], "overturned", "This was a joke between friends, they can confirm it.", platform)
        case_claim(case=appeal.case_id, actor=lead)
        services.appeal_decide(
            appeal=appeal, outcome="overturned", actor=lead,
            rationale="The thread shows both accounts bantering for years; the reported post is not harassment.",
            statement="We reviewed your appeal and agree: the post was not harassment. We lifted the restriction "
                      "and removed the strike.",
        )
        made.append("1 overturned")
    plain = found.get("no_violation")
    reporter = Report.objects.filter(case_id=plain.case_id).exclude(reporter_ref="").values_list(
        "reporter_ref", flat=True).first() if plain else None
    if reporter:
        appeal = _file(plain, "notifier", "The account keeps posting my home address; it is not satire.", platform,
                       notifier=reporter)
        case_claim(case=appeal.case_id, actor=analyst2)
        made.append("1 notifier's appeal in review")
    return ", ".join(made) or "skipped: no appealable demo decisions"
