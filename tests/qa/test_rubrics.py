"""Rubrics per policy, versioned: a new version per save, audits keep theirs, and the review uses
the policy's own rubric where it has one."""

from django.urls import reverse

from qa import sampling, services
from qa.models import Rubric, Sample


def test_rubric_versions_over_the_api(api_as, lead, analyst, policy):
    client = api_as(lead)
    body = {"policy": "qa-policy", "pass_mark": 70,
            "criteria": [{"key": "accuracy", "label": "Accuracy", "weight": 3, "critical": True},
                         {"key": "tone", "label": "Statement tone"}]}
    first = client.post(reverse("api-qa-rubrics"), body, format="json")
    assert first.status_code == 201 and first.json()["version"] == 1
    second = client.post(reverse("api-qa-rubrics"), {**body, "pass_mark": 75}, format="json")
    assert second.json()["version"] == 2
    current = {r["policy"]: r for r in client.get(reverse("api-qa-rubrics")).json()}
    assert current["qa-policy"]["version"] == 2 and current[None]["version"] == 1
    bad = client.post(reverse("api-qa-rubrics"), {**body, "criteria": [body["criteria"][0]] * 2}, format="json")
    assert bad.status_code == 400
    assert api_as(analyst).post(reverse("api-qa-rubrics"), body, format="json").status_code == 403
    assert Rubric.objects.filter(policy=policy).count() == 2


def test_a_review_uses_the_policys_rubric_and_keeps_its_version(lead, make_user, decide, rule, policy):
    from tsconsole import roles

    analyst = make_user(roles.ANALYST, username="rub-analyst")
    reviewer = make_user(roles.QA_REVIEWER, username="rub-reviewer")
    rubric = services.rubric_save(policy=policy, actor=lead, pass_mark=90,
                                  criteria=[{"key": "accuracy", "label": "Accuracy", "weight": 1, "critical": True}])
    decide(analyst, ("warn",))
    rule("random", rate=1)
    sampling.samples_draw()
    sample = Sample.objects.get()
    audit = services.sample_review(sample=sample, actor=reviewer, scores={"accuracy": 4},
                                   decision={"policy": "qa-policy", "actions": [{"type": "warn"}]})
    assert audit.rubric == rubric and audit.score == 75.0 and audit.outcome == "minor"  # under the pass mark of 90
    services.rubric_save(policy=policy, actor=lead, criteria=[{"key": "other", "label": "Other"}])
    audit.refresh_from_db()
    assert audit.rubric == rubric


def test_the_rubric_for_a_category_follows_the_policy_covering_it(db, lead, category, policy):
    """The category's own active policy's newest rubric, else its group's policy's, else the newest
    default (also when the covering policy has no rubric): what enforcement's policy_for_category
    chooses, read in one statement, for the form (criteria) and the review (rubric) alike."""
    from enforcement.selectors import policy_for_category
    from tests.factories import CategoryFactory, PolicyFactory

    default = services.rubric_current(None)
    assert services.rubric_for_category(category) == default  # the group's policy has no rubric yet
    group_rubric = services.rubric_save(policy=policy, actor=lead, criteria=[{"key": "g", "label": "Group"}])
    group_rubric = services.rubric_save(policy=policy, actor=lead, criteria=[{"key": "g2", "label": "Group 2"},
                                                                             {"key": "g1", "label": "Group 1"}])
    assert services.rubric_for_category(category) == group_rubric  # its newest version
    assert [c.key for c in services.rubric_criteria_for_category(category)] == ["g2", "g1"]
    own_policy = PolicyFactory(slug="qa-leaf-policy", name="Leaf policy", category=category)
    assert services.rubric_for_category(category) == default  # its own policy, without a rubric: the default
    own = services.rubric_save(policy=own_policy, actor=lead, criteria=[{"key": "own", "label": "Own"}])
    assert services.rubric_for_category(category) == own
    assert [c.key for c in services.rubric_criteria_for_category(category)] == ["own"]
    own_policy.is_active = False
    own_policy.save()
    assert services.rubric_for_category(category) == group_rubric
    other = CategoryFactory(slug="qa-other", name="Other")
    assert services.rubric_for_category(other) == default and services.rubric_for_category(None) == default
    assert [c.key for c in services.rubric_criteria_for_category(other)] == [c.key for c in default.criteria.all()]
    for c in (category, category.parent, other):
        assert services.rubric_for_category(c) == services.rubric_current(policy_for_category(c))
