"""Objects the access walk (tests/tsconsole/test_access.py) needs for the QA URLs.

Each helper makes fresh rows when the walk builds the path. The walker (the one user named
"<role>-walker") is made the sample's reviewer, the feedback's analyst and a calibration
participant wherever their role allows, so an allowed role really acts and a refused one is
turned away by its capability alone.
"""

import base64
from datetime import timedelta
from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from cases.models import CaseStatus, Evidence
from qa.models import (
    Audit,
    CalibrationCase,
    CalibrationParticipant,
    CalibrationSession,
    Feedback,
    Sample,
    SamplingRule,
)
from tests.factories import (
    CaseFactory,
    EnforcementActionFactory,
    EvidenceFactory,
    PolicyFactory,
    UserFactory,
    user_with_role,
)
from tsconsole import roles
from tsconsole.roles import can

SCORES = {"correct_policy": 5, "correct_action": 5, "evidence": 5, "rationale": 5, "statement": 5, "procedure": 5}
REVIEW_FORM = {"verdict": "no_violation", **{f"score_{k}": v for k, v in SCORES.items()}}
REVIEW_BODY = {"decision": {"no_violation": True}, "scores": SCORES}


PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _png() -> bytes:
    return PNG_1PX


class QaWorld:
    def __init__(self):
        import_module("qa.migrations.0002_defaults_and_decision_index").seed(apps, None)
        self.policy = PolicyFactory(slug="qa-access-policy")
        self.rule = SamplingRule.objects.filter(is_active=True).order_by("pk").first()
        self.qa_user = user_with_role(roles.QA_REVIEWER, username="access-qa")
        user_with_role(roles.QA_REVIEWER, username="access-qa2")
        self.decider = UserFactory(username="access-decider")

    @staticmethod
    def walker():
        return get_user_model().objects.filter(username__endswith="-walker").first()

    def sample(self, *, reviewed=False, reviewer=None) -> Sample:
        walker = self.walker()
        action = EnforcementActionFactory(policy=self.policy, proposer=self.decider,
                                          created_at=timezone.now() - timedelta(hours=1))
        now = timezone.now()
        if reviewer is None and walker and can(walker, "qa.review") and not can(walker, "qa.manage"):
            reviewer = walker
        return Sample.objects.create(
            rule=self.rule, rule_version=self.rule.versions.order_by("-version").first(), decision_ref=action.decision_ref,
            action=action, case=action.case, analyst=self.decider, reviewer=reviewer, decided_at=action.applied_at,
            due_at=now + timedelta(days=7), created_at=now, status="reviewed" if reviewed else "due")

    def image(self, sample) -> Evidence:
        evidence = EvidenceFactory(case=sample.case, kind=Evidence.Kind.FILE, text_extract="", content_type="image/png",
                                   original_name="shot.png", file=ContentFile(_png(), name="shot.png"))
        Evidence.objects.filter(pk=evidence.pk).update(captured_at=timezone.now() - timedelta(hours=2))
        return evidence

    def audit(self, *, analyst=None) -> Audit:
        sample = self.sample(reviewed=True, reviewer=self.qa_user)
        if analyst is not None:
            Sample.objects.filter(pk=sample.pk).update(analyst=analyst)
        return Audit.objects.create(
            sample=sample, reviewer=self.qa_user, rubric_id=apps.get_model("qa", "Rubric").objects.first().pk,
            action_types=["no_violation"], scores=SCORES, score=100, original_policy=self.policy,
            original_action_types=["warn"], policy_match=False, actions_match=False, outcome="major",
            final_outcome="major", created_at=timezone.now())

    def feedback(self) -> Feedback:
        walker = self.walker() or self.decider
        audit = self.audit(analyst=walker)
        return Feedback.objects.create(audit=audit, analyst=walker, created_at=timezone.now())

    def dispute(self):
        from qa.models import Dispute

        feedback = Feedback.objects.create(audit=self.audit(), analyst=self.decider, created_at=timezone.now(), status="disputed")
        return Dispute.objects.create(feedback=feedback, reason="walked", created_at=timezone.now())

    def resolved_case(self):
        return CaseFactory(status=CaseStatus.RESOLVED)

    def session(self) -> CalibrationSession:
        walker = self.walker()
        session = CalibrationSession.objects.create(title="walked", created_by=UserFactory(username="access-lead"),
                                                    created_at=timezone.now())
        self.case = self.resolved_case()
        CalibrationCase.objects.create(session=session, case=self.case, position=0)
        for user in {self.qa_user, *( [walker] if walker and can(walker, "calibration.participate") else [])}:
            CalibrationParticipant.objects.create(session=session, user=user)
        return session
