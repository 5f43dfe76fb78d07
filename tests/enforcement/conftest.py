import pytest
from django.utils import timezone

from cases.models import CaseStatus
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    ContentFactory,
    PolicyFactory,
    WebhookEndpointFactory,
)


@pytest.fixture
def endpoint(db):
    """A subscribed webhook endpoint, so platform events become outbox rows."""
    return WebhookEndpointFactory(name="platform")


@pytest.fixture
def category(db):
    group = CategoryFactory(slug="test-group", name="Test group")
    return CategoryFactory(slug="test-leaf", name="Test leaf", parent=group)


@pytest.fixture
def policy(category):
    """The default policy of the test category's group: warn → 24 h restriction → 7-day suspension → termination."""
    return PolicyFactory(slug="test-policy", name="Test policy", category=category.parent,
                         rule_text="Be kind to each other.")


@pytest.fixture
def claimed(analyst, category, policy):
    """An in-review case claimed by the analyst (about a new ordinary account unless a subject is given)."""

    def make(subject=None, *, assignee=None, **kwargs):
        kwargs.setdefault("status", CaseStatus.IN_REVIEW)
        return CaseFactory(
            subject=subject or AccountFactory(), category=category, assignee=assignee or analyst,
            claimed_at=timezone.now(), **kwargs,
        )

    return make


@pytest.fixture
def content_case(claimed):
    return claimed(ContentFactory(author=AccountFactory(handle="author1")))


@pytest.fixture
def other_lead(make_user):
    from tsconsole.roles import LEAD

    return make_user(LEAD, username="lena")
