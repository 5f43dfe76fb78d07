"""Objects the access walk (tests/tsconsole/test_access.py) needs for the appeal URLs.

A decision with a fixed reference lets the static request bodies of the map file a real appeal
(each walk runs in its own transaction); `claimed()` gives the walker an appeal to decide.
"""

import uuid

from django.contrib.auth import get_user_model

from cases.models import CaseStatus
from tests.factories import AccountFactory, AppealFactory, EnforcementActionFactory

DECISION = uuid.UUID("0f1e2d3c-4b5a-4697-8899-aabbccddeeff")
APPELLANT = "access-appellant"


class AppealWorld:
    def __init__(self):
        account = AccountFactory(external_id=APPELLANT)
        self.action = EnforcementActionFactory(decision_ref=DECISION, target=account, case__subject=account)
        self.appeal = AppealFactory()

    def claimed(self):
        """An open appeal held by whoever walks the URLs."""
        walker = get_user_model().objects.filter(username__endswith="-walker").order_by("-pk").first()
        return AppealFactory(case__status=CaseStatus.IN_REVIEW, case__assignee=walker)


def file_body() -> dict:
    return {"decision": str(DECISION), "appellant": {"kind": "subject", "external_id": APPELLANT},
            "source": "walk", "external_id": "walk-1", "statement": "walked"}


def file_form() -> dict:
    return {"decision": str(DECISION), "appellant_kind": "subject", "appellant": APPELLANT, "channel": "phone",
            "statement": "walked", "q": APPELLANT}
