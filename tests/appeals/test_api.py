"""The appeals API: 201 / 200 replay / 400 / 404 / 409, the list's filters, decide, what the
platform sees, and the schema."""

import pytest
from django.urls import reverse

from appeals.models import Appeal
from cases.services.workflow import case_claim
from enforcement.services import action_reverse
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _body(decided_on, **overrides):
    decision = decided_on
    body = {
        "decision": decision.ref,
        "appellant": {"kind": "subject", "external_id": decision.case.subject.external_id},
        "source": "platform", "external_id": "in-app-42", "statement": "I was quoting a film.",
    }
    body.update(overrides)
    return body


def test_post_files_an_appeal_and_a_repeat_answers_200_unchanged(api_as, integration, decided):
    decision = decided()
    client = api_as(integration)
    created = client.post(reverse("api-appeals"), _body(decision), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "open" and body["outcome"] is None and body["decision"] == decision.ref
    assert body["appellant"] == {"kind": "subject", "external_id": decision.case.subject.external_id}
    assert body["queue"] == "appeals" and body["due_at"] is not None
    # the platform sees nothing internal
    assert body["rationale"] is None and body["original_decider"] is None and body["decided_by"] is None
    again = client.post(reverse("api-appeals"), _body(decision, statement="other words"), format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert again.json()["statement"] == "I was quoting a film."
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize("change, status, field", [
    ({"appellant": {"kind": "subject", "external_id": "a-stranger"}}, 400, "appellant"),
    ({"appellant": {"kind": "notifier", "external_id": "a-stranger"}}, 400, "appellant"),
    ({"appellant": {"kind": "neighbour", "external_id": "x"}}, 400, "appellant"),
    ({"statement": "x" * 5001}, 400, "statement"),
    ({"statement": ""}, 400, "statement"),
    ({"source": ""}, 400, "source"),
    ({"decision": "4c9a4a1e-0000-4000-8000-000000000000"}, 404, None),
])
def test_bad_input_answers_with_a_message_a_person_can_act_on(api_as, integration, decided, change, status, field):
    response = api_as(integration).post(reverse("api-appeals"), _body(decided(), **change), format="json")
    assert response.status_code == status, response.json()
    assert response.json()["detail"]
    if field:
        assert field in response.json()["errors"]
    assert not Appeal.objects.exists()


def test_an_appeal_of_a_reversed_decision_answers_409(api_as, integration, decided, lead):
    decision = decided()
    action_reverse(action=decision.actions[0].pk, reason="Quoted a film.", actor=lead)
    response = api_as(integration).post(reverse("api-appeals"), _body(decision), format="json")
    assert response.status_code == 409 and "reversed" in response.json()["detail"]


def test_after_the_window_the_400_names_the_date_it_closed(api_as, integration, decided, freeze):
    from dateutil.relativedelta import relativedelta

    decision = decided()
    closes = decision.actions[0].applied_at + relativedelta(months=6)
    freeze(closes + relativedelta(days=1))
    response = api_as(integration).post(reverse("api-appeals"), _body(decision), format="json")
    assert response.status_code == 400
    assert f"closed on {closes:%Y-%m-%d}" in response.json()["detail"]


def test_decide_through_the_api(api_as, integration, decided, reviewer, analyst):
    decision = decided()
    appeal_id = api_as(integration).post(reverse("api-appeals"), _body(decision), format="json").json()["id"]
    appeal = Appeal.objects.get(pk=appeal_id)
    case_claim(case=appeal.case_id, actor=reviewer)
    url = reverse("api-appeal-decide", args=[appeal_id])
    refused = api_as(analyst).post(url, {"outcome": "overturned", "rationale": "r", "statement": "s"}, format="json")
    assert refused.status_code in (403, 409)
    bad = api_as(reviewer).post(url, {"outcome": "upheld", "rationale": "r", "statement": "s",
                                      "actions": [{"type": "warn"}]}, format="json")
    assert bad.status_code == 400 and "actions" in bad.json()["errors"]
    done = api_as(reviewer).post(url, {"outcome": "modified", "rationale": "Internal.", "statement": "Now a warning.",
                                       "actions": [{"type": "warn"}]}, format="json")
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["status"] == "decided" and body["outcome"] == "modified" and body["new_decision"]
    assert body["decided_by"] == "rita" and body["rationale"] == "Internal."
    again = api_as(reviewer).post(url, {"outcome": "upheld", "rationale": "r", "statement": "s"}, format="json")
    assert again.status_code == 409
    platform_view = api_as(integration).get(reverse("api-appeal-detail", args=[appeal_id])).json()
    assert platform_view["response"] == "Now a warning." and platform_view["rationale"] is None
    assert platform_view["decided_by"] is None


def test_list_filters(api_as, lead, decided, file_appeal, claimed_appeal, reviewer,
                      django_assert_max_num_queries):
    from appeals import services

    open_one = file_appeal(decided()).appeal
    done = claimed_appeal(decided())
    services.appeal_decide(appeal=done, outcome="overturned", rationale="r", statement="s", actor=reviewer)
    client = api_as(lead)

    def ids(**params):
        response = client.get(reverse("api-appeals"), params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    with django_assert_max_num_queries(4):
        assert ids() == [done.pk, open_one.pk]
    assert ids(status="open") == [open_one.pk]
    assert ids(outcome="overturned") == [done.pk]
    assert ids(decided_by="rita") == [done.pk]
    assert ids(policy="appeal-policy") == [done.pk, open_one.pk]
    assert ids(queue="appeals") == [done.pk, open_one.pk]
    assert ids(created_after="2000-01-01T00:00:00Z", created_before="2001-01-01T00:00:00Z") == []
    assert client.get(reverse("api-appeals"), {"status": "nonsense"}).status_code == 400


def test_unknown_appeal_is_404(api_as, lead, db):
    assert api_as(lead).get(reverse("api-appeal-detail", args=[999999])).status_code == 404


def test_the_schema_documents_the_appeal_endpoints(api_as, lead):
    schema = api_as(lead).get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    post = paths["/api/v1/appeals/"]["post"]
    assert {"200", "201", "400", "404", "409"} <= set(post["responses"])
    assert "get" in paths["/api/v1/appeals/"] and "get" in paths["/api/v1/appeals/{id}/"]
    params = {p["name"] for p in paths["/api/v1/appeals/"]["get"]["parameters"]}
    assert {"status", "outcome", "queue", "policy", "decided_by", "created_after", "created_before"} <= params
    assert "/api/v1/appeals/{id}/decide/" in paths


def test_subject_status_shows_the_appeal_and_nothing_internal(api_as, integration, decided, claimed_appeal, reviewer):
    from appeals import services

    account = AccountFactory()
    appeal = claimed_appeal(decided(account))
    services.appeal_decide(appeal=appeal, outcome="upheld", rationale="SECRET-RATIONALE", statement="It stands.",
                           actor=reviewer)
    response = api_as(integration).get(reverse("api-subject-status", args=["account", account.external_id]))
    assert response.status_code == 200
    body = response.json()
    assert body["appeals"] == [{
        "id": appeal.pk, "decision": str(appeal.decision_ref), "appellant_kind": "subject", "status": "decided",
        "outcome": "upheld", "filed_at": body["appeals"][0]["filed_at"], "due_at": None,
        "decided_at": body["appeals"][0]["decided_at"],
    }]
    text = response.content.decode()
    assert "SECRET-RATIONALE" not in text and "rita" not in text and "Internal" not in text
