"""An analyst's day in a real browser at 1440×900: claim with a key, decide the ladder's warning
with a typed rationale and Ctrl+Enter, take the next case with a key; the decision panel is at the
top of the side column with no scrolling, offers only what fits the subject, and the server still
refuses what does not fit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus
from enforcement.models import EnforcementAction
from tests.browser.conftest import login, screenshot
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    ContentFactory,
    MacroFactory,
    PolicyFactory,
    QueueFactory,
    ReportFactory,
    user_with_role,
)
from tsconsole.roles import ANALYST

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def day():
    """A spam queue with two cases about accounts (the older first) and one about a post; the
    shipped macros for a warning, a suspension and a removal."""
    user_with_role(ANALYST, username="ana", first_name="Ana", last_name="Rivera")
    queue = QueueFactory(slug="spam", name="Spam and manipulation")
    category = CategoryFactory(slug="spam", name="Spam")
    PolicyFactory(slug="spam", name="Spam and platform manipulation", category=category,
                  rule_text="Do not post repetitive unwanted content.")
    MacroFactory(slug="warning", name="Warning", action_types=["warn"],
                 body="This is a warning: your {subject} broke our rule on {policy}: {rule}")
    MacroFactory(slug="account-suspended", name="Account suspended", action_types=["suspension"],
                 body="Your account {handle} is suspended until {end_date}. {rule}")
    MacroFactory(slug="removed-content", name="Content removed", action_types=["remove_content"],
                 body="We removed your {subject}. {rule}")
    now = timezone.now()
    first = CaseFactory(queue=queue, category=category, priority=2, opened_at=now - timedelta(hours=3),
                        subject=AccountFactory(external_id="acct-100", handle="promo_blast", follower_count=12_000))
    ReportFactory(case=first, description="Sends the same link to everyone")
    second = CaseFactory(queue=queue, category=category, priority=2, opened_at=now - timedelta(hours=2),
                         subject=ContentFactory(external_id="post-200", author=AccountFactory(handle="link_farm")))
    return first, second


def test_claim_decide_warning_and_next_with_four_actions(browser, live_server, day):
    first, second = day
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, live_server, "ana", "pw")
        page.goto(f"{live_server.url}/cases/{first.pk}/")
        panel = page.get_by_test_id("enforcement-panel")
        assert "Claim the case to decide it" in panel.inner_text()
        screenshot(page, "day-case-unclaimed-1440")

        actions = 0
        page.keyboard.press("c")  # 1: claim
        actions += 1
        page.get_by_test_id("decision-form").wait_for()
        form = page.get_by_test_id("decision-form")
        # the ladder's first step is pre-applied: a warning, with the warning macro filled in
        assert form.locator("input[name=act_warn]").is_checked()
        assert page.locator("#decision-macro").input_value() == "warning"
        assert "broke our rule on Spam and platform manipulation" in page.get_by_test_id("statement").input_value()
        # an account cannot have content removed: the panel does not offer it
        assert form.locator("input[name=act_remove_content]").count() == 0
        # the macros for other actions are not offered with a warning
        assert page.locator("#decision-macro option[value=account-suspended]").is_disabled()
        # no departure reason is asked while the choice follows the ladder
        assert page.locator("[data-departure]").is_hidden()
        # the whole form, Decide included, is on the first screen
        screenshot(page, "day-decision-panel-1440")
        box = page.get_by_test_id("decide").bounding_box()
        assert box["y"] + box["height"] <= DESKTOP["height"], f"Decide is at y={box['y']}"
        print(f"decide-button-bottom-px={box['y'] + box['height']:.0f} of {DESKTOP['height']}")
        assert page.evaluate("window.scrollY") == 0
        screenshot(page, "day-decision-panel-1440")

        page.keyboard.press("d")  # 2: to the rationale
        actions += 1
        page.keyboard.type("Same link sent to 40 accounts in ten minutes.")
        page.keyboard.press("Control+Enter")  # 3: decide
        actions += 1
        page.get_by_test_id("case-enforcement-actions").wait_for()
        assert page.get_by_test_id("case-status").inner_text() == "Resolved"
        action = EnforcementAction.objects.get(case=first)
        assert action.action_type == "warn" and action.macro.slug == "warning"
        assert action.departure_reason == ""

        page.keyboard.press("n")  # 4: the next case of the queue
        actions += 1
        page.wait_for_url(f"**/cases/{second.pk}/")
        assert page.get_by_test_id("case-assignee").inner_text() in ("ana", "Ana Rivera")
        assert actions <= 4
        # a post: content removal is offered, and account actions say whom they act on
        form = page.get_by_test_id("decision-form")
        assert form.locator("input[name=act_remove_content]").count() == 1
        assert "@link_farm" in form.inner_text()
        screenshot(page, "day-next-case-1440")
    finally:
        context.close()
    assert list(CaseEvent.objects.filter(case=first).order_by("id").values_list("verb", flat=True)) == [
        "claimed", "decided"]
    assert Case.objects.get(pk=second.pk).status == CaseStatus.IN_REVIEW


def test_departing_from_the_ladder_asks_why_and_days_are_days(browser, live_server, day):
    first, _ = day
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        login(page, live_server, "ana", "pw")
        page.goto(f"{live_server.url}/cases/{first.pk}/")
        page.get_by_test_id("claim").click()
        form = page.get_by_test_id("decision-form")
        form.locator("input[name=act_warn]").uncheck()
        form.locator("input[name=act_suspension]").check()
        form.locator("input[name=hours_suspension]").fill("3")
        assert page.locator("#decision-macro").input_value() == "account-suspended"
        page.locator("[data-departure]").wait_for(state="visible")
        page.wait_for_function("() => document.querySelector('#decision-statement').value.includes('suspended')")
        assert "{end_date}" in page.get_by_test_id("later-placeholders").inner_text()
        form.locator("textarea[name=rationale]").fill("Automated posting after two warnings elsewhere.")
        page.get_by_test_id("decide").click()
        page.get_by_text("Required: the ladder suggests Warning").wait_for()
        assert not EnforcementAction.objects.exists()
        form = page.get_by_test_id("decision-form")
        form.locator("textarea[name=departure_reason]").fill("Ring behaviour: a warning would not stop it.")
        page.get_by_test_id("decide").click()
        page.get_by_test_id("case-enforcement-actions").wait_for()
    finally:
        context.close()
    action = EnforcementAction.objects.get(case=first)
    assert action.action_type == "suspension" and action.duration == timedelta(days=3)
    assert f"until {action.ends_at:%Y-%m-%d %H:%M} UTC" in action.statement
    assert action.departure_reason.startswith("Ring behaviour")
