"""Objects the access walk (tests/tsconsole/test_access.py) needs for the workspace URLs.

Some actions only succeed for the person holding the case (release, hold, hand off, resolve,
resume). The walk logs in a fresh `<role>-walker` user before it builds each path, so these
helpers give that user the case at that moment: an allowed role then really performs the action
(2xx/3xx), and a refused role is turned away by its capability, not by the case's state.
"""

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from cases.models import CaseStatus
from tests.factories import CaseFactory, CategoryFactory, EvidenceFactory, user_with_role
from tsconsole.roles import ANALYST

HELPER_USERNAME = "access-helper"
OTHER_CATEGORY = "access-other-category"


class WorkspaceWorld:
    def __init__(self, case):
        self.case = case
        self.queue = case.queue
        self.evidence = EvidenceFactory(case=case)
        self.image = EvidenceFactory(case=case, kind="file", text_extract="", content_type="image/jpeg")
        self.image.preview.save("previews/walk.jpg", ContentFile(b"\xff\xd8\xff\xe0 walk"), save=True)
        self.helper = user_with_role(ANALYST, username=HELPER_USERNAME)
        CategoryFactory(slug=OTHER_CATEGORY)

    @staticmethod
    def _walker():
        walker = get_user_model().objects.filter(username__endswith="-walker").order_by("-pk").first()
        return walker or user_with_role(ANALYST, username="nobody-walking")

    def claimed(self):
        """A case in review, assigned to whoever is walking the URLs."""
        return CaseFactory(queue=self.queue, status=CaseStatus.IN_REVIEW, assignee=self._walker())

    def held(self):
        """A case on hold that the walker holds (and may therefore resume)."""
        return CaseFactory(queue=self.queue, status=CaseStatus.ON_HOLD, assignee=self._walker(),
                           held_for=self.helper, hold_reason="access walk")
