"""The enforcement API: decide, approve / reject / reverse, and the subject status."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus
from enforcement import services
from enforcement.models import ActionStatus
from tests.factories import AccountFactory, ContentFactory, EnforcementActionFactory, MacroFactory

pytestmark = pytest.mark.django_db


def _decide_url(case):
    return reverse("api-case-decide", args=[case.pk])


def test_decide_with_several_actions(api_as, analyst, content_case, policy):
    response = api_as(analyst).post(_decide_url(content_case), {
        "actions": [{"type": "remove_content"}, {"type": "suspension", "duration_hours": 24, "target": "author"}],
        "rationale": "Scam link in the post.", "statement": "We removed your post and suspended your account.",
        "departure_reason": "Active scam: a warning would leave it running.",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["case"] == {"id": content_case.pk, "status": "resolved", "resolution": "actioned"}
    assert body["requires_approval"] is False and body["ladder_suggestion"]["action"] == "warn"
    remove, suspend = body["actions"]
    assert remove["type"] == "remove_content" and remove["target"]["external_id"] == content_case.subject.external_id
    assert suspend["target"]["external_id"] == content_case.subject.author.external_id
    assert suspend["duration_hours"] == 24 and suspend["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert suspend["policy"] == policy.slug and suspend["policy_version"] == 1
    assert remove["decision"] == suspend["decision"] == body["decision"]


def test_decide_with_a_macro(api_as, analyst, claimed, policy):
    MacroFactory(slug="api-macro", body="Your {subject} broke {policy} because {reason}.")
    case = claimed()
    response = api_as(analyst).post(_decide_url(case), {
        "actions": [{"type": "warn"}], "rationale": "r", "macro": "api-macro", "macro_values": {"reason": "spam"},
    }, format="json")
    assert response.status_code == 201
    assert response.json()["actions"][0]["statement"] == "Your account broke Test policy because spam."
    response = api_as(analyst).post(_decide_url(claimed()), {
        "actions": [{"type": "warn"}], "rationale": "r", "macro": "api-macro",
    }, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"macro_values": {"reason": ["Required."]}}


@pytest.mark.parametrize("body, field", [
    ({"actions": [{"type": "warn"}], "statement": "s"}, "rationale"),
    ({"actions": [], "rationale": "r", "statement": "s"}, "actions"),
    ({"actions": [{"type": "nuke"}], "rationale": "r", "statement": "s"}, "actions"),
    ({"actions": [{"type": "suspension"}], "rationale": "r", "statement": "s"}, "actions"),
    ({"actions": [{"type": "warn", "duration_hours": "soon"}], "rationale": "r", "statement": "s"}, "actions"),
    ({"actions": [{"type": "warn"}], "rationale": "r"}, "statement"),
    ({"actions": [{"type": "warn"}], "rationale": "r", "statement": "Because {reason}"}, "statement"),
    ({"actions": [{"type": "warn"}], "rationale": "r", "statement": "s", "policy": "unknown"}, "policy"),
    ({"actions": [{"type": "suspension", "duration_hours": 9}], "rationale": "r", "statement": "s"}, "departure_reason"),
    ({"actions": "warn", "rationale": "r", "statement": "s"}, "actions"),
])
def test_bad_input_is_400_with_field_errors(api_as, analyst, claimed, policy, body, field):
    case = claimed()
    response = api_as(analyst).post(_decide_url(case), body, format="json")
    assert response.status_code == 400, response.json()
    data = response.json()
    assert data["detail"] and field in data["errors"]
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_per_action_errors_point_at_the_action(api_as, analyst, claimed, policy):
    response = api_as(analyst).post(_decide_url(claimed()), {
        "actions": [{"type": "warn"}, {"type": "suspension"}], "rationale": "r", "statement": "s"}, format="json")
    errors = response.json()["errors"]["actions"]
    assert errors[0] == {} and "duration_hours" in errors[1]


def test_wrong_state_is_409(api_as, analyst, claimed, policy):
    for status in (CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.ON_HOLD):
        case = claimed(status=status)
        response = api_as(analyst).post(_decide_url(case), {
            "actions": [{"type": "warn"}], "rationale": "r", "statement": "s"}, format="json")
        assert response.status_code == 409, status
        assert response.json()["detail"]


def test_unknown_case_is_404(api_as, analyst, policy):
    response = api_as(analyst).post(reverse("api-case-decide", args=[999999]), {
        "actions": [{"type": "warn"}], "rationale": "r", "statement": "s"}, format="json")
    assert response.status_code == 404


def test_approve_reject_and_reverse(api_as, analyst, lead, other_lead, claimed, policy):
    case = claimed(AccountFactory(verified=True))
    decided = api_as(analyst).post(_decide_url(case), {
        "actions": [{"type": "warn"}], "rationale": "r", "statement": "s"}, format="json").json()
    action_id = decided["actions"][0]["id"]
    assert decided["requires_approval"] and decided["case"]["status"] == "awaiting_approval"

    response = api_as(analyst).post(reverse("api-action-approve", args=[action_id]), {}, format="json")
    assert response.status_code == 403  # not a lead
    response = api_as(lead).post(reverse("api-action-reject", args=[action_id]), {}, format="json")
    assert response.status_code == 400 and "comment" in response.json()["errors"]
    response = api_as(lead).post(reverse("api-action-approve", args=[action_id]), {"comment": "ok"}, format="json")
    assert response.status_code == 200
    assert response.json()[0]["status"] == "active" and response.json()[0]["reviewer"] == lead.username
    response = api_as(other_lead).post(reverse("api-action-approve", args=[action_id]), {}, format="json")
    assert response.status_code == 409

    response = api_as(lead).post(reverse("api-action-reverse", args=[action_id]), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api_as(lead).post(reverse("api-action-reverse", args=[action_id]), {"reason": "Mistake."},
                                 format="json")
    assert response.status_code == 200 and response.json()["status"] == "reversed"
    response = api_as(lead).post(reverse("api-action-reverse", args=[action_id]), {"reason": "Again."}, format="json")
    assert response.status_code == 409


def test_self_approval_over_the_api_is_403(api_as, lead, claimed, policy):
    case = claimed(AccountFactory(verified=True), assignee=lead)
    decided = api_as(lead).post(_decide_url(case), {
        "actions": [{"type": "warn"}], "rationale": "r", "statement": "s"}, format="json").json()
    response = api_as(lead).post(reverse("api-action-approve", args=[decided["actions"][0]["id"]]), {}, format="json")
    assert response.status_code == 403 and "two-person" in response.json()["detail"]


def test_reject_over_the_api(api_as, analyst, lead, claimed, policy):
    case = claimed(AccountFactory(verified=True))
    decided = api_as(analyst).post(_decide_url(case), {
        "actions": [{"type": "warn"}], "rationale": "r", "statement": "s"}, format="json").json()
    response = api_as(lead).post(reverse("api-action-reject", args=[decided["actions"][0]["id"]]),
                                 {"comment": "Needs evidence."}, format="json")
    assert response.status_code == 200 and response.json()[0]["status"] == "rejected"
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_subject_status_lists_active_restrictions_and_strikes(api_as, integration, analyst, claimed, policy,
                                                              django_assert_max_num_queries):
    account = AccountFactory(external_id="acct/with/slash")
    services.case_decide(case=claimed(account), actor=analyst, rationale="r", statement="s",
                         actions=[{"type": "suspension", "duration_hours": 24}], departure_reason="Severe.")
    post = ContentFactory(author=account)
    services.case_decide(case=claimed(post), actor=analyst, rationale="r", statement="s",
                         actions=[{"type": "remove_content"}, {"type": "feature_restriction", "duration_hours": 24}])
    EnforcementActionFactory(target=account, case__subject=account, status=ActionStatus.REVERSED)
    client = api_as(integration)
    client.get(reverse("api-subject-status", args=["account", account.external_id]))  # prepares its statements
    with django_assert_max_num_queries(5):  # + the subject's appeals (appeals' subject_status facts)
        response = client.get(reverse("api-subject-status", args=["account", account.external_id]))
    assert response.status_code == 200
    body = response.json()
    assert sorted(r["type"] for r in body["restrictions"]) == ["feature_restriction", "suspension"]
    assert body["strikes"] == 2 and body["strikes_by_policy"] == {policy.slug: 2}
    assert body["strike_account"] == account.external_id
    content = client.get(reverse("api-subject-status", args=["content", post.external_id])).json()
    assert [r["type"] for r in content["restrictions"]] == ["remove_content"]
    assert content["strikes"] == 2 and content["strike_account"] == account.external_id
    # After the sweep the temporary ones are gone from the status, the strikes remain.
    services.actions_expire(now=timezone.now() + timedelta(days=2))
    later = client.get(reverse("api-subject-status", args=["account", account.external_id])).json()
    assert later["restrictions"] == [] and later["strikes"] == 2


def test_subject_status_lists_the_newest_restrictions_and_says_when_there_are_more(api_as, integration, monkeypatch):
    from enforcement import selectors

    monkeypatch.setattr(selectors, "SUBJECT_STATUS_MAX_RESTRICTIONS", 3)
    account = AccountFactory(external_id="acct-many")
    now = timezone.now()
    actions = [EnforcementActionFactory(target=account, case__subject=account, action_type="feature_restriction",
                                        applied_at=now - timedelta(days=n)) for n in range(3)]
    url = reverse("api-subject-status", args=["account", account.external_id])
    body = api_as(integration).get(url).json()
    assert [r["action_id"] for r in body["restrictions"]] == [a.pk for a in actions]  # newest first
    assert body["restrictions_truncated"] is False
    oldest = EnforcementActionFactory(target=account, case__subject=account, action_type="suspension",
                                      applied_at=now - timedelta(days=30))
    body = api_as(integration).get(url).json()
    assert [r["action_id"] for r in body["restrictions"]] == [a.pk for a in actions]
    assert oldest.pk not in [r["action_id"] for r in body["restrictions"]]
    assert body["restrictions_truncated"] is True


def test_subject_status_errors(api_as, integration):
    client = api_as(integration)
    assert client.get(reverse("api-subject-status", args=["account", "nobody"])).status_code == 404
    assert client.get(reverse("api-subject-status", args=["group", "x"])).status_code == 400


def test_integrations_cannot_decide(api_as, integration, claimed, policy):
    response = api_as(integration).post(_decide_url(claimed()), {
        "actions": [{"type": "warn"}], "rationale": "r", "statement": "s"}, format="json")
    assert response.status_code == 403
