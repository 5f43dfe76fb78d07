"""A small world of resolved decisions for QA tests, made through enforcement's own service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus
from enforcement import services as enforcement
from qa.models import RuleKind, SamplingRule, SamplingRuleVersion
from tests.factories import AccountFactory, CaseFactory, CategoryFactory, PolicyFactory, QueueFactory
from tsconsole import roles


def _seed_defaults():
    """The default rubric and rules of migrations qa/0002 and qa/0004 (a transactional test
    elsewhere may have flushed them): the same functions, run again (they are idempotent)."""
    from importlib import import_module

    from django.apps import apps

    import_module("qa.migrations.0002_defaults_and_decision_index").seed(apps, None)
    import_module("qa.migrations.0004_overturned_rule_and_added_corrections").seed(apps, None)


@pytest.fixture(autouse=True)
def qa_defaults(request):
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("transactional_db" if _transactional(request) else "db")
        _seed_defaults()


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.fixture
def category(db):
    group = CategoryFactory(slug="qa-group", name="QA group")
    return CategoryFactory(slug="qa-leaf", name="QA leaf", parent=group)


@pytest.fixture
def policy(category):
    return PolicyFactory(slug="qa-policy", name="QA policy", category=category.parent, rule_text="Be kind.")


@pytest.fixture
def queue(db):
    return QueueFactory(slug="qa-queue", name="QA queue")


@pytest.fixture
def no_default_rules(db):
    """Tests state the rules they need: the default ones from the data migration are paused."""
    SamplingRule.objects.update(is_active=False)


@pytest.fixture
def decide(category, policy, queue):
    """decide(analyst, types=["warn"], rationale=...) → the Decision, through enforcement's case_decide."""

    def make(analyst, types=("warn",), *, rationale="Threatening replies to a named person.",
             statement="We warned you because you threatened someone.", subject=None, case_queue=None, **kwargs):
        case = CaseFactory(subject=subject or AccountFactory(), category=category, queue=case_queue or queue,
                           status=CaseStatus.IN_REVIEW, assignee=analyst, claimed_at=timezone.now())
        actions = [{"type": t, **({"duration_hours": 24} if t in ("suspension", "feature_restriction") else {})} for t in types]
        return enforcement.case_decide(case=case, actions=actions, rationale=rationale, actor=analyst,
                                       statement=statement if types != ("no_violation",) else "",
                                       departure_reason="Context justifies it.", **kwargs)

    return make


@pytest.fixture
def rule(no_default_rules):
    def make(kind, name=None, **params):
        rule = SamplingRule.objects.create(name=name or f"{kind} rule", version=1)
        SamplingRuleVersion.objects.create(rule=rule, version=1, kind=kind, **params)
        return rule

    return make


@pytest.fixture
def reviewers(make_user):
    return [make_user(roles.QA_REVIEWER, username=f"qa{i}") for i in range(2)]


def hours_ago(n):
    return timezone.now() - timedelta(hours=n)


__all__ = ["RuleKind", "hours_ago"]
