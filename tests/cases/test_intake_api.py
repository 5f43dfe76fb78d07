"""POST /api/v1/reports/: single and bulk, idempotency, every kind of bad input, and who may send."""

import json

import pytest
from django.urls import reverse

from cases.models import Case, CaseEvent, Report, Signal, Subject, SubjectSignal
from tsconsole import roles

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/"


def report(external_id="r-1", **overrides):
    body = {
        "source": "user_report", "external_id": external_id, "category": "phishing",
        "subject": {"kind": "content", "external_id": "post-1", "content_type": "post", "text": "Log in here",
                    "url": "https://platform.example/p/1",
                    "author": {"external_id": "acct-1", "handle": "bank_help", "follower_count": 230}},
        "reporter": {"external_id": "user-9"},
        "description": "Pretends to be my bank",
    }
    body.update(overrides)
    return body


def state():
    return (Report.objects.count(), Case.objects.count(), CaseEvent.objects.count(), Subject.objects.count(),
            Signal.objects.count(), SubjectSignal.objects.count())


@pytest.fixture
def client(api_as, integration):
    return api_as(integration)


def test_single_report_opens_a_case(client, integration):
    response = client.post(URL, report(), format="json")
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body == {"id": Report.objects.get().pk, "external_id": "r-1", "created": True,
                    "case": {"id": case.pk, "status": "open", "queue": "fraud-marketplace", "priority": 1}}
    assert case.subject.kind == "content" and case.subject.author.handle == "bank_help"
    assert case.report_count == 1 and case.reporter_count == 1
    assert case.priority_reasons[0] == "High severity category “Phishing”: P1 baseline"
    event = CaseEvent.objects.get()
    assert (event.verb, event.to_status, event.actor, event.actor_kind) == ("opened", "open", integration, "integration")
    assert event.data["queue"] == "fraud-marketplace" and event.data["route"] == "Routing rule “Scams and fraud”"
    report_row = Report.objects.get()
    assert report_row.submitted_by == integration and report_row.reporter_ref == "user-9"


def test_same_source_and_external_id_again_is_200_with_the_same_body_and_changes_nothing(client):
    first = client.post(URL, report(), format="json").json()
    before = state()
    subject_updated = Subject.objects.get(kind="content").updated_at
    again = client.post(URL, report(description="edited", subject={"kind": "account", "external_id": "other"}),
                        format="json")
    assert again.status_code == 200
    assert again.json() == {**first, "created": False}
    assert state() == before
    assert Subject.objects.get(kind="content").updated_at == subject_updated


def test_same_external_id_from_another_source_is_another_report(client):
    client.post(URL, report(), format="json")
    response = client.post(URL, report(source="automated", classifier={"label": "phish", "score": 0.4}),
                           format="json")
    assert response.status_code == 201
    assert Report.objects.count() == 2 and Case.objects.count() == 1


def test_bulk_results_in_request_order_valid_items_committed(client):
    items = [report("b-1"), report("b-2", category="no-such-category"),
             report("b-3", subject={"kind": "account", "external_id": "acct-7"}), report("b-1")]
    response = client.post(URL, items, format="json")
    assert response.status_code == 207
    body = response.json()
    assert [r["result"] for r in body["results"]] == ["created", "error", "created", "duplicate"]
    assert [r["status"] for r in body["results"]] == [201, 400, 201, 200]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert body["results"][1]["errors"] == {
        "category": ["Unknown category “no-such-category”: GET /api/v1/categories/ lists the valid slugs."]}
    assert body["results"][3]["id"] == body["results"][0]["id"] and body["results"][3]["created"] is False
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 1, 1)
    assert set(Report.objects.values_list("external_id", flat=True)) == {"b-1", "b-3"}


AWKWARD_TEXT = ['a "quoted" word', "back\\slash\\", "{braces}, commas", "NULL", "", "line\nbreak", "ünïcødé ✓"]


def test_whatever_a_report_says_is_stored_exactly(client):
    """Rows go to the database as one array literal per column: quotes, backslashes, braces, commas,
    the word NULL and empty text must all come back as sent, alone or in a list."""
    items = [report(f"awk-{i}", description=text, subject={
        "kind": "content", "external_id": f"awk-post-{i}", "content_type": "post", "text": text or "x",
        "author": {"external_id": f"awk-{i}", "handle": f"h{i}"}}) for i, text in enumerate(AWKWARD_TEXT)]
    assert client.post(URL, items[0], format="json").status_code == 201
    assert client.post(URL, items[1:], format="json").status_code == 207
    for i, text in enumerate(AWKWARD_TEXT):
        stored = Report.objects.select_related("subject").get(external_id=f"awk-{i}")
        assert (stored.description, stored.subject.text) == (text, text or "x")


def test_bulk_replay_creates_nothing(client):
    items = [report(f"b-{i}", subject={"kind": "account", "external_id": f"acct-{i % 3}"}) for i in range(10)]
    first = client.post(URL, items, format="json").json()
    before = state()
    again = client.post(URL, items, format="json")
    assert again.status_code == 207
    body = again.json()
    assert body["created"] == 0 and body["duplicates"] == 10
    assert [r["id"] for r in body["results"]] == [r["id"] for r in first["results"]]
    assert state() == before


def test_bulk_reports_about_one_subject_share_one_case(client):
    items = [report(f"b-{i}", reporter={"external_id": f"u-{i}"}) for i in range(6)]
    body = client.post(URL, items, format="json").json()
    assert len({r["case"]["id"] for r in body["results"]}) == 1
    case = Case.objects.get()
    assert case.report_count == 6 and case.reporter_count == 6
    # five or more distinct reporters rank the case up
    assert case.priority == 0 and any("6 distinct reporters" in r for r in case.priority_reasons)
    assert list(CaseEvent.objects.order_by("id").values_list("verb", flat=True)) == ["opened"] + ["report_added"] * 5


def test_bulk_statement_count_does_not_grow_with_the_list(client, django_assert_max_num_queries):
    client.post(URL, [report("warm", subject={"kind": "account", "external_id": "warm"})], format="json")
    items = [report(f"q-{i}", subject={"kind": "content", "external_id": f"post-{i}", "author": {
        "external_id": f"acct-{i}", "signals": {"email_hash": f"u{i}@mail.example", "ips": ["10.0.0.1"]}}})
        for i in range(200)]
    items += [report(f"j-{i}", subject={"kind": "content", "external_id": f"post-{i}"}) for i in range(50)]
    with django_assert_max_num_queries(20):
        response = client.post(URL, items, format="json")
    assert response.json()["created"] == 250
    assert Case.objects.filter(subject__external_id__startswith="post-").count() == 200


def test_single_report_statement_count(client, django_assert_max_num_queries):
    client.post(URL, report("warm"), format="json")
    with django_assert_max_num_queries(14):
        assert client.post(URL, report("next", subject={"kind": "account", "external_id": "a-2", "signals": {
            "device_ids": ["dev-1"]}}), format="json").status_code == 201


# --------------------------------------------------------------------------- bad input

BAD_ITEMS = [
    ("unknown category", {"category": "nope"}, "category"),
    ("unknown source", {"source": "carrier_pigeon"}, "source"),
    ("missing subject", {"subject": None}, "subject"),
    ("subject not an object", {"subject": "post-1"}, "subject"),
    ("missing external id", {"external_id": ""}, "external_id"),
    ("external id an object", {"external_id": {"id": 1}}, "external_id"),
    ("score above 1", {"classifier": {"score": 1.5}}, "classifier"),
    ("score below 0", {"classifier": {"score": -0.1}}, "classifier"),
    ("score a string", {"classifier": {"score": "0.9"}}, "classifier"),
    ("unknown subject kind", {"subject": {"kind": "group", "external_id": "g"}}, "subject"),
    ("follower count not a number", {"subject": {"kind": "account", "external_id": "a", "follower_count": "many"}},
     "subject"),
    ("verified not a boolean", {"subject": {"kind": "account", "external_id": "a", "verified": "yes"}}, "subject"),
    ("content field on an account", {"subject": {"kind": "account", "external_id": "a", "text": "hi"}}, "subject"),
    ("signals on content", {"subject": {"kind": "content", "external_id": "c", "signals": {"ips": ["1.2.3.4"]}}},
     "subject"),
    ("bad url", {"subject": {"kind": "content", "external_id": "c", "url": "not a url"}}, "subject"),
    ("bad received_at", {"received_at": "yesterday"}, "received_at"),
    ("bad territory", {"territory": "Ireland"}, "territory"),
    ("bad language", {"language": "english please"}, "language"),
    ("signals not a list", {"subject": {"kind": "account", "external_id": "a", "signals": {"ips": "1.2.3.4"}}},
     "subject"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_ITEMS, ids=[b[0] for b in BAD_ITEMS])
def test_bad_single_report_is_400_naming_the_field_and_stores_nothing(client, case, change, field):
    before = state()
    response = client.post(URL, report(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert state() == before


@pytest.mark.parametrize(("case", "change", "field"), BAD_ITEMS, ids=[b[0] for b in BAD_ITEMS])
def test_bad_bulk_item_is_reported_and_the_rest_committed(client, case, change, field):
    response = client.post(URL, [report("ok-1"), {**report("bad"), **change}], format="json")
    assert response.status_code == 207
    results = response.json()["results"]
    assert results[0]["result"] == "created"
    assert results[1]["result"] == "error" and field in results[1]["errors"]
    assert list(Report.objects.values_list("external_id", flat=True)) == ["ok-1"]


def test_nested_errors_name_the_nested_field(client):
    body = client.post(URL, report(subject={"kind": "account", "external_id": "a", "follower_count": -3,
                                            "author": None}), format="json").json()
    assert body["errors"]["subject"]["follower_count"] == ["Ensure this value is greater than or equal to 0."]


def test_missing_required_fields_are_each_named(client):
    body = client.post(URL, {}, format="json").json()
    assert set(body["errors"]) == {"source", "external_id", "category", "subject"}


@pytest.mark.parametrize(("payload", "detail"), [
    ([], "The list is empty"),
    ([{"x": 1}] * 1001, "1001 reports in one request"),
    (["r-1", 5], "Every item of the list must be a report object"),
    ("just a string", "Send a report object or a list"),
    (42, "Send a report object or a list"),
])
def test_bad_request_shapes_are_400(client, payload, detail):
    before = state()
    response = client.post(URL, json.dumps(payload), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert state() == before


def test_items_that_are_not_objects_are_named_by_index(client):
    body = client.post(URL, [report("a"), "b", None], format="json").json()
    assert body["errors"] == {"1": ["Expected a report object, got str."], "2": ["Expected a report object, got null."]}
    assert not Report.objects.exists()


def test_non_json_is_400(client):
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_lone_surrogates_and_nul_characters_are_refused(client):
    body = json.dumps(report(description="ok \ud800 no", subject={"kind": "account", "external_id": "a\u0000b"}))
    errors = client.post(URL, body, content_type="application/json").json()["errors"]
    assert errors["description"] == ["Surrogate characters are not allowed: U+D800."]
    assert errors["subject"]["external_id"] == ["Control characters (NUL, tab, line breaks and the like) are not allowed here."]


def test_nan_is_not_json(client):
    body = json.dumps(report()).replace('"description"', '"classifier": {"score": NaN}, "description"')
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400 and "NaN is not valid JSON" in response.json()["detail"]


def test_a_large_list_is_read_whole_and_an_oversized_body_is_413(client):
    items = [report(f"big-{i}", description="x" * 5000, subject={"kind": "account", "external_id": f"a-{i}"})
             for i in range(1000)]
    body = json.dumps(items)
    assert len(body) > 5_000_000  # beyond Django's general 2.5 MB request limit
    assert client.post(URL, body, content_type="application/json").json()["created"] == 1000
    huge = "[" + " " * (32 * 1024 * 1024) + "]"
    response = client.post(URL, huge, content_type="application/json")
    assert response.status_code == 413 and "32 MB" in response.json()["detail"]


def test_form_data_is_refused(client):
    assert client.post(URL, {"source": "user_report"}).status_code == 415


def test_a_list_of_exactly_1000_is_accepted(client):
    items = [report(f"k-{i}", subject={"kind": "account", "external_id": f"a-{i % 250}"}) for i in range(1000)]
    body = client.post(URL, items, format="json").json()
    assert body["created"] == 1000 and Case.objects.count() == 250


def test_retired_category_is_refused(client):
    from cases.models import Category

    Category.objects.filter(slug="phishing").update(is_active=False)
    from cases.services.intake import intake_context_changed

    intake_context_changed()
    body = client.post(URL, report(), format="json").json()
    assert body["errors"] == {"category": ["Category “phishing” is no longer in use."]}


# --------------------------------------------------------------------------- who may send


@pytest.mark.parametrize("role", roles.ROLES)
def test_role_access(api_as, make_user, role):
    allowed = role in {roles.INTEGRATION, roles.ANALYST, roles.LEAD, roles.ADMIN}
    response = api_as(make_user(role)).post(URL, report(), format="json")
    assert response.status_code == (201 if allowed else 403)
    assert Report.objects.exists() == allowed


def test_support_agent_is_refused_with_a_reason(api_as, support_agent):
    response = api_as(support_agent).post(URL, report(), format="json")
    assert response.status_code == 403
    assert "report.create" in response.json()["detail"]


def test_anonymous_is_refused(api_client):
    assert api_client.post(URL, report(), format="json").status_code in (401, 403)
    assert not Report.objects.exists()


def test_token_authentication(api_client, integration):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=integration)
    response = api_client.post(URL, report(), format="json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201


# --------------------------------------------------------------------------- discovery


def test_categories_list_the_taxonomy(client):
    body = client.get(reverse("api-categories")).json()
    phishing = next(c for c in body if c["slug"] == "phishing")
    assert phishing == {"slug": "phishing", "name": "Phishing", "parent": "scams-fraud",
                        "dsa_category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "dsa_keyword": "KEYWORD_PHISHING",
                        "default_severity": 1, "sensitive": False}
    assert any(c["parent"] is None and c["slug"] == "child-safety" for c in body)


def test_openapi_documents_single_and_bulk(api_as, admin_user):
    schema = api_as(admin_user).get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/reports/"]["post"]
    assert {"200", "201", "207", "400"} <= set(operation["responses"])
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][request_schema["$ref"].rsplit("/", 1)[-1]]
    kinds = {json.dumps(option, sort_keys=True) for option in component["oneOf"]}
    assert any('"type": "array"' in k for k in kinds) and any("ReportRequest" in k for k in kinds)
    assert "BulkResult" in schema["components"]["schemas"]
