import importlib
import itertools

import pytest
from django.utils import timezone

from appeals import services
from cases.models import CaseStatus, Queue
from cases.services.workflow import case_claim
from enforcement import services as enforcement
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    PolicyFactory,
    ReportFactory,
    WebhookEndpointFactory,
)
from tsconsole.roles import ANALYST

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def appeals_queue(db):
    """The appeals queue and its SLA targets, as the data migration makes them (transactional
    tests flush migration data between tests)."""
    from django.apps import apps

    importlib.import_module("appeals.migrations.0002_appeals_queue").create(apps, None)
    return Queue.objects.get(slug="appeals")


@pytest.fixture
def endpoint(db):
    """The platform's webhook endpoint, subscribed to everything."""
    return WebhookEndpointFactory(name="platform")


@pytest.fixture
def category(db):
    group = CategoryFactory(slug="appeal-group", name="Appeal group")
    return CategoryFactory(slug="appeal-leaf", name="Appeal leaf", parent=group)


@pytest.fixture
def policy(category):
    return PolicyFactory(slug="appeal-policy", name="Appeal policy", category=category.parent,
                         rule_text="Be kind to each other.")


@pytest.fixture
def reviewer(make_user):
    """An analyst who took no part in the decisions under appeal."""
    return make_user(ANALYST, username="rita")


@pytest.fixture
def decided(analyst, category, policy, endpoint):
    """A decision taken through enforcement on a case reported by `reporters`; returns the Decision."""

    def make(subject=None, *, actions=None, reporters=("reporter-a", "reporter-b"), decider=None, **kwargs):
        subject = subject or AccountFactory()
        decider = decider or analyst
        case = CaseFactory(subject=subject, category=category, status=CaseStatus.IN_REVIEW, assignee=decider,
                           claimed_at=timezone.now())
        for ref in reporters:
            ReportFactory(case=case, reporter_ref=ref)
        decision = enforcement.case_decide(
            case=case, actor=decider, actions=actions or [{"type": "suspension", "duration_hours": 72}],
            rationale="Internal: threats in three replies.", statement="Your account is suspended for 3 days.",
            departure_reason="Threats go straight to a suspension.", **kwargs,
        )
        return decision

    return make


@pytest.fixture
def file_appeal(integration):
    """File an appeal through the service (as the platform unless `actor` says otherwise)."""

    def file(decision, *, appellant=None, kind="subject", actor=None, **kwargs):
        ref = decision.ref if hasattr(decision, "ref") else decision
        if appellant is None:
            target = decision.actions[0].target
            appellant = (target.author if target.kind == "content" else target).external_id
        kwargs.setdefault("source", "platform")
        kwargs.setdefault("external_id", f"appeal-{next(_ids)}")
        kwargs.setdefault("statement", "I was quoting a film, not threatening anyone.")
        return services.appeal_file(decision=ref, appellant_kind=kind, appellant_ref=appellant,
                                    actor=actor or integration, **kwargs)

    return file


@pytest.fixture
def claimed_appeal(file_appeal, reviewer):
    """An appeal filed and claimed by `by` (the reviewer by default)."""

    def make(decision, *, by=None, **kwargs):
        appeal = file_appeal(decision, **kwargs).appeal
        case_claim(case=appeal.case_id, actor=by or reviewer)
        appeal.refresh_from_db()
        return appeal

    return make


@pytest.fixture
def freeze(monkeypatch):
    """Stop the clock at a moment: every `timezone.now()` answers it until the test ends."""

    def to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return to
