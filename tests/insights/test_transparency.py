"""The transparency report equals hand-counted fixtures; the statements API pages by cursor."""

from datetime import UTC, datetime, timedelta

import pytest

from insights import services
from insights.models import StatementOfReasons
from insights.transparency import Period, transparency_report
from tests import factories as fx

from .world import applied_action

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PERIOD = Period(start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 4, 1, tzinfo=UTC))


@pytest.fixture
def fixture_world():
    """March 2026: 4 restrictions (one automated, one illegal, one reversed), 1 warning, 1 outside."""
    a1, _ = applied_action("remove_content", at=T0)  # notice 4 h before
    a2, _ = applied_action("suspension", at=T0 + timedelta(days=1), ground="DECISION_GROUND_ILLEGAL_CONTENT",
                           source="trusted_flagger")
    a3, _ = applied_action("restrict_visibility", at=T0 + timedelta(days=2), automated=True, source="automated")
    a4, _ = applied_action("termination", at=T0 + timedelta(days=3), status="reversed")
    applied_action("warn", at=T0)  # not a restriction
    applied_action("remove_content", at=T0 - timedelta(days=30))  # February
    a2.ladder_suggestion = {"strikes": 2, "action": "suspension"}
    a2.save()
    # a second notice on a1's case, later than the first: the first one counts for timing
    fx.ReportFactory(case=a1.case, received_at=T0 - timedelta(hours=1))
    return a1, a2, a3, a4


def test_report_equals_hand_counts(fixture_world):
    report = transparency_report(PERIOD)
    actions = report["actions"]
    assert actions["total"] == 4
    assert actions["automated_detection"] == 1
    assert actions["illegal"] == 1 and actions["incompatible"] == 3
    assert actions["account_suspensions"] == 2  # suspension + termination
    assert actions["misuse_suspensions"] == 1
    by_type = {t["action_type"]: t["count"] for t in actions["by_type"]}
    assert by_type == {"remove_content": 1, "restrict_visibility": 1, "feature_restriction": 0, "suspension": 1,
                       "termination": 1, "transaction_hold": 0}
    notices = report["notices"]
    # notices received in March: one per action built in March (5, warning included) plus the extra one
    assert notices["total"] == 6
    assert notices["trusted_flagger"] == 1
    by_source = {s["source"]: s["count"] for s in notices["by_source"]}
    assert by_source["automated"] == 1 and by_source["user_report"] == 4
    # every restriction came 4 h after its first notice
    assert report["median_hours_notice_to_action"] == 4.0


def test_report_api_json_and_csv(api_as, lead, fixture_world):
    client = api_as(lead)
    response = client.get("/api/v1/insights/transparency-report/", {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    assert response.json()["actions"]["total"] == 4
    response = client.get("/api/v1/insights/transparency-report/?from=2026-03-01&to=2026-03-31&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "section,key,label,value"
    assert "actions,total,Restrictions applied,4" in lines


def test_a_periods_report_is_shared_for_a_minute(api_as, lead, fixture_world, monkeypatch):
    from insights import filters

    client = api_as(lead)
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    assert client.get("/api/v1/insights/transparency-report/", march).json()["actions"]["total"] == 4
    applied_action("suspension", at=T0 + timedelta(days=5))  # a decision applied in March after the first look
    assert client.get("/api/v1/insights/transparency-report/", march).json()["actions"]["total"] == 4
    monkeypatch.setattr(filters, "PERIOD_FIGURES_CACHE_SECONDS", 0)
    assert client.get("/api/v1/insights/transparency-report/", march).json()["actions"]["total"] == 5


def test_report_api_refuses_a_bad_period(api_as, lead):
    response = api_as(lead).get("/api/v1/insights/transparency-report/", {"from": "March", "to": "2026-03-31"})
    assert response.status_code == 400
    assert response.json()["errors"]["from"]
    response = api_as(lead).get("/api/v1/insights/transparency-report/", {"from": "2026-04-01", "to": "2026-03-01"})
    assert response.status_code == 400


def test_statements_api_pages_by_cursor(api_as, integration, analyst):
    for i in range(5):
        applied_action("remove_content", at=T0 + timedelta(hours=i))
    applied_action("remove_content", at=T0 - timedelta(days=60))
    services.sor_sweep()
    client = api_as(integration)
    seen = []
    url = "/api/v1/dsa/statements/?since=2026-03-01&until=2026-03-31&limit=2"
    pages = 0
    while url:
        body = client.get(url).json()
        seen += [s["puid"] for s in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert all(set(s) >= {"decision_ground", "category", "puid", "application_date"}
               for s in client.get("/api/v1/dsa/statements/").json()["results"])
    assert client.get("/api/v1/dsa/statements/?cursor=garbage").status_code == 400
    assert client.get("/api/v1/dsa/statements/?limit=0").status_code == 400
    assert api_as(analyst).get("/api/v1/dsa/statements/").status_code == 403


def test_statements_api_pages_through_statements_applied_at_the_same_moment(api_as, integration):
    """The cursor is (applied_at, id): a page boundary inside a run of equal times loses and repeats nothing,
    and the pages come in (applied_at, id) order."""
    for i in range(7):
        applied_action("remove_content", at=T0 + timedelta(hours=i // 3))  # runs of 3, 3 and 1
    services.sor_sweep()
    expected = list(StatementOfReasons.objects.order_by("applied_at", "id").values_list("puid", flat=True))
    client = api_as(integration)
    seen, url = [], "/api/v1/dsa/statements/?since=2026-03-01&until=2026-03-31&limit=2"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [s["puid"] for s in body["results"]]
        url = body["next"]
    assert len(expected) == 7 and seen == expected


def test_transparency_page_and_statement_csv(client, lead, fixture_world):
    services.sor_sweep()
    client.force_login(lead)
    response = client.get("/insights/transparency/", {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    assert b'data-chart="actions-by-type"' in response.content
    response = client.get("/insights/transparency/", {"from": "2026-03-01", "to": "2026-03-31",
                                                      "export": "statements"})
    body = b"".join(response.streaming_content).decode()
    rows = body.strip().splitlines()
    assert rows[0].lstrip("\ufeff").startswith("puid,application_date,category")
    assert len(rows) == 1 + 4
    assert client.get("/insights/transparency/", {"from": "nope"}).status_code == 400


def test_the_pages_statement_counts_are_shared_for_a_minute_with_the_refused_ones(client, lead, fixture_world,
                                                                                    monkeypatch):
    from insights import filters

    services.sor_sweep()
    client.force_login(lead)
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    html = client.get("/insights/transparency/", march).content.decode()
    assert "4 statements" in html and 'data-testid="sor-counted-at"' in html
    StatementOfReasons.objects.filter(pk=StatementOfReasons.objects.order_by("id").first().pk).update(
        errors={"category": ["not a DSA category"]})
    html = client.get("/insights/transparency/", march).content.decode()
    assert "<strong>0</strong> refused" in html and "not a DSA category" not in html  # counts and list agree
    monkeypatch.setattr(filters, "PERIOD_FIGURES_CACHE_SECONDS", 0)
    html = client.get("/insights/transparency/", march).content.decode()
    assert "<strong>1</strong> refused" in html and "not a DSA category" in html


def test_statement_status_counts_valid_refused_waiting_and_handed_over():
    from insights import selectors
    from insights.models import SorBatch

    for i in range(6):
        applied_action("remove_content", at=T0 + timedelta(hours=i))
    applied_action("remove_content", at=T0 - timedelta(days=30))  # outside the period
    services.sor_build()
    statements = list(StatementOfReasons.objects.filter(applied_at__gte=PERIOD.start).order_by("id"))
    batch = SorBatch.objects.create(created_at=T0, size=3)
    StatementOfReasons.objects.filter(pk__in=[s.pk for s in statements[:3]]).update(batch=batch)
    # refused by the rules: one of them had been handed over before (kept apart from "waiting")
    StatementOfReasons.objects.filter(pk__in=[statements[2].pk, statements[3].pk]).update(errors={"category": ["x"]})
    assert selectors.statement_status(PERIOD) == {"total": 6, "invalid": 2, "submitted": 3, "waiting": 2}
    assert [s.pk for s in selectors.invalid_statements(PERIOD)] == [statements[3].pk, statements[2].pk]


def test_median_leaves_the_planner_settings_of_the_transaction_alone(fixture_world):
    from django.db import connection

    from insights.transparency import median_hours_to_action

    assert median_hours_to_action(PERIOD) == 4.0  # inside the test's transaction
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_hashjoin")
        assert cursor.fetchone()[0] == "on"
