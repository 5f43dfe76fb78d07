"""Routing: ordered rules, first match wins, categories cover their descendants, the default queue;
and the admin API for routing rules and trusted flaggers."""

import pytest
from rest_framework.test import APIClient

from cases.models import Category, Queue, RoutingRule, TrustedFlagger
from cases.routing import RoutingTable, ancestors, descendants, route_report
from tests.factories import CategoryFactory, QueueFactory, RoutingRuleFactory, user_with_role
from tsconsole import roles
from tsconsole.errors import Conflict
from tsconsole.models import AuditEntry

pytestmark = pytest.mark.django_db


def cat(slug):
    return Category.objects.get(slug=slug)


@pytest.fixture
def blank():
    """No migrated rules: each test states its own."""
    RoutingRule.objects.all().delete()
    return Queue.objects.get(is_default=True)


def route(**kw):
    kw.setdefault("source", "user_report")
    return RoutingTable.load().route(**kw)


def test_default_rules_from_the_migration():
    assert route(category_id=cat("csam").id).queue_slug == "child-safety"
    assert route(category_id=cat("phishing").id).queue_slug == "fraud-marketplace"
    assert route(category_id=cat("prohibited-items").id).queue_slug == "fraud-marketplace"
    assert route(category_id=cat("spam").id, source="legal_request").queue_slug == "legal"
    # child safety is checked before legal requests
    assert route(category_id=cat("grooming").id, source="legal_request").queue_slug == "child-safety"
    assert route(category_id=cat("hate-speech").id).queue_slug == "general"


def test_first_match_wins_by_position_then_id(blank):
    first, second = QueueFactory(slug="first"), QueueFactory(slug="second")
    RoutingRuleFactory(position=20, queue=second, source="automated")
    RoutingRuleFactory(position=10, queue=first, source="automated")
    assert route(category_id=cat("spam").id, source="automated").queue_slug == "first"
    RoutingRule.objects.filter(queue=first).update(position=20)
    # same position: the older rule (lower id) wins
    assert route(category_id=cat("spam").id, source="automated").queue_slug == "second"


def test_no_match_goes_to_the_default_queue(blank):
    RoutingRuleFactory(position=1, queue=QueueFactory(slug="auto"), source="automated")
    result = route(category_id=cat("spam").id, source="user_report")
    assert (result.queue_id, result.rule_id, result.reason) == (blank.id, None, "Default queue")


def test_category_rule_matches_its_descendants_at_any_depth(blank):
    parent = CategoryFactory(slug="tree-root")
    child = CategoryFactory(slug="tree-child", parent=parent)
    grandchild = CategoryFactory(slug="tree-grandchild", parent=child)
    RoutingRuleFactory(position=1, queue=QueueFactory(slug="tree"), category=parent)
    for category in (parent, child, grandchild):
        assert route(category_id=category.id).queue_slug == "tree"
    RoutingRule.objects.update(category=child)
    assert route(category_id=parent.id).queue_slug == "general"
    assert route(category_id=grandchild.id).queue_slug == "tree"


def test_every_set_condition_must_match(blank):
    RoutingRuleFactory(position=1, queue=QueueFactory(slug="strict"), category=cat("scams-fraud"),
                       source="automated", min_classifier_score=0.8, language="pt", territory="br")
    base = {"category_id": cat("phishing").id, "source": "automated", "score": 0.85, "language": "pt-BR",
            "territory": "BR"}
    assert route(**base).queue_slug == "strict"
    for change in ({"category_id": cat("spam").id}, {"source": "user_report"}, {"score": 0.79}, {"score": None},
                   {"language": "es"}, {"language": ""}, {"territory": "PT"}):
        assert route(**{**base, **change}).queue_slug == "general", change
    assert route(**{**base, "language": "PT"}).queue_slug == "strict"
    assert route(**{**base, "score": 0.8}).queue_slug == "strict"


def test_inactive_rules_and_retired_queues_route_nothing(blank):
    retired = QueueFactory(slug="retired", is_active=False)
    RoutingRuleFactory(position=1, queue=retired, source="automated")
    RoutingRuleFactory(position=2, queue=QueueFactory(slug="off"), source="automated", is_active=False)
    assert route(category_id=cat("spam").id, source="automated").queue_slug == "general"


def test_without_a_default_the_first_active_queue_catches_the_rest(blank):
    Queue.objects.update(is_default=False)
    first = Queue.objects.filter(is_active=True).order_by("position", "name", "id").first()
    assert route(category_id=cat("spam").id).queue_id == first.id


def test_without_any_active_queue_routing_says_so(blank):
    Queue.objects.update(is_active=False)
    with pytest.raises(Conflict, match="No active queue"):
        route_report(category_id=cat("spam").id, source="user_report")


def test_tree_helpers_survive_a_cycle():
    tree = [(1, None), (2, 1), (3, 2), (4, 5), (5, 4)]
    assert descendants(tree)[1] == frozenset({1, 2, 3})
    assert ancestors(tree)[3] == (3, 2, 1)
    assert ancestors(tree)[4] == (4, 5)


def test_routing_table_loads_in_three_queries_and_routes_without_any(django_assert_num_queries):
    ids = list(Category.objects.values_list("id", flat=True))
    with django_assert_num_queries(3):
        table = RoutingTable.load()
    with django_assert_num_queries(0):
        slugs = {table.route(category_id=cid, source=source).queue_slug
                 for cid in ids for source in ("user_report", "legal_request")}
    assert slugs == {"general", "child-safety", "legal", "fraud-marketplace"}


# --------------------------------------------------------------------------- API: routing rules

RULES = "/api/v1/routing-rules/"
FLAGGERS = "/api/v1/trusted-flaggers/"


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()  # its own client: api_as re-authenticates the shared one
    client.force_authenticate(user=admin_user)
    return client


def test_admin_lists_rules_in_order(admin_api):
    body = admin_api.get(RULES).json()
    assert [r["name"] for r in body] == ["Child safety", "Legal requests", "Scams and fraud", "Marketplace"]
    assert body[0]["queue"] == "child-safety" and body[0]["category"] == "child-safety"


def test_admin_creates_a_rule_that_routes_the_next_report(admin_api, integration, api_as, admin_user):
    QueueFactory(slug="hate-desk")
    response = admin_api.post(RULES, {"position": 5, "name": "Hate", "queue": "hate-desk", "category": "hate",
                                      "territory": "de"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["territory"] == "DE"
    audit = AuditEntry.objects.get(verb="routing_rule.created")
    assert audit.actor == admin_user and audit.data["after"]["queue"] == "hate-desk"
    report = {"source": "user_report", "external_id": "r", "category": "hate-speech", "territory": "DE",
              "subject": {"kind": "account", "external_id": "a"}}
    assert api_as(integration).post("/api/v1/reports/", report, format="json").json()["case"]["queue"] == "hate-desk"


def test_admin_changes_and_deletes_a_rule(admin_api):
    rule = RoutingRule.objects.get(name="Marketplace")
    response = admin_api.patch(f"{RULES}{rule.pk}/", {"min_classifier_score": 0.5, "source": "automated"},
                               format="json")
    assert response.status_code == 200
    rule.refresh_from_db()
    assert (rule.min_classifier_score, rule.source, rule.queue.slug) == (0.5, "automated", "fraud-marketplace")
    assert admin_api.delete(f"{RULES}{rule.pk}/").status_code == 204
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()
    assert AuditEntry.objects.filter(verb__in=["routing_rule.changed", "routing_rule.deleted"]).count() == 2


@pytest.mark.parametrize(("data", "field"), [
    ({"queue": "nowhere"}, "queue"),
    ({"queue": "general", "category": "nope"}, "category"),
    ({"queue": "general", "source": "pigeon"}, "source"),
    ({"queue": "general", "min_classifier_score": 2}, "min_classifier_score"),
    ({"queue": "general", "territory": "Germany"}, "territory"),
])
def test_bad_rules_are_refused_naming_the_field(admin_api, data, field):
    response = admin_api.post(RULES, data, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert RoutingRule.objects.count() == 4


def test_rule_into_a_retired_queue_is_refused(admin_api):
    QueueFactory(slug="retired", is_active=False)
    response = admin_api.post(RULES, {"queue": "retired"}, format="json")
    assert response.status_code == 400 and "queue" in response.json()["errors"]


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != roles.ADMIN])
def test_only_admins_configure_routing(api_as, role):
    client = api_as(user_with_role(role))
    assert client.get(RULES).status_code == 403
    assert client.post(RULES, {"queue": "general"}, format="json").status_code == 403
    assert client.get(FLAGGERS).status_code == 403


# --------------------------------------------------------------------------- API: trusted flaggers


def test_admin_registers_a_trusted_flagger(admin_api, integration):
    response = admin_api.post(FLAGGERS, {"name": "Hotline e.V.", "awarding_authority": "Bundesnetzagentur",
                                         "areas": ["child-safety", "hate"], "user": integration.username},
                              format="json")
    assert response.status_code == 201, response.json()
    flagger = TrustedFlagger.objects.get()
    assert flagger.user == integration
    assert sorted(flagger.areas.values_list("slug", flat=True)) == ["child-safety", "hate"]
    assert AuditEntry.objects.get(verb="trusted_flagger.registered").data["after"]["areas"] == ["child-safety", "hate"]
    listed = admin_api.get(FLAGGERS).json()
    assert listed[0]["areas"] == ["child-safety", "hate"] and listed[0]["user"] == integration.username


def test_flagger_user_must_be_an_integration_account(admin_api, analyst):
    response = admin_api.post(FLAGGERS, {"name": "X", "awarding_authority": "DSC", "user": analyst.username},
                              format="json")
    assert response.status_code == 400 and "user" in response.json()["errors"]


def test_changing_areas_changes_what_ranks_up(admin_api, api_as, integration):
    flagger = admin_api.post(FLAGGERS, {"name": "F", "awarding_authority": "DSC", "areas": ["hate"],
                                        "user": integration.username}, format="json").json()
    client = api_as(integration)
    body = {"source": "trusted_flagger", "category": "spam", "subject": {"kind": "account", "external_id": "a"}}
    assert client.post("/api/v1/reports/", {**body, "external_id": "1"}, format="json").json()["case"]["priority"] == 3
    admin_api.patch(f"{FLAGGERS}{flagger['id']}/", {"areas": ["spam-manipulation"]}, format="json")
    body["subject"]["external_id"] = "b"
    assert client.post("/api/v1/reports/", {**body, "external_id": "2"}, format="json").json()["case"]["priority"] == 2


def test_flagger_with_reports_is_deactivated_not_deleted(admin_api, api_as, integration):
    created = admin_api.post(FLAGGERS, {"name": "F", "awarding_authority": "DSC", "user": integration.username},
                             format="json").json()
    api_as(integration).post("/api/v1/reports/", {"source": "trusted_flagger", "external_id": "1", "category": "spam",
                                                  "subject": {"kind": "account", "external_id": "a"}}, format="json")
    assert admin_api.delete(f"{FLAGGERS}{created['id']}/").status_code == 204
    flagger = TrustedFlagger.objects.get()
    assert not flagger.is_active and flagger.report_set.count() == 1
    empty = admin_api.post(FLAGGERS, {"name": "G", "awarding_authority": "DSC"}, format="json").json()
    assert admin_api.delete(f"{FLAGGERS}{empty['id']}/").status_code == 204
    assert TrustedFlagger.objects.count() == 1
