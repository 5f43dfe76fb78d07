"""Two sampling passes at once, real threads against PostgreSQL: each decision sampled once per rule,
and the weekly floor not overshot."""

from collections import Counter

import pytest

from qa import sampling
from qa.models import Sample
from tests.threads import run_together
from tsconsole import roles

from .bulk import bulk_decisions

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_two_passes_at_once_sample_each_decision_once_per_rule(make_user, policy, queue, category, rule):
    analysts = [make_user(roles.ANALYST, username=f"c{i}") for i in range(4)]
    [make_user(roles.QA_REVIEWER, username=f"r{i}") for i in range(3)]
    bulk_decisions(2000, analysts=analysts, policy=policy, queue=queue, category=category, spread_minutes=0)
    random_rule = rule("random", name="random", rate=0.1)
    floor = rule("weekly_floor", name="floor", floor_k=60)
    first, second = run_together(sampling.samples_draw, sampling.samples_draw)
    assert isinstance(first, dict) and isinstance(second, dict), (first, second)
    # one pass did the work, the other waited on the lock and found nothing left
    assert sorted([sum(first.values()), sum(second.values())])[0] == 0
    total = sum(first.values()) + sum(second.values())
    assert Sample.objects.count() == total
    per_rule = Counter(Sample.objects.values_list("rule_id", "decision_ref"))
    assert max(per_rule.values()) == 1
    for analyst in analysts:
        decisions = Sample.objects.filter(analyst=analyst).values("decision_ref").distinct().count()
        by_random = Sample.objects.filter(rule=random_rule, analyst=analyst).count()
        assert decisions == max(60, by_random)
    assert Sample.objects.filter(rule=floor).exists()
