"""Insights in a real browser: a lead opens each dashboard, the charts show the database's numbers,
a KPI links to its cases, and the transparency report renders; screenshots of every page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent
from insights import rollup, services
from tests.browser.conftest import login, screenshot
from tests.factories import CaseFactory, EscalationFactory, QueueFactory, UserFactory, user_with_role
from tests.insights.world import appeal_on, applied_action, audit_on
from tsconsole.roles import LEAD

pytestmark = pytest.mark.browser


@pytest.fixture
def floor():
    now = timezone.now()
    user_with_role(LEAD, username="lee-okafor")
    ana = UserFactory(username="ana-rivera")
    queues = [QueueFactory(slug="general", name="General", complexity_weight=Decimal("1")),
              QueueFactory(slug="fraud", name="Fraud", complexity_weight=Decimal("2.5"))]
    for i in range(14):
        q = queues[i % 2]
        opened = now - timedelta(hours=i * 3 + 1)
        CaseFactory(queue=q, opened_at=opened, resolution_due_at=opened + timedelta(hours=8 if i % 3 else 2))
    for i in range(10):
        q = queues[i % 2]
        opened = now - timedelta(hours=i + 2)
        case = CaseFactory(queue=q, opened_at=opened, status="resolved", resolved_by=ana,
                           resolved_at=opened + timedelta(minutes=50), resolution_due_at=opened + timedelta(hours=1),
                           first_touched_at=opened + timedelta(minutes=5),
                           first_touch_due_at=opened + timedelta(minutes=15 if i % 4 else 2))
        CaseEvent.objects.create(case=case, verb="opened", to_status="open", created_at=opened)
        CaseEvent.objects.create(case=case, verb="claimed", from_status="open", to_status="in_review", actor=ana,
                                 created_at=opened + timedelta(minutes=5))
        CaseEvent.objects.create(case=case, verb="resolved", from_status="in_review", to_status="resolved",
                                 actor=ana, created_at=case.resolved_at)
    actions = [applied_action(kind, at=now - timedelta(hours=3), proposer=ana)[0]
               for kind in ("remove_content", "suspension", "restrict_visibility")]
    # appeals: the suspension overturned, the removal upheld; QA: two audits, one major
    appeal_on(actions[1], outcome="overturned", filed_at=now - timedelta(hours=2), decided_at=now - timedelta(hours=1))
    appeal_on(actions[0], outcome="upheld", filed_at=now - timedelta(hours=2), decided_at=now - timedelta(minutes=30))
    reviewer = UserFactory(username="quinn-qa")
    audit_on(actions[0], outcome="agree", score=100, reviewer=reviewer, at=now - timedelta(hours=1))
    audit_on(actions[2], outcome="major", score=50, reviewer=reviewer, at=now - timedelta(hours=1))
    EscalationFactory(severity="sev1", created_by=ana, acknowledged_at=now - timedelta(minutes=20),
                      created_at=now - timedelta(minutes=70))
    rollup.rollup_hours(now - timedelta(days=2), now + timedelta(hours=1))
    services.sor_sweep()
    return now


def _bars(page, chart: str) -> dict[str, str]:
    return page.eval_on_selector_all(
        f'svg[data-chart="{chart}"] rect.bar',
        "els => Object.fromEntries(els.map(e => [e.dataset.label + '|' + e.dataset.series, e.dataset.value]))")


def test_a_lead_reads_every_dashboard(page, live_server, floor):
    login(page, live_server, "lee-okafor", "pw")
    home = page.locator('[data-testid="home-action-now"]')
    assert home.is_visible()
    screenshot(page, "insights-home-panel")

    page.goto(f"{live_server.url}/insights/")
    page.wait_for_selector('svg[data-chart="backlog-age"]')
    screenshot(page, "insights-queue-health")
    open_now = Case.objects.exclude(status="resolved").count()
    assert page.locator('[data-testid="stat-backlog"] .stat-value').inner_text() == str(open_now)
    ages = _bars(page, "backlog-age")
    assert sum(int(v) for v in ages.values()) == open_now
    flow = _bars(page, "flow")
    assert sum(int(v) for k, v in flow.items() if k.endswith("|Outflow")) == 10

    page.click("nav.tabs >> text=Team")
    page.wait_for_selector('svg[data-chart="throughput"]')
    screenshot(page, "insights-team")
    quality = page.locator('table[data-table="quality"] tbody tr').first.locator("td").all_inner_texts()
    assert quality == ["ana-rivera", "3", "2", "66.7", "2", "1", "50.0", "2", "4.0", "50.0", "50.0", "–"]  # mean score 75 of 100 = 4 of 5
    throughput = _bars(page, "throughput")
    assert throughput["ana-rivera|Resolved"] == "10"
    assert throughput["ana-rivera|Weighted"] == "17.5"  # 5 × 1 + 5 × 2.5

    page.click("nav.tabs >> text=KPIs")
    page.wait_for_selector('table[data-table="kpis"]')
    screenshot(page, "insights-kpis")
    cell = page.locator('tr[data-kpi="sla_resolution"] td[data-value]')
    assert cell.get_attribute("data-value") == "100.0"  # every resolution met its target
    shown = {key: page.locator(f'tr[data-kpi="{key}"] td[data-value]').get_attribute("data-value") for key in (
        "appeal_overturn_rate", "appeal_rate", "qa_pass_rate", "documentation_quality", "false_positives")}
    assert shown == {"appeal_overturn_rate": "50.0", "appeal_rate": "66.7", "qa_pass_rate": "50.0",
                     "documentation_quality": "4.0", "false_positives": "33.3"}
    page.locator('tr[data-kpi="appeal_overturn_rate"] a').click()
    page.wait_for_selector('table[data-table="cases"]')
    assert page.locator('table[data-table="cases"] tbody tr').count() == 1  # the overturned suspension's case
    page.go_back()
    page.wait_for_selector('table[data-table="kpis"]')
    page.locator('tr[data-kpi="sla_first_touch"] a').click()
    page.wait_for_selector('table[data-table="cases"]')
    screenshot(page, "insights-kpi-cases")
    assert page.locator('table[data-table="cases"] tbody tr').count() == 3  # i = 0, 4, 8: touched after 2 min

    page.click("nav.tabs >> text=Transparency report")
    page.wait_for_selector('[data-testid="sor-status"]')
    screenshot(page, "insights-transparency")
    assert page.locator('[data-testid="tr-actions"] .stat-value').inner_text() == "3"
    assert _bars(page, "actions-by-type")["Suspension|Restrictions by type"] == "1"
    assert page.locator('[data-testid="tr-appeals-received"] .stat-value').inner_text() == "2"
    assert page.locator('[data-testid="tr-appeals-overturned"] .stat-value').inner_text() == "1"
