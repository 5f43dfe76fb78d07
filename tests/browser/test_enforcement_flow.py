"""Enforcement in a real browser: an analyst decides a case about a verified account with a macro
statement, a lead approves it from the Approvals page, and support looks the account up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseEvent, CaseStatus
from enforcement.models import EnforcementAction
from tests.browser.conftest import login, logout, screenshot
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    MacroFactory,
    NoteFactory,
    PolicyFactory,
    QueueFactory,
    ReportFactory,
    WebhookEndpointFactory,
    user_with_role,
)
from tsconsole.models import AuditEntry, OutboxMessage
from tsconsole.roles import ANALYST, LEAD, SUPPORT_AGENT

pytestmark = pytest.mark.browser


@pytest.fixture
def flow():
    """A verified account reported for harassment, claimed by Ana; a policy and a macro for it."""
    ana = user_with_role(ANALYST, username="ana-rivera", first_name="Anamaria")
    user_with_role(LEAD, username="lee-okafor", first_name="Leopold")
    user_with_role(SUPPORT_AGENT, username="sam")
    WebhookEndpointFactory(name="platform")
    group = CategoryFactory(slug="harassment", name="Harassment and bullying")
    leaf = CategoryFactory(slug="targeted-harassment", name="Targeted harassment", parent=group)
    PolicyFactory(slug="harassment", name="Harassment and bullying", category=group,
                  rule_text="We do not allow targeted harassment of people.",
                  guidance="Look for repetition and a target.")
    MacroFactory(slug="restricted", name="Replies restricted",
                 body="Your replies are limited because of our rule on {policy}: {rule} What we saw: {what}.")
    account = AccountFactory(external_id="acct-9001", handle="loud_voice", verified=True, follower_count=42_000)
    case = CaseFactory(queue=QueueFactory(slug="general"), subject=account, category=leaf, status=CaseStatus.IN_REVIEW,
                       assignee=ana, claimed_at=timezone.now(), opened_at=timezone.now() - timedelta(minutes=30))
    ReportFactory(case=case, reporter_ref="reporter-secret-77", description="He keeps replying to me")
    NoteFactory(case=case, author=ana, body="Internal: pattern across three threads")
    return case


def test_decide_approve_and_support_lookup(page, live_server, flow):
    case = flow
    login(page, live_server, "ana-rivera", "pw")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    panel = page.get_by_test_id("enforcement-panel")
    assert "verified account" in panel.get_by_test_id("high-impact").inner_text()
    assert "Warning" in panel.get_by_test_id("ladder-suggestion").inner_text()

    # Warn (as the ladder says) and restrict replies for 48 hours; the statement from a macro.
    panel.locator("input[name=act_warn]").check()
    panel.locator("input[name=act_feature_restriction]").check()
    panel.locator("input[name=hours_feature_restriction]").fill("2")  # days
    panel.locator("textarea[name=rationale]").fill("Eleven replies to the same person in an hour after being blocked.")
    page.select_option("#decision-macro", "restricted")
    statement = page.get_by_test_id("statement")
    # Wait for this macro's own words: checking Warning may already have filled the ladder's macro.
    page.wait_for_function(
        "() => document.querySelector('#decision-statement').value.includes('What we saw')")
    assert "targeted harassment" in statement.input_value()
    assert "{what}" in statement.input_value()
    assert "{what}" in page.get_by_test_id("placeholders").inner_text()
    screenshot(page, "enforcement-decision-form")

    # Sending with the placeholder still there is refused, and the text is kept.
    panel.get_by_test_id("decide").click()
    page.get_by_text("Fill or remove {what}").wait_for()
    assert not EnforcementAction.objects.exists()
    page.get_by_test_id("statement").fill(
        page.get_by_test_id("statement").input_value().replace("{what}", "repeated replies to one person"))
    page.get_by_test_id("decide").click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.get_by_test_id("awaiting-approval").wait_for()
    assert page.get_by_test_id("case-status").inner_text() == "Awaiting approval"
    screenshot(page, "enforcement-proposed")
    logout(page)

    # The lead approves from the Approvals page.
    login(page, live_server, "lee-okafor", "pw")
    page.goto(f"{live_server.url}/")
    assert "1" in page.get_by_test_id("home-approvals").inner_text()
    page.locator(".mainnav").get_by_role("link", name="Approvals").click()
    approval = page.get_by_test_id("approval")
    assert "Eleven replies" in approval.inner_text() and "verified account" in approval.inner_text()
    screenshot(page, "enforcement-approvals")
    approval.locator("textarea[name=comment]").first.fill("Pattern is clear.")
    approval.get_by_test_id("approve").click()
    page.get_by_test_id("no-approvals").wait_for()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert set(EnforcementAction.objects.values_list("status", flat=True)) == {"active"}
    assert OutboxMessage.objects.filter(topic="enforcement.applied").count() == 2
    assert OutboxMessage.objects.filter(topic="report.outcome").count() == 1
    logout(page)

    # Support looks the account up: outcomes and the statement, nothing private.
    login(page, live_server, "sam", "pw")
    page.locator(".mainnav").get_by_role("link", name="Support lookup").click()
    page.fill("#lookup-q", "@loud_voice")
    page.get_by_role("button", name="Look up").click()
    outcomes = page.get_by_test_id("lookup-outcomes")
    outcomes.wait_for()
    text = page.get_by_test_id("lookup-subject").inner_text()
    assert "repeated replies to one person" in text and "Feature restriction" in text and "Warning" in text
    assert "2 days" in text and "Appealable until" in text
    assert page.get_by_test_id("lookup-strikes").inner_text() == "1"
    html = page.content()
    for private in ("Eleven replies", "reporter-secret-77", "pattern across three threads", "Look for repetition",
                    "Pattern is clear", "ana-rivera", "Anamaria", "lee-okafor", "Leopold"):
        assert private not in html, f"the support lookup shows {private!r}"
    screenshot(page, "enforcement-support-lookup")
    assert AuditEntry.objects.filter(verb="support.lookup", actor__username="sam").count() == 1

    verbs = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("verb", flat=True))
    assert verbs == ["decision_proposed", "decision_approved"]
