"""Many decisions at once for sampling tests: resolved cases and applied actions written with
bulk_create (the sampler reads rows; how they were decided is tested in enforcement)."""

import uuid
from datetime import timedelta

from django.utils import timezone

from cases.models import Case, CaseStatus
from enforcement.models import EnforcementAction
from tests.factories import AccountFactory


def bulk_decisions(n, *, analysts, policy, queue, category, action_type="warn", at=None, spread_minutes=1,
                   requires_approval=False, approver=None):
    """`n` one-action decisions, round-robin over `analysts`, applied a minute apart ending at `at`."""
    at = at or timezone.now() - timedelta(minutes=1)
    subject = AccountFactory()
    times = [at - timedelta(minutes=spread_minutes * i) for i in range(n)]
    cases = Case.objects.bulk_create([
        Case(subject=subject, queue=queue, category=category, status=CaseStatus.RESOLVED, opened_at=t,
             resolved_at=t, resolution=Case.Resolution.ACTIONED)
        for t in times
    ], batch_size=2000)
    version = policy.versions.get(version=policy.version)
    EnforcementAction.objects.bulk_create([
        EnforcementAction(
            decision_ref=uuid.uuid4(), case=case, target=subject, policy=policy, policy_version=version,
            action_type=action_type, status="active", decision_ground=version.decision_ground,
            category=category.dsa_category, rationale="bulk", statement="bulk", created_at=t, applied_at=t,
            proposer=analysts[i % len(analysts)], requires_approval=requires_approval,
            reviewer=approver if requires_approval else None,
        )
        for i, (case, t) in enumerate(zip(cases, times, strict=True))
    ], batch_size=2000)
    return cases
