"""The "overturned on appeal" sampling rule: every decision an appeal overturned or modified is
drawn once, whenever it took effect, never for its own analyst or approver, and a default rule."""

import importlib
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from appeals import services as appeals
from cases.services.workflow import case_claim
from enforcement.models import EnforcementAction
from qa import sampling
from qa.models import RuleKind, Sample, SamplingRule
from tests.factories import WebhookEndpointFactory
from tests.threads import run_together
from tsconsole import roles

OVERTURNED_DEFAULT = "Overturned on appeal"


@pytest.fixture
def appeals_world(db, make_user):
    """The appeals queue (as its data migration makes it), the platform, and an appeal reviewer."""
    from django.apps import apps

    importlib.import_module("appeals.migrations.0002_appeals_queue").create(apps, None)
    WebhookEndpointFactory(name="platform")
    return {"platform": make_user(roles.INTEGRATION, username="platform"),
            "appeal_reviewer": make_user(roles.ANALYST, username="appeal-rita")}


@pytest.fixture
def appealed(appeals_world):
    """appealed(decision, outcome) → the appeal, filed by the restricted account and decided."""
    counter = iter(range(1, 1000))

    def make(decision, outcome, *, by=None, **kwargs):
        target = decision.actions[0].target
        filed = appeals.appeal_file(
            decision=decision.ref, appellant_kind="subject", appellant_ref=target.external_id, source="platform",
            external_id=f"qa-appeal-{next(counter)}", statement="I was quoting a film.",
            actor=appeals_world["platform"])
        reviewer = by or appeals_world["appeal_reviewer"]
        case_claim(case=filed.appeal.case_id, actor=reviewer)
        return appeals.appeal_decide(appeal=filed.appeal.pk, outcome=outcome, actor=reviewer,
                                     rationale="Internal: read the whole thread.", statement="We looked again.",
                                     **kwargs)

    return make


def _only_default_overturned_rule() -> SamplingRule:
    SamplingRule.objects.exclude(name=OVERTURNED_DEFAULT).update(is_active=False)
    rule = SamplingRule.objects.get(name=OVERTURNED_DEFAULT)
    assert rule.is_active and rule.versions.get().kind == RuleKind.OVERTURNED
    return rule


@pytest.mark.django_db(transaction=True)
def test_an_overturned_decision_is_sampled_once_when_two_passes_run_at_once(make_user, decide, appealed):
    analyst = make_user(roles.ANALYST, username="ov-analyst")
    qa_reviewers = [make_user(roles.QA_REVIEWER, username=f"ov-qa{i}") for i in range(2)]
    overturned = decide(analyst, ("suspension",))
    modified = decide(analyst, ("suspension",))
    upheld = decide(analyst, ("warn",))
    untouched = decide(analyst, ("warn",))
    appealed(overturned, "overturned")
    appealed(modified, "modified", actions=[{"type": "warn"}], policy="qa-policy")
    appealed(upheld, "upheld")
    rule = _only_default_overturned_rule()

    first, second = run_together(sampling.samples_draw, sampling.samples_draw)

    assert isinstance(first, dict) and isinstance(second, dict), (first, second)
    assert sorted([first[rule.name], second[rule.name]]) == [0, 2]
    samples = list(Sample.objects.filter(rule=rule))
    assert Counter(str(s.decision_ref) for s in samples) == {overturned.ref: 1, modified.ref: 1}
    assert untouched.ref not in {str(s.decision_ref) for s in samples}
    assert upheld.ref not in {str(s.decision_ref) for s in samples}
    for sample in samples:
        assert sample.analyst == analyst
        assert sample.reviewer in qa_reviewers
        assert sample.action_id == EnforcementAction.objects.filter(decision_ref=sample.decision_ref).order_by("id")[0].pk
    # and a later pass finds nothing new
    assert sampling.samples_draw()[rule.name] == 0
    assert Sample.objects.filter(rule=rule).count() == 2


@pytest.mark.django_db
def test_a_decision_older_than_the_window_is_drawn_when_its_appeal_is_decided(make_user, decide, appealed, rule):
    analyst = make_user(roles.ANALYST, username="ov-old")
    make_user(roles.QA_REVIEWER, username="ov-qa")
    decision = decide(analyst, ("suspension",))
    appeal = appealed(decision, "overturned")
    # it took effect three weeks ago, long before the sampler's lookback window
    EnforcementAction.objects.filter(decision_ref=decision.ref).update(
        applied_at=timezone.now() - timedelta(days=21))
    random_rule = rule("random", name="all", rate=1)
    by_appeal = rule("overturned", name="appeals")
    drawn = sampling.samples_draw()
    assert drawn == {"all": 0, "appeals": 1}
    sample = Sample.objects.get(rule=by_appeal)
    assert str(sample.decision_ref) == decision.ref and sample.case_id == decision.case.pk
    assert not Sample.objects.filter(rule=random_rule, decision_ref=decision.ref).exists()
    # appeals decided before the window are not drawn again, nor by a rule made later
    late = rule("overturned", name="late")
    assert sampling.samples_draw(since=appeal.decided_at + timedelta(seconds=1))["late"] == 0
    assert not Sample.objects.filter(rule=late).exists()


@pytest.mark.django_db
def test_the_overturned_rule_takes_scope_filters_and_never_the_decisions_approver(make_user, decide, appealed, rule,
                                                                                  lead):
    from django.contrib.auth.models import Group

    from enforcement.services import decision_approve
    from tests.factories import AccountFactory, PolicyFactory

    analyst = make_user(roles.ANALYST, username="ov-scope")
    make_user(roles.QA_REVIEWER, username="ov-qa")
    elsewhere = PolicyFactory(slug="elsewhere")
    two_person = decide(analyst, ("warn",), subject=AccountFactory(verified=True))
    decision_approve(action=two_person.actions[0].pk, actor=lead)
    appealed(two_person, "overturned", by=make_user(roles.LEAD, username="appeal-lead"))
    rule("overturned", name="elsewhere only", policy=elsewhere)
    mine = rule("overturned", name="all overturned")
    lead.groups.add(Group.objects.get_or_create(name=roles.QA_REVIEWER)[0])  # the approver is a QA reviewer too
    drawn = sampling.samples_draw()
    assert drawn == {"elsewhere only": 0, "all overturned": 1}
    sample = Sample.objects.get(rule=mine)
    assert sample.approver == lead and sample.reviewer not in (lead, analyst)


def test_the_rule_is_on_the_rules_page_and_in_the_api(lead, client, api_as, db):
    client.force_login(lead)
    page = client.get("/qa/rules/").content.decode()
    assert OVERTURNED_DEFAULT in page and "every decision overturned or modified on appeal" in page
    assert '<option value="overturned"' in page
    api = api_as(lead)
    made = api.post("/api/v1/qa/sampling-rules/", {"name": "Appeals in fraud", "kind": "overturned"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["kind"] == "overturned"
    listed = {r["name"]: r["kind"] for r in api.get("/api/v1/qa/sampling-rules/").json()}
    assert listed[OVERTURNED_DEFAULT] == "overturned" and listed["Appeals in fraud"] == "overturned"


@pytest.mark.django_db
def test_a_correction_adds_nothing_over_what_an_appeal_overturned(make_user, decide, appealed, rule, lead):
    from qa import services
    from qa.models import Correction
    from tsconsole.errors import Conflict

    analyst = make_user(roles.ANALYST, username="ov-corr")
    reviewer = make_user(roles.QA_REVIEWER, username="ov-qa")
    decision = decide(analyst, ("warn",))
    appeal = appealed(decision, "overturned")
    by_appeal = rule("overturned", name="appeals")
    sampling.samples_draw()
    sample = Sample.objects.get(rule=by_appeal)
    audit = services.sample_review(
        sample=sample, actor=reviewer, feedback="A suspension was due.",
        scores={"correct_policy": 5, "correct_action": 2, "evidence": 5, "rationale": 4, "statement": 4, "procedure": 5},
        decision={"policy": "qa-policy", "actions": [{"type": "suspension"}]})
    assert audit.final_outcome != "agree"
    with pytest.raises(Conflict, match=f"Appeal #{appeal.pk} overturned this decision"):
        services.audit_correct(audit=audit, reason="Should have been suspended.", statement="Suspended.", actor=lead,
                               decision={"policy": "qa-policy", "actions": [{"type": "suspension", "duration_hours": 24}]})
    assert not Correction.objects.exists()
    assert not EnforcementAction.objects.filter(action_type="suspension").exists()
