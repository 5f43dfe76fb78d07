"""Admins edit policies in the Django admin: each edit of the rule, guidance or ladder is a new version."""

import json

import pytest
from django.urls import reverse

from enforcement.models import Policy

pytestmark = pytest.mark.django_db


def _form(policy, **changes):
    data = {
        "slug": policy.slug, "name": policy.name, "category": policy.category_id, "guidance": policy.guidance,
        "rule_text": policy.rule_text, "ladder": json.dumps(policy.ladder),
        "strike_window_days": policy.strike_window_days, "decision_ground": policy.decision_ground, "is_active": "on",
        "versions-TOTAL_FORMS": policy.versions.count(), "versions-INITIAL_FORMS": policy.versions.count(),
        "versions-MIN_NUM_FORMS": 0, "versions-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return data


def test_editing_a_policy_in_the_admin_makes_a_version(client, admin_user, policy):
    client.force_login(admin_user)
    url = reverse("admin:enforcement_policy_change", args=[policy.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _form(policy, rule_text="Be kind. Always."))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = Policy.objects.get(pk=policy.pk)
    assert policy.version == 2
    assert list(policy.versions.order_by("version").values_list("rule_text", flat=True)) == [
        "Be kind to each other.", "Be kind. Always."]
    assert policy.versions.get(version=2).created_by == admin_user


@pytest.mark.parametrize("ladder, message", [
    ("[]", "This field is required"),
    ('{"action": "warn"}', "a list of at least one step"),
    ('[{"action": "ban"}]', "must be one of"),
    ('[{"action": "suspension"}]', "needs"),
    ('[{"action": "warn", "duration_hours": 5}]', "has no duration"),
])
def test_a_bad_ladder_is_refused(client, admin_user, policy, ladder, message):
    client.force_login(admin_user)
    url = reverse("admin:enforcement_policy_change", args=[policy.pk])
    response = client.post(url, _form(policy, ladder=ladder))
    assert response.status_code == 200 and message in response.content.decode()
    assert Policy.objects.get(pk=policy.pk).version == 1


def test_actions_are_read_only_in_the_admin(client, admin_user):
    from tests.factories import EnforcementActionFactory

    action = EnforcementActionFactory()
    client.force_login(admin_user)
    assert client.get(reverse("admin:enforcement_enforcementaction_changelist")).status_code == 200
    assert client.get(reverse("admin:enforcement_enforcementaction_add")).status_code == 403
    response = client.post(reverse("admin:enforcement_enforcementaction_change", args=[action.pk]), {"status": "reversed"})
    action.refresh_from_db()
    assert action.status == "active" and response.status_code in (200, 302, 403)
