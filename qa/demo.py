"""Demo QA: more decided cases, a sampling pass, audits in every outcome (one acknowledged, one
disputed), samples still due for the `qa` user, and one closed calibration session.

Everything goes through the services (claim, decide, draw, review, acknowledge, dispute,
calibrate), so the demo shows the same rows and events as real use. Runs after enforcement's seeder.
"""

from django.contrib.auth import get_user_model

from cases.models import Case, CaseStatus, Subject
from cases.services.workflow import case_claim
from enforcement import selectors as enforcement_selectors
from enforcement.services import case_decide

from . import sampling, services
from .models import Audit, CalibrationSession, Outcome, Sample, SampleStatus

DEMO_PREFIX = "demo-"
PERFECT = {"correct_policy": 5, "correct_action": 5, "evidence": 5, "rationale": 5, "statement": 5, "procedure": 5}


def _decide_more(analyst, wanted: int) -> int:
    """Claim and decide a few more open demo cases as `analyst` (warnings and no-violation)."""
    cases = (
        Case.objects.filter(status=CaseStatus.OPEN, assignee__isnull=True, subject__external_id__startswith=DEMO_PREFIX,
                            queue__allowed_teams__isnull=True, subject__kind=Subject.Kind.ACCOUNT)
        .select_related("subject", "category").order_by("id")
    )
    done = 0
    for case in cases:
        if done == wanted:
            break
        policy = enforcement_selectors.policy_for_category(case.category)
        if policy is None or enforcement_selectors.high_impact_reasons(case.subject):
            continue
        suggestion = enforcement_selectors.ladder_suggestion(case.subject, policy) or {}
        case_claim(case=case.pk, actor=analyst)
        if done % 2:
            case_decide(case=case.pk, actor=analyst, actions=[{"type": "no_violation"}],
                        rationale="Heated but within the rules; no target named.")
        else:
            item = {"type": suggestion.get("action", "warn")}
            if suggestion.get("duration_hours"):
                item["duration_hours"] = suggestion["duration_hours"]
            case_decide(case=case.pk, actor=analyst, actions=[item], rationale="Matches the report; first offence on record.",
                        statement="We took action on your account because it broke our rules.")
        done += 1
    return done


def _mirror(sample: Sample) -> dict:
    original = services.original_decision(sample)
    if original["types"] == ("no_violation",):
        return {"no_violation": True}
    return {"policy": original["policy"].slug, "actions": [{"type": t} for t in original["types"]]}


def _opposite(sample: Sample) -> dict:
    original = services.original_decision(sample)
    if original["types"] == ("no_violation",):
        return {"policy": original["policy"].slug, "actions": [{"type": "warn"}]}
    return {"no_violation": True}


def seed() -> str:
    User = get_user_model()
    if Audit.objects.filter(sample__case__subject__external_id__startswith=DEMO_PREFIX).exists():
        return "already present"
    users = {u.username: u for u in User.objects.filter(username__in=["analyst", "analyst2", "lead", "qa"])}
    if len(users) < 4:
        return "skipped: demo users missing"
    _decide_more(users["analyst2"], 4)
    drawn = sampling.samples_draw()
    due = list(Sample.objects.filter(reviewer=users["qa"], status=SampleStatus.DUE).order_by("id"))
    if len(due) < 5:
        return f"skipped: only {len(due)} samples for the qa user"
    qa = users["qa"]
    plans = [
        (Outcome.AGREE, _mirror, PERFECT, ""),
        (Outcome.MINOR, _mirror, {k: 3 for k in PERFECT}, "Right call; the rationale does not say which report you relied on."),
        (Outcome.MAJOR, _opposite, PERFECT, "I read this the other way: see the second report's context."),
        (Outcome.CRITICAL, _mirror, {**PERFECT, "correct_policy": 1},
         "Right action under the wrong policy: this is harassment, not spam."),
    ]
    audits = {}
    for sample, (outcome, decide, scores, feedback) in zip(due, plans, strict=False):
        audits[outcome] = services.sample_review(sample=sample, decision=decide(sample), scores=scores, feedback=feedback,
                                                 actor=qa)
    for outcome, audit in audits.items():
        item = getattr(audit, "feedback_item", None)
        if item is None:
            continue
        analyst = audit.sample.analyst
        if outcome == Outcome.MINOR:
            services.feedback_acknowledge(feedback=item, actor=analyst)
        elif outcome == Outcome.MAJOR:
            services.feedback_dispute(feedback=item, actor=analyst,
                                      reason="The account had a prior warning for the same thing; the ladder applied.")
    resolved = list(
        Case.objects.filter(status=CaseStatus.RESOLVED, subject__external_id__startswith=DEMO_PREFIX,
                            enforcement_actions__isnull=False).distinct().order_by("id").values_list("pk", flat=True)[:3]
    )
    session = None
    if len(resolved) == 3 and not CalibrationSession.objects.exists():
        session = services.calibration_create(title="Demo calibration: week 49", cases=resolved,
                                              participants=["analyst", "analyst2", "qa"], actor=users["lead"])
        answers = {
            "analyst": [{"no_violation": True}, {"no_violation": True}, {"no_violation": True}],
            "analyst2": [{"no_violation": True}, {"no_violation": True}, {"no_violation": True}],
            "qa": [{"no_violation": True}, {"no_violation": True}, {"no_violation": True}],
        }
        for case_id, i in zip(resolved, range(3), strict=True):
            policy = Case.objects.get(pk=case_id).enforcement_actions.first().policy.slug
            answers["analyst"][i] = {"policy": policy, "actions": [{"type": "warn"}]}
            if i != 1:
                answers["qa"][i] = {"policy": policy, "actions": [{"type": "warn"}]}
            if i == 2:
                answers["analyst2"][i] = {"policy": policy, "actions": [{"type": "suspension"}]}
        for name, per_case in answers.items():
            for case_id, decision in zip(resolved, per_case, strict=True):
                services.calibration_answer(session=session, case=case_id, decision=decision, actor=users[name])
        services.calibration_close(session=session, actor=users["lead"])
    left = Sample.objects.filter(reviewer=qa, status=SampleStatus.DUE).count()
    return (f"{sum(drawn.values())} samples, audits {', '.join(sorted(audits))}, {left} still due for qa"
            + (", 1 closed calibration session" if session else ""))
