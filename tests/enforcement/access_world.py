"""Objects the access walk (tests/tsconsole/test_access.py) needs for the enforcement URLs.

Each helper makes a fresh object when the walk builds the path, so an allowed role really
performs the action (2xx/3xx) and a refused role is turned away by its capability alone.
"""

from cases.models import CaseStatus
from tests.factories import CaseFactory, EnforcementActionFactory, PolicyFactory, UserFactory

POLICY_SLUG = "access-policy"


class EnforcementWorld:
    def __init__(self):
        self.policy = PolicyFactory(slug=POLICY_SLUG)
        self.proposer = UserFactory(username="access-proposer")
        self.action = EnforcementActionFactory(policy=self.policy)

    def active(self):
        """An action in effect (for reversal)."""
        return EnforcementActionFactory(policy=self.policy)

    def pending(self):
        """A decision awaiting approval, proposed by someone other than the walker."""
        case = CaseFactory(status=CaseStatus.AWAITING_APPROVAL)
        return EnforcementActionFactory(
            case=case, policy=self.policy, status="pending_approval", requires_approval=True, applied_at=None,
            proposer=self.proposer,
        )

    def decide_form(self) -> dict:
        return {"policy": POLICY_SLUG, "act_warn": "on", "rationale": "walked", "statement": "walked"}

    def decide_body(self) -> dict:
        return {"policy": POLICY_SLUG, "actions": [{"type": "warn"}], "rationale": "walked", "statement": "walked"}
