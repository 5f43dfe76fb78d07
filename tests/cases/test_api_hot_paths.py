"""The hot paths of the cases API: the fast path of intake validation agrees with DRF's fields, the
claim is one statement after authentication, and the case list's subquery rows read as the model's."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from cases.api import reports
from cases.api.cases import CaseSerializer
from cases.selectors import workspace as selectors
from cases.services import workflow
from tests.factories import CaseFactory, QueueFactory, TeamFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db

VALID = {
    "source": "automated", "external_id": "  r-1 ", "category": "phishing",
    "subject": {"kind": "account", "external_id": "acct-1", "handle": "", "follower_count": 12, "verified": False,
                "account_type": "business", "created_at": "2025-01-02T03:04:05Z",
                "signals": {"email_hash": "a@b.example", "ips": ["10.0.0.1"], "device_ids": []}},
    "reporter": None, "description": "tab\tand\nline breaks are fine", "classifier": {"label": "m", "score": 1},
    "received_at": "2026-01-01T00:00:00+02:00", "language": "pt-BR", "territory": "ie",
    "explanation": "", "exact_location": "https://platform.example/x", "good_faith_statement": True,
}
CONTENT = {
    "source": "user_report", "external_id": "r-2", "category": "spam",
    "subject": {"kind": "content", "external_id": "c-1", "content_type": "post", "text": "  kept as sent  ",
                "url": "https://platform.example/c/1", "author": {"external_id": "a-1", "follower_count": None}},
    "reporter": {"external_id": "u-1", "name": "N", "email": "n@example.org"},
}


def variants():
    """Valid items, and items each with one thing the fast path must hand to DRF."""
    yield VALID
    yield CONTENT
    for path, value in [
        (("external_id",), "   "), (("external_id",), "a\x00b"), (("external_id",), "x" * 201),
        (("external_id",), 5), (("source",), "fax"), (("subject", "follower_count"), -1),
        (("subject", "follower_count"), True), (("subject", "follower_count"), 1.0),
        (("classifier", "score"), 1.5), (("classifier", "score"), "0.5"), (("subject", "verified"), "yes"),
        (("language",), "english please"), (("territory",), "Ireland"), (("description",), "bad \ud800"),
        (("subject", "signals", "ips"), "1.2.3.4"), (("subject", "signals", "ips"), ["x"] * 51),
        (("subject", "kind"), "content"), (("received_at",), "yesterday"), (("subject",), None),
        (("subject", "created_at"), None), (("reporter",), "someone"),
    ]:
        item = copy.deepcopy(VALID)
        target = item
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        yield item


@pytest.mark.parametrize("item", list(variants()))
def test_the_fast_path_agrees_with_drfs_fields(item):
    slow, errors = reports._walk(reports._REPORT, item)
    try:
        fast = reports._fast_walk(reports._REPORT, item)
    except reports._Unsure:
        fast = None
    if errors:
        assert fast is None, errors  # never vouches for an item DRF refuses
    else:
        assert fast is None or fast == slow
    assert reports.validate(item)[1] == (reports._plain(errors) if errors else {})


def test_valid_items_take_the_fast_path():
    for item in (VALID, CONTENT):
        assert reports._fast_walk(reports._REPORT, item) == reports._walk(reports._REPORT, item)[0]


def test_claim_over_the_api_is_two_statements(api_client, analyst):
    team = TeamFactory()
    TeamMembershipFactory(team=team, user=analyst)
    queue = QueueFactory(slug="hot")
    queue.allowed_teams.add(team)
    cases = CaseFactory.create_batch(3, queue=queue)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=analyst).key}")
    assert api_client.post("/api/v1/queues/hot/claim/").status_code == 200  # prepares on first use
    with CaptureQueriesContext(connection) as queries:
        response = api_client.post("/api/v1/queues/hot/claim/")
    assert response.status_code == 200
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["EXECUTE", "EXECUTE"]
    assert response.json()["id"] in {c.pk for c in cases}


def test_the_claimed_case_reads_as_the_stored_one(analyst):
    queue = QueueFactory(slug="q")
    case = CaseFactory(queue=queue, priority_reasons=["High severity"])
    workflow.case_tags_set(case=case, names="ring, alpha", actor=analyst)
    claimed = workflow.case_claim_next(queue="q", actor=analyst)
    stored = type(claimed).objects.select_related("subject", "queue", "category", "assignee").get(pk=case.pk)
    assert CaseSerializer(claimed).data == CaseSerializer(stored).data
    assert CaseSerializer(claimed).data["tags"] == ["alpha", "ring"]


@pytest.fixture
def helper_team():
    return TeamFactory(slug="helpers")


def test_case_list_rows_read_as_the_models(analyst, make_user, helper_team):
    helper = make_user("analyst", username="helen")
    held = workflow.case_claim(case=CaseFactory(), actor=analyst)
    workflow.case_tags_set(case=held, names="ring", actor=analyst)
    workflow.case_hold(case=held, reason="help", team="helpers", actor=analyst)
    other = workflow.case_claim(case=CaseFactory(), actor=analyst)
    workflow.case_hold(case=other, reason="help", helper=helper, actor=analyst)
    workflow.case_resolve_no_violation(case=workflow.case_claim(case=CaseFactory(), actor=analyst), reason="ok",
                                       actor=analyst)
    CaseFactory()
    rows = selectors.case_queryset().select_related("subject").annotate(**selectors.case_list_values()).order_by("id")
    models = selectors.case_queryset().select_related(
        "subject", "queue", "category", "assignee", "held_for", "held_for_team", "resolved_by",
    ).prefetch_related("tags").order_by("id")
    assert CaseSerializer(rows, many=True).data == CaseSerializer(models, many=True).data
