"""Database rules of QA: a decision sampled once per rule, and never reviewed by its own people."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from qa.models import Rubric, Sample, SamplingRule, SamplingRuleVersion
from tsconsole import roles


def _sample(decision, rule, **kwargs):
    action = decision.actions[0]
    now = timezone.now()
    return Sample.objects.create(
        rule=rule, rule_version=rule.versions.get(), decision_ref=action.decision_ref, action=action, case=action.case,
        analyst=action.proposer, decided_at=action.applied_at, due_at=now, created_at=now, **kwargs)


def test_default_rules_and_rubric_ship_with_the_migration(db):
    """(The autouse fixture has run the migration's seed function, as `migrate` does.)"""
    rubric = Rubric.objects.get(policy__isnull=True, version=1)
    assert {c.key for c in rubric.criteria.filter(critical=True)} == {"correct_policy", "correct_action"}
    kinds = set(SamplingRuleVersion.objects.values_list("kind", flat=True))
    assert kinds == {"random", "new_analyst", "high_impact", "weekly_floor", "overturned"}
    assert SamplingRule.objects.filter(is_active=True).count() == 5


def test_a_decision_is_sampled_once_per_rule(analyst, decide, rule):
    decision = decide(analyst)
    chosen = rule("high_impact")
    _sample(decision, chosen)
    with pytest.raises(IntegrityError), transaction.atomic():
        _sample(decision, chosen)
    _sample(decision, rule("random", name="another", rate=0.5))  # another rule may take it too


def test_the_database_refuses_self_review(analyst, decide, rule, make_user):
    decision = decide(analyst)
    chosen = rule("high_impact")
    with pytest.raises(IntegrityError), transaction.atomic():
        _sample(decision, chosen, reviewer=analyst)
    approver = make_user(roles.LEAD, username="approver")
    with pytest.raises(IntegrityError), transaction.atomic():
        _sample(decision, chosen, approver=approver, reviewer=approver)


def test_rule_parameters_are_checked_by_the_database(rule):
    r = SamplingRule.objects.create(name="bad", version=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SamplingRuleVersion.objects.create(rule=r, version=1, kind="random", rate=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        SamplingRuleVersion.objects.create(rule=r, version=1, kind="weekly_floor")
