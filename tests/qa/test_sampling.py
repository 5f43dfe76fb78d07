"""The sampler: rates, new analysts, high impact, the weekly floor, scope filters, idempotence,
and who may (never) review."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from enforcement.models import EnforcementAction
from enforcement.services import decision_approve
from qa import sampling, services, tasks
from qa.models import Sample, SamplingRule
from tsconsole import roles
from tsconsole.errors import InvalidInput, NotAllowed
from tsconsole.models import AuditEntry

from .bulk import bulk_decisions


@pytest.fixture
def analysts(make_user):
    return [make_user(roles.ANALYST, username=f"an{i}") for i in range(5)]


def test_random_rate_over_10000_decisions_is_within_tolerance(analysts, policy, queue, category, rule, reviewers):
    bulk_decisions(10_000, analysts=analysts, policy=policy, queue=queue, category=category, spread_minutes=0)
    chosen = rule("random", rate=0.05)
    drawn = sampling.samples_draw()
    # Binomial(10000, 0.05): mean 500, sd 21.8; four sd either side.
    assert 413 <= drawn[chosen.name] <= 587
    assert Sample.objects.filter(rule=chosen).count() == drawn[chosen.name]
    # again: the same decisions stay chosen, nothing is added
    assert sampling.samples_draw()[chosen.name] == 0
    per_reviewer = Counter(Sample.objects.values_list("reviewer__username", flat=True))
    assert set(per_reviewer) == {"qa0", "qa1"}
    assert abs(per_reviewer["qa0"] - per_reviewer["qa1"]) <= 1
    assert AuditEntry.objects.filter(verb="qa.samples_drawn").count() == 1


def test_high_impact_takes_every_termination_and_two_person_decision(analyst, decide, rule, reviewers, make_user):
    approver = make_user(roles.LEAD, username="boss")
    chosen = rule("high_impact")
    decide(analyst, ("warn",))
    termination = decide(analyst, ("termination",))
    decision_approve(action=termination.actions[0].pk, actor=approver)
    decide(analyst, ("no_violation",))
    assert sampling.samples_draw()[chosen.name] == 1
    sample = Sample.objects.get()
    assert sample.decision_ref == termination.actions[0].decision_ref
    assert sample.approver == approver and sample.analyst == analyst
    assert sample.reviewer in reviewers
    assert sample.due_at > timezone.now() + timedelta(days=6)


def test_new_analyst_rule_takes_each_analysts_first_n(analysts, policy, queue, category, rule, reviewers):
    bulk_decisions(50, analysts=analysts[:2], policy=policy, queue=queue, category=category)
    chosen = rule("new_analyst", first_n=10)
    assert sampling.samples_draw()[chosen.name] == 20
    per_analyst = Counter(Sample.objects.values_list("analyst__username", flat=True))
    assert per_analyst == {"an0": 10, "an1": 10}
    # the ten are the oldest of each
    for analyst in analysts[:2]:
        oldest = sorted(Sample.objects.filter(analyst=analyst).values_list("decided_at", flat=True))
        later = EnforcementAction.objects.filter(proposer=analyst).exclude(
            decision_ref__in=Sample.objects.values("decision_ref")).values_list("applied_at", flat=True)
        assert max(oldest) < min(later)


def test_weekly_floor_tops_up_each_analyst_counting_other_rules(analysts, policy, queue, category, rule, reviewers):
    now = timezone.now()
    assert sampling.week_start(now).weekday() == 0 and sampling.week_start(now) <= now
    bulk_decisions(36, analysts=analysts[:3], policy=policy, queue=queue, category=category,
                   at=now - timedelta(seconds=30), spread_minutes=0)
    random_rule = rule("random", name="random", rate=0.1)
    floor = rule("weekly_floor", name="floor", floor_k=4)
    sampling.samples_draw()
    for analyst in analysts[:3]:
        by_random = Sample.objects.filter(rule=random_rule, analyst=analyst).count()
        decisions = Sample.objects.filter(analyst=analyst).values("decision_ref").distinct().count()
        assert decisions == max(4, by_random)
        assert Sample.objects.filter(rule=floor, analyst=analyst).count() == max(0, 4 - by_random)
    assert not Sample.objects.filter(analyst__in=analysts[3:]).exists()  # no decisions, nothing to top up
    assert sampling.samples_draw() == {random_rule.name: 0, floor.name: 0}


def test_scope_filters_narrow_a_rule(analysts, policy, queue, category, rule, reviewers):
    from tests.factories import PolicyFactory, QueueFactory

    other_queue = QueueFactory(slug="other-q")
    other_policy = PolicyFactory(slug="other-p", category=category.parent.children.first() or category)
    bulk_decisions(20, analysts=analysts[:1], policy=policy, queue=queue, category=category)
    bulk_decisions(20, analysts=analysts[1:2], policy=other_policy, queue=other_queue, category=category, action_type="suspension")
    by_queue = rule("random", name="q", rate=1, queue=other_queue)
    by_policy = rule("random", name="p", rate=1, policy=policy)
    by_type = rule("random", name="t", rate=1, action_type="suspension")
    by_analyst = rule("random", name="a", rate=1, analyst=analysts[0])
    drawn = sampling.samples_draw()
    assert drawn == {"a": 20, "p": 20, "q": 20, "t": 20}
    assert set(Sample.objects.filter(rule=by_queue).values_list("case__queue", flat=True)) == {other_queue.pk}
    assert set(Sample.objects.filter(rule=by_policy).values_list("action__policy", flat=True)) == {policy.pk}
    assert set(Sample.objects.filter(rule=by_type).values_list("action__action_type", flat=True)) == {"suspension"}
    assert set(Sample.objects.filter(rule=by_analyst).values_list("analyst", flat=True)) == {analysts[0].pk}


def test_nobody_reviews_their_own_decision_or_approval(policy, queue, category, rule, make_user):
    both = make_user(roles.QA_REVIEWER, username="double")  # also decides: a reviewer who works cases
    lead = make_user(roles.QA_REVIEWER, username="lead-reviewer")
    bulk_decisions(10, analysts=[both], policy=policy, queue=queue, category=category, requires_approval=True, approver=lead)
    rule("random", rate=1)
    sampling.samples_draw()
    assert Sample.objects.count() == 10
    assert set(Sample.objects.values_list("reviewer", flat=True)) == {None}
    other = make_user(roles.QA_REVIEWER, username="third")
    sample = Sample.objects.first()
    with pytest.raises(NotAllowed):
        services.sample_assign(sample=sample, reviewer=both, actor=make_user(roles.LEAD, username="l2"))
    services.sample_assign(sample=sample, reviewer=other, actor=make_user(roles.LEAD, username="l3"))
    sample.refresh_from_db()
    assert sample.reviewer == other


def test_rules_are_versioned_and_checked(lead, analyst, no_default_rules):
    created = services.sampling_rule_save(actor=lead, data={"name": "Hate 10%", "kind": "random", "rate": 0.1})
    edited = services.sampling_rule_save(actor=lead, rule=created, data={"kind": "random", "rate": 0.2})
    assert edited.version == 2
    assert list(edited.versions.order_by("version").values_list("rate", flat=True)) == [0.1, 0.2]
    with pytest.raises(InvalidInput) as err:
        services.sampling_rule_save(actor=lead, data={"name": "bad", "kind": "random", "rate": 2})
    assert "rate" in err.value.field_errors
    with pytest.raises(NotAllowed):
        services.sampling_rule_save(actor=analyst, data={"name": "x", "kind": "high_impact"})
    assert SamplingRule.objects.filter(name="bad").count() == 0


def test_the_old_version_keeps_its_samples(analysts, policy, queue, category, lead, reviewers, no_default_rules):
    bulk_decisions(5, analysts=analysts[:1], policy=policy, queue=queue, category=category)
    rule = services.sampling_rule_save(actor=lead, data={"name": "all", "kind": "random", "rate": 1})
    sampling.samples_draw()
    services.sampling_rule_save(actor=lead, rule=rule, data={"kind": "random", "rate": 0.5})
    assert set(Sample.objects.values_list("rule_version__version", flat=True)) == {1}


def test_the_beat_task_runs_a_pass(analysts, policy, queue, category, rule, reviewers):
    bulk_decisions(3, analysts=analysts[:1], policy=policy, queue=queue, category=category)
    chosen = rule("random", rate=1)
    assert tasks.draw_samples() == {chosen.name: 3}
    assert tasks.draw_samples() == {chosen.name: 0}


def test_new_analyst_rule_counts_decisions_before_the_window(analysts, policy, queue, category, rule, reviewers):
    now = timezone.now()
    bulk_decisions(15, analysts=analysts[:1], policy=policy, queue=queue, category=category, at=now - timedelta(days=20))
    recent = bulk_decisions(10, analysts=analysts[:1], policy=policy, queue=queue, category=category, at=now - timedelta(hours=1))
    chosen = rule("new_analyst", first_n=20)
    assert sampling.samples_draw()[chosen.name] == 5  # decisions 16..20 of the analyst's career
    oldest_five = sorted(recent, key=lambda c: c.opened_at)[:5]
    assert set(Sample.objects.values_list("case_id", flat=True)) == {c.pk for c in oldest_five}


def test_the_leads_queue_offers_every_reviewer_on_each_due_sample(client, lead, analysts, policy, queue, category, rule,
                                                                   reviewers):
    bulk_decisions(3, analysts=analysts[:1], policy=policy, queue=queue, category=category)
    rule("random", rate=1)
    sampling.samples_draw()
    client.force_login(lead)
    html = client.get("/qa/").content.decode()
    for reviewer in reviewers:
        assert html.count(f'<option value="{reviewer.username}">{reviewer.username}</option>') == 3
