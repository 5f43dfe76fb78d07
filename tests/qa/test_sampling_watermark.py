"""The incremental sampler: the decision projection the triggers keep, each rule's mark, what a
pass reads, and decisions that commit while a pass runs."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from enforcement.models import EnforcementAction
from enforcement.services import action_reverse, decision_approve
from qa import sampling, services
from qa.models import Decision, Sample, SamplingWatermark
from tests.factories import AccountFactory
from tsconsole import roles
from tsconsole.models import AuditEntry

from .bulk import bulk_decisions


@pytest.fixture
def analysts(make_user):
    return [make_user(roles.ANALYST, username=f"wm{i}") for i in range(3)]


def _world(policy, queue, category):
    return {"policy": policy, "queue": queue, "category": category}


@pytest.mark.django_db
def test_the_projection_groups_a_decisions_actions_and_keeps_its_mark_through_a_reversal(
        analysts, decide, lead):
    decision = decide(analysts[0], ("suspension", "warn"), subject=AccountFactory(verified=True))
    assert not Decision.objects.filter(decision_ref=decision.ref).exists()  # pending approval: not in effect
    decision_approve(action=decision.actions[0].pk, actor=lead)
    row = Decision.objects.get(decision_ref=decision.ref)
    assert sorted(row.types) == ["suspension", "warn"]
    assert row.two_person and not row.is_termination
    assert row.analyst == analysts[0] and row.approver == lead
    assert row.action_id == min(a.pk for a in decision.actions) and row.case_id == decision.case.pk
    assert row.decided_at == EnforcementAction.objects.get(pk=row.action_id).applied_at
    # a reversal changes the actions' status, not the decision the sampler reads: same row, same mark
    action_reverse(action=decision.actions[0].pk, reason="Wrong account.", actor=lead)
    again = Decision.objects.get(decision_ref=decision.ref)
    assert (again.txid, again.types, again.decided_at) == (row.txid, row.types, row.decided_at)


@pytest.mark.django_db(transaction=True)
def test_a_second_pass_reads_only_decisions_written_since_the_first(analysts, policy, queue, category, rule, reviewers):
    bulk_decisions(5, analysts=analysts, **_world(policy, queue, category))
    chosen = rule("random", name="all", rate=1)
    assert sampling.samples_draw() == {"all": 5}
    mark = SamplingWatermark.objects.get(rule=chosen)
    assert mark.rule_version == chosen.versions.get()
    # Take the samples away behind the sampler's back: a pass that re-read the window would draw
    # the five again; the incremental one reads only what was written since its mark.
    Sample.objects.all().delete()
    bulk_decisions(3, analysts=analysts, **_world(policy, queue, category))
    assert sampling.samples_draw() == {"all": 3}
    assert Sample.objects.count() == 3
    assert SamplingWatermark.objects.get(rule=chosen).txid > mark.txid
    entry = AuditEntry.objects.filter(verb="qa.samples_drawn").order_by("-id").first()
    assert entry.data["read"] == {"all": "since mark"}
    # `since` replays the window for every rule
    assert sampling.samples_draw(since=timezone.now() - timedelta(days=1)) == {"all": 5}


@pytest.mark.django_db(transaction=True)
def test_a_decision_landing_after_the_mark_is_drawn_whatever_time_it_took_effect(
        analysts, policy, queue, category, rule, reviewers):
    bulk_decisions(2, analysts=analysts, **_world(policy, queue, category))
    rule("random", name="all", rate=1)
    assert sampling.samples_draw() == {"all": 2}
    # written after the pass, though it took effect two days before it (inside the lookback)
    late = bulk_decisions(2, analysts=analysts, at=timezone.now() - timedelta(days=2), **_world(policy, queue, category))
    # and one that took effect before the lookback window: out of every rule's reach
    bulk_decisions(1, analysts=analysts, at=timezone.now() - timedelta(days=30), **_world(policy, queue, category))
    assert sampling.samples_draw() == {"all": 2}
    assert set(Sample.objects.filter(case__in=late).values_list("case_id", flat=True)) == {c.pk for c in late}


@pytest.mark.django_db(transaction=True)
def test_a_decision_committed_while_a_pass_runs_is_drawn_by_the_next(analysts, policy, queue, category, rule, reviewers):
    rule("random", name="all", rate=1)
    bulk_decisions(1, analysts=analysts, **_world(policy, queue, category))
    written, release = threading.Event(), threading.Event()
    failure = []

    def slow_decision():
        try:
            with transaction.atomic():
                bulk_decisions(1, analysts=analysts, **_world(policy, queue, category))
                written.set()
                release.wait(30)
        except Exception as exc:  # reported below
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_decision)
    thread.start()
    assert written.wait(30)
    # the other transaction began before this pass and is still open: its decision is invisible
    assert sampling.samples_draw() == {"all": 1}
    release.set()
    thread.join(30)
    assert not failure, failure
    assert Decision.objects.count() == 2
    # it committed after the pass (with an older decided_at than the pass's time): the next one draws it
    assert sampling.samples_draw() == {"all": 1}
    assert Sample.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rule_made_or_edited_later_reads_its_own_window(analysts, policy, queue, category, rule, reviewers, lead):
    bulk_decisions(4, analysts=analysts, **_world(policy, queue, category))
    narrow = services.sampling_rule_save(actor=lead, data={"name": "narrow", "kind": "random", "rate": 1,
                                                           "action_type": "suspension"})
    assert sampling.samples_draw() == {"narrow": 0}
    assert sampling.samples_draw() == {"narrow": 0}  # now from its mark: nothing new
    # a new rule starts from the lookback window, not from the others' marks
    rule("high_impact", name="late")  # (no high-impact decisions)
    services.sampling_rule_save(actor=lead, data={"name": "later", "kind": "random", "rate": 1})
    assert sampling.samples_draw() == {"narrow": 0, "late": 0, "later": 4}
    # editing a rule (a new version) reads the window again with what it now selects
    services.sampling_rule_save(actor=lead, rule=narrow, data={"kind": "random", "rate": 1})
    assert sampling.samples_draw() == {"narrow": 4, "late": 0, "later": 0}
    assert SamplingWatermark.objects.get(rule=narrow).rule_version.version == 2


@pytest.mark.django_db(transaction=True)
def test_the_weekly_floor_tops_up_analysts_with_new_decisions_on_an_incremental_pass(
        analysts, policy, queue, category, rule, reviewers):
    now = timezone.now()
    bulk_decisions(6, analysts=analysts[:1], at=now - timedelta(seconds=30), spread_minutes=0, **_world(policy, queue, category))
    floor = rule("weekly_floor", name="floor", floor_k=2)
    assert sampling.samples_draw() == {"floor": 2}
    bulk_decisions(6, analysts=analysts[1:2], at=timezone.now() - timedelta(seconds=10), spread_minutes=0,
                   **_world(policy, queue, category))
    bulk_decisions(1, analysts=analysts[:1], at=timezone.now() - timedelta(seconds=10), spread_minutes=0,
                   **_world(policy, queue, category))
    assert sampling.samples_draw() == {"floor": 2}  # the second analyst's two; the first has theirs
    per_analyst = {a.username: Sample.objects.filter(rule=floor, analyst=a).count() for a in analysts}
    assert per_analyst == {"wm0": 2, "wm1": 2, "wm2": 0}
