"""DSA statements of reasons: the Transparency Database's format and rules, for every action type;
personal data kept out; the sweep, its batches through the outbox, and the taxonomy's v2 values."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import DSA_KEYWORDS, Category, DsaCategory
from enforcement.models import ActionType
from insights import dsa, services
from insights.models import SorBatch, StatementOfReasons
from tests import factories as fx
from tsconsole.models import OutboxMessage

from .world import applied_action

pytestmark = pytest.mark.django_db

RESTRICTIONS = [t for t in ActionType.values if t not in ("warn", "no_violation")]


def _statement(action, report=None):
    action.refresh_from_db()
    return dsa.statement_for(action, first_report=report)


@pytest.mark.parametrize("action_type", RESTRICTIONS)
@pytest.mark.parametrize("ground", ["DECISION_GROUND_INCOMPATIBLE_CONTENT", "DECISION_GROUND_ILLEGAL_CONTENT"])
def test_every_restriction_yields_a_statement_the_database_accepts(action_type, ground):
    action, report = applied_action(action_type, ground=ground)
    statement = _statement(action, report)

    assert dsa.statement_errors(statement) == {}
    assert statement["decision_ground"] == ground
    assert statement["puid"] == f"tsconsole-{action.pk}"
    assert statement["source_type"] == "SOURCE_ARTICLE_16"
    assert statement["automated_detection"] == "No"
    assert statement["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert statement["application_date"] == action.applied_at.date().isoformat()
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        assert statement["illegal_content_legal_ground"] and statement["illegal_content_explanation"]
        assert "incompatible_content_ground" not in statement
    else:
        assert statement["incompatible_content_ground"] and statement["incompatible_content_explanation"]
        assert "illegal_content_legal_ground" not in statement


@pytest.mark.parametrize("action_type, fields", [
    ("remove_content", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}),
    ("restrict_visibility", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DEMOTED"]}),
    ("feature_restriction", {"decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION"}),
    ("suspension", {"decision_account": "DECISION_ACCOUNT_SUSPENDED",
                    "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"}),
    ("termination", {"decision_account": "DECISION_ACCOUNT_TERMINATED",
                     "decision_provision": "DECISION_PROVISION_TOTAL_TERMINATION"}),
    ("transaction_hold", {"decision_monetary": "DECISION_MONETARY_SUSPENSION"}),
])
def test_decision_fields_and_end_dates_follow_the_action(action_type, fields):
    action, report = applied_action(action_type)
    statement = _statement(action, report)
    for key, value in fields.items():
        assert statement[key] == value
    ends = action.ends_at.date().isoformat() if action.ends_at else None
    for decision, end_field in dsa.END_DATE_FIELD.items():
        if decision in fields and ends:
            assert statement[end_field] == ends
        else:
            assert end_field not in statement


def test_account_restrictions_describe_the_account_as_other_content():
    action, report = applied_action("suspension")
    statement = _statement(action, report)
    assert statement["content_type"] == ["CONTENT_TYPE_OTHER"]
    assert statement["content_type_other"] == "Account"
    assert statement["account_type"] == "ACCOUNT_TYPE_PRIVATE"


def test_trusted_flagger_notices_name_the_organisation_and_own_initiative_has_none():
    flagger = fx.TrustedFlaggerFactory(name="Hotline Europe")
    action, report = applied_action("remove_content", source="trusted_flagger")
    report.trusted_flagger = flagger
    report.save()
    statement = _statement(action, report)
    assert statement["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert statement["source_identity"] == "Hotline Europe"

    own, _ = applied_action("remove_content", automated=True)
    statement = _statement(own, None)
    assert statement["source_type"] == "SOURCE_VOLUNTARY"
    assert "source_identity" not in statement
    assert statement["automated_detection"] == "Yes"
    assert dsa.statement_errors(statement) == {}


def test_no_personal_data_in_free_text():
    action, report = applied_action("remove_content")
    action.target.author.handle = "janedoe"
    action.target.author.save()
    action.statement = ("You (@janedoe, jane.doe@example.com, +44 20 7946 0958) posted https://evil.example/x "
                        "about janedoe.")
    action.save()
    statement = _statement(action, report)
    text = " ".join(str(v) for v in statement.values())
    for leaked in ("janedoe", "jane.doe@example.com", "7946", "evil.example"):
        assert leaked not in text
    assert "[email]" in statement["decision_facts"] and "[link]" in statement["decision_facts"]


@pytest.mark.parametrize("change, field", [
    ({"category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}, "category"),
    ({"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"}, "category"),
    ({"category_specification": ["KEYWORD_CYBERSTALKING"]}, "category_specification"),
    ({"puid": "has space"}, "puid"),
    ({"application_date": "2025-13-40"}, "application_date"),
    ({"application_date": "2019-12-31"}, "application_date"),
    ({"decision_facts": ""}, "decision_facts"),
    ({"decision_facts": "x" * 5001}, "decision_facts"),
    ({"content_type": ["CONTENT_TYPE_OTHER"], "content_type_other": ""}, "content_type_other"),
    ({"automated_detection": "yes"}, "automated_detection"),
    ({"territorial_scope": ["US"]}, "territorial_scope"),
    ({"source_type": "SOURCE_VOLUNTARY", "source_identity": "Someone"}, "source_identity"),
])
def test_the_rules_refuse_what_the_database_refuses(change, field):
    action, report = applied_action("remove_content")
    statement = {**_statement(action, report), **change}
    assert field in dsa.statement_errors(statement)


def test_the_rules_check_the_ground_fields_and_end_dates():
    action, report = applied_action("suspension", ground="DECISION_GROUND_ILLEGAL_CONTENT")
    statement = _statement(action, report)
    wrong = {**statement, "incompatible_content_ground": "x"}
    assert "incompatible_content_ground" in dsa.statement_errors(wrong)
    missing = {k: v for k, v in statement.items() if k != "illegal_content_legal_ground"}
    assert "illegal_content_legal_ground" in dsa.statement_errors(missing)
    early = {**statement, "end_date_account_restriction": "2020-01-01"}
    assert "end_date_account_restriction" in dsa.statement_errors(early)
    orphan = {**statement, "end_date_monetary_restriction": statement["application_date"]}
    assert "end_date_monetary_restriction" in dsa.statement_errors(orphan)
    no_decision = {k: v for k, v in statement.items() if k not in ("decision_account", "decision_provision")}
    assert "decision_visibility" in dsa.statement_errors(no_decision)


def test_visibility_other_carries_its_description():
    action, report = applied_action("restrict_visibility")
    action.decision_visibility = "DECISION_VISIBILITY_OTHER"
    action.save()
    statement = _statement(action, report)
    assert statement["decision_visibility_other"]
    assert dsa.statement_errors(statement) == {}


def test_the_sweep_writes_one_statement_per_applied_restriction_and_none_for_others():
    restriction, _ = applied_action("remove_content")
    applied_action("warn")
    applied_action("no_violation")
    pending, _ = applied_action("suspension", status="pending_approval")
    rejected, _ = applied_action("termination", status="rejected")
    reversed_, _ = applied_action("suspension", status="reversed")

    assert services.sor_sweep()["built"] == 2
    assert services.sor_sweep()["built"] == 0  # idempotent
    puids = set(StatementOfReasons.objects.values_list("puid", flat=True))
    assert puids == {f"tsconsole-{restriction.pk}", f"tsconsole-{reversed_.pk}"}
    assert not StatementOfReasons.objects.exclude(errors={}).exists()


def test_statements_go_to_subscribed_endpoints_in_batches_of_100():
    subscribed = fx.WebhookEndpointFactory(topics=["dsa.statements"])
    fx.WebhookEndpointFactory(topics=[])  # every other topic: no regulatory filings by accident
    now = timezone.now()
    for i in range(130):
        applied_action("remove_content", at=now - timedelta(minutes=i))
    bad, _ = applied_action("remove_content")
    bad.category = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"  # refused by the rules: never sent
    bad.save()

    counts = services.sor_sweep()
    assert counts == {"built": 131, "submitted": 130}
    messages = list(OutboxMessage.objects.filter(topic="dsa.statements").order_by("id"))
    assert [m.endpoint_id for m in messages] == [subscribed.pk, subscribed.pk]
    assert [len(m.payload["statements"]) for m in messages] == [100, 30]
    assert SorBatch.objects.count() == 2
    assert services.sor_sweep() == {"built": 0, "submitted": 0}
    sent = [s["puid"] for m in messages for s in m.payload["statements"]]
    assert len(sent) == len(set(sent)) == 130


def test_invalid_statements_are_kept_with_their_errors_and_not_sent():
    fx.WebhookEndpointFactory(topics=["dsa.statements"])
    action, _ = applied_action("remove_content")
    action.category = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"  # a v1 value left behind
    action.save()
    assert services.sor_sweep() == {"built": 1, "submitted": 0}
    sor = StatementOfReasons.objects.get(action=action)
    assert "category" in sor.errors
    assert not OutboxMessage.objects.filter(topic="dsa.statements").exists()


def test_nothing_is_batched_without_a_receiver():
    applied_action("remove_content")
    assert services.sor_sweep() == {"built": 1, "submitted": 0}
    assert StatementOfReasons.objects.get().batch is None


def test_the_default_taxonomy_uses_only_v2_values():
    assert Category.objects.exists()
    for category in Category.objects.all():
        assert category.dsa_category in DsaCategory.values, category.slug
        assert category.dsa_keyword in DSA_KEYWORDS + [""], category.slug
    assert Category.objects.get(slug="cyberstalking").dsa_keyword == "KEYWORD_CYBER_STALKING"
    assert Category.objects.get(slug="ncii").dsa_category == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert Category.objects.get(slug="prohibited-items").dsa_category == "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    assert Category.objects.get(slug="eating-disorders").dsa_keyword == "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS"


def test_keyword_other_names_the_category():
    action, report = applied_action("remove_content")
    category = action.case.category
    category.dsa_keyword, category.name = "KEYWORD_OTHER", "Doxxing"
    category.dsa_category = action.category
    category.save()
    statement = _statement(action, report)
    assert statement["category_specification"] == ["KEYWORD_OTHER"]
    assert statement["category_specification_other"] == "Doxxing"
    assert dsa.statement_errors(statement) == {}
