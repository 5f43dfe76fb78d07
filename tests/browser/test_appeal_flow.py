"""An appeal in a real browser: support files it for the user from the lookup, a reviewer claims
the next appeal from home and overturns it beside the original decision, and support sees the
outcome."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from appeals.models import Appeal
from cases.models import CaseStatus
from enforcement import services as enforcement
from enforcement.models import EnforcementAction
from tests.browser.conftest import login, logout, screenshot
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    PolicyFactory,
    QueueFactory,
    ReportFactory,
    WebhookEndpointFactory,
    user_with_role,
)
from tsconsole.models import OutboxMessage
from tsconsole.roles import ANALYST, SUPPORT_AGENT

pytestmark = pytest.mark.browser


@pytest.fixture
def suspended():
    """An account suspended for three days by Ana on a reported case."""
    importlib.import_module("appeals.migrations.0002_appeals_queue").create(apps, None)
    ana = user_with_role(ANALYST, username="ana-rivera")
    user_with_role(ANALYST, username="rita-reviewer")
    user_with_role(SUPPORT_AGENT, username="sam")
    WebhookEndpointFactory(name="platform")
    group = CategoryFactory(slug="violence", name="Violence and threats")
    leaf = CategoryFactory(slug="threats", name="Threats", parent=group)
    PolicyFactory(slug="threats", name="Violence and threats", category=group,
                  rule_text="We do not allow threats of violence.")
    account = AccountFactory(external_id="acct-4242", handle="film_buff")
    case = CaseFactory(queue=QueueFactory(slug="general"), subject=account, category=leaf, status=CaseStatus.IN_REVIEW,
                       assignee=ana, claimed_at=timezone.now(), opened_at=timezone.now() - timedelta(hours=2))
    ReportFactory(case=case, reporter_ref="reporter-secret-12", description="He threatened me")
    decision = enforcement.case_decide(
        case=case, actor=ana, actions=[{"type": "suspension", "duration_hours": 72}],
        rationale="Internal: three replies read as threats.", departure_reason="Threats go straight to a suspension.",
        statement="Your account is suspended for 3 days because you threatened another person.",
    )
    return decision


def test_file_claim_overturn_and_support_sees_it(page, live_server, suspended):
    decision = suspended
    # Support files the appeal for the user who phoned in.
    login(page, live_server, "sam", "pw")
    page.goto(f"{live_server.url}/support/lookup/?q=acct-4242")
    form = page.get_by_test_id("appeal-file-form")
    form.locator("select[name=channel]").select_option("phone")
    form.get_by_test_id("appeal-file-statement").fill("He says the replies quoted a film line, not a threat.")
    screenshot(page, "appeal-support-file")
    form.get_by_test_id("appeal-file").click()
    page.wait_for_selector("[data-testid=lookup-appeal]")
    assert "Answer due by" in page.get_by_test_id("lookup-appeal").inner_text()
    appeal = Appeal.objects.get()
    assert appeal.channel == "phone" and appeal.source == "support"
    logout(page)

    # A reviewer who took no part claims the next appeal from home and overturns it.
    login(page, live_server, "rita-reviewer", "pw")
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("claim-next-appeal").click()
    page.wait_for_url(f"**/cases/{appeal.case_id}/")
    panel = page.get_by_test_id("appeal-panel")
    assert "quoted a film line" in panel.get_by_test_id("appellant-statement").inner_text()
    assert "three replies read as threats" in panel.get_by_test_id("original-rationale").inner_text()
    assert "ana-rivera" in panel.get_by_test_id("original-decider").inner_text()
    screenshot(page, "appeal-case-page")
    panel.get_by_test_id("outcome-overturned").check()
    panel.locator("textarea[name=rationale]").fill("The quoted line is from a well-known film; no threat.")
    panel.locator("textarea[name=statement]").fill("We reviewed your appeal and lifted the suspension.")
    panel.get_by_test_id("appeal-decide").click()
    page.wait_for_selector("[data-testid=appeal-outcome]")
    assert "lifted the suspension" in page.get_by_test_id("appeal-response").inner_text()
    assert page.get_by_test_id("case-status").inner_text() == "Resolved"
    screenshot(page, "appeal-overturned")
    logout(page)

    action = EnforcementAction.objects.get(pk=decision.actions[0].pk)
    assert action.status == "reversed"
    assert OutboxMessage.objects.filter(topic="appeal.decided").count() == 1
    assert OutboxMessage.objects.filter(topic="enforcement.reversed").count() == 1

    # Support sees the outcome, and nothing internal.
    login(page, live_server, "sam", "pw")
    page.goto(f"{live_server.url}/support/lookup/?q=acct-4242")
    row = page.get_by_test_id("lookup-appeal")
    assert row.get_by_test_id("lookup-appeal-status").inner_text() == "Overturned"
    assert "lifted the suspension" in row.inner_text()
    html = page.content()
    for internal in ("three replies read as threats", "well-known film", "rita-reviewer", "reporter-secret-12"):
        assert internal not in html
    screenshot(page, "appeal-support-outcome")
