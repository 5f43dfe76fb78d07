"""Demo escalations (manage.py seed_demo): one waiting for child safety to acknowledge, one that
the leads took and are working on. Runs after the cases seeder; adds nothing the second time."""

from django.contrib.auth import get_user_model

from .models import Case, CaseStatus, Escalation
from .selectors.workspace import case_access_q
from .services.escalations import case_escalate, escalation_add_findings


def seed() -> str:
    if Escalation.objects.exists():
        return "already present"
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["analyst2", "lead"])}
    if len(users) < 2:
        return "skipped: the demo users are missing"
    open_cases = list(Case.objects.filter(
        case_access_q(users["analyst2"]), status=CaseStatus.OPEN, assignee__isnull=True,
    ).select_related("subject").order_by("priority", "id")[:2])
    if len(open_cases) < 2:
        return "skipped: no open cases"
    case_escalate(
        case=open_cases[0], actor=users["analyst2"], severity="sev2", team="child-safety",
        summary="Account contacts several minors with the same script; reports from two of them.",
        impacted_ids=[open_cases[0].subject.external_id], evidence_links=[f"/cases/{open_cases[0].pk}/"],
        recommended_next_steps="Review the message history; preserve it for a hotline report if confirmed.",
    )
    second = case_escalate(
        case=open_cases[1], actor=users["analyst2"], severity="sev3", team="leads",
        summary="Unclear whether satire of a public figure crosses into harassment.",
        recommended_next_steps="Decide under the harassment policy; add the ruling to the policy notes.",
    )
    escalation_add_findings(escalation=second.pk, actor=users["lead"],
                            findings="Comparable to last month's ruling on parody accounts; checking the policy notes.")
    return "2 escalations (one open, one acknowledged)"
