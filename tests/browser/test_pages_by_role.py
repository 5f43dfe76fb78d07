"""Every role's main pages at 1440×900 and 390×844: a screenshot of each (test-artifacts/),
no serious or critical axe-core violation, nothing wider than a 390 px screen, and a nav that
folds behind "Menu" on a phone. Dark mode is checked on the case page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus, Queue
from tests.browser.axe import axe_violations
from tests.browser.conftest import login, screenshot
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    ContentFactory,
    EnforcementActionFactory,
    EscalationFactory,
    MacroFactory,
    NotificationFactory,
    PolicyFactory,
    QueueFactory,
    QueueSlaFactory,
    ReportFactory,
    SlaCrossingFactory,
    TeamFactory,
    TeamMembershipFactory,
    user_with_role,
)
from tsconsole.roles import ADMIN, ANALYST, LEAD, QA_REVIEWER, SUPPORT_AGENT

pytestmark = pytest.mark.browser

WIDTHS = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


@pytest.fixture
def world():
    """Enough of a day for every page to show something: queues, cases in several states, an
    escalation waiting, a decision awaiting approval, notifications."""
    team = TeamFactory(slug="trust", name="Trust")
    ana = user_with_role(ANALYST, username="ana", first_name="Ana", last_name="Rivera")
    lee = user_with_role(LEAD, username="lee", first_name="Lee", last_name="Okafor")
    user_with_role(QA_REVIEWER, username="quinn", first_name="Quinn")
    user_with_role(SUPPORT_AGENT, username="sam", first_name="Sam")
    user_with_role(ADMIN, username="root", first_name="Ada", is_staff=True)
    for user in (ana, lee):
        TeamMembershipFactory(team=team, user=user)
    Queue.objects.update(is_active=False)  # the shipped queues, while the first test of a run still sees them
    queue = QueueFactory(slug="harassment", name="Harassment", description="Threats, bullying, hate")
    queue.allowed_teams.add(team)
    QueueSlaFactory(queue=queue, priority=1, first_touch_minutes=60, resolution_minutes=240)
    category = CategoryFactory(slug="harassment", name="Harassment")
    PolicyFactory(slug="harassment", name="Harassment and bullying", category=category)
    MacroFactory(slug="warning", name="Warning", action_types=["warn"], body="A warning about your {subject}.")
    now = timezone.now()
    author = AccountFactory(external_id="acct-1", handle="night_owl", follower_count=250_000, verified=True)
    post = ContentFactory(external_id="post-1", author=author, text="You'll see what happens.")
    mine = CaseFactory(queue=queue, subject=post, category=category, priority=1, status=CaseStatus.IN_REVIEW,
                       assignee=ana, claimed_at=now, opened_at=now - timedelta(hours=5),
                       first_touch_due_at=now - timedelta(hours=4), first_touched_at=now - timedelta(hours=3),
                       resolution_due_at=now - timedelta(minutes=10))
    SlaCrossingFactory(case=mine, clock="resolution", level="breached", due_at=mine.resolution_due_at)
    ReportFactory(case=mine, source="user_report", description="This is a threat")
    CaseFactory.create_batch(3, queue=queue, category=category, priority=1, opened_at=now - timedelta(minutes=20),
                             resolution_due_at=now + timedelta(minutes=50))
    waiting = CaseFactory(queue=queue, category=category, status=CaseStatus.AWAITING_APPROVAL, assignee=ana,
                          subject=AccountFactory(handle="big_brand", follower_count=900_000))
    EnforcementActionFactory(case=waiting, target=waiting.subject, status="pending_approval", proposer=ana,
                             requires_approval=True, action_type="suspension", duration=timedelta(days=3))
    EscalationFactory(case=mine, team=team, severity="sev2", created_by=ana, summary="Credible threat, named target",
                      ack_due_at=now + timedelta(minutes=55))
    for _ in range(3):
        NotificationFactory(user=lee, title=f"Case {mine.pk} breached its resolution target",
                            body="Resolution target passed.\nhttp://127.0.0.1:8822/cases/1/\n" + "\n".join(
                                f"case {i}" for i in range(40)), url=f"/cases/{mine.pk}/")
    return {"mine": mine}


PAGES = {
    "ana": ["/", "/queues/", "/my-work/", "/cases/?sort=priority", "/search/?q=night_owl", "case", "/escalations/",
            "/notifications/"],
    "lee": ["/", "/approvals/", "/escalations/", "/notifications/", "/health/"],
    "quinn": ["/"],
    "sam": ["/", "/support/lookup/?q=%40night_owl"],
    "root": ["/deliveries/"],
}


def _path(path, world):
    return f"/cases/{world['mine'].pk}/" if path == "case" else path


def test_every_role_page_is_accessible_and_fits_both_widths(browser, live_server, world):
    problems = []
    for username, paths in PAGES.items():
        for width, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport)
            context.set_default_timeout(15_000)
            page = context.new_page()
            try:
                login(page, live_server, username, "pw")
                for path in paths:
                    response = page.goto(live_server.url + _path(path, world))
                    if response.status != 200:
                        problems.append(f"{username} {path}: HTTP {response.status}")
                        continue
                    name = f"role-{username}-{path.strip('/').split('?')[0].replace('/', '-') or 'home'}-{width}"
                    screenshot(page, name)
                    for v in axe_violations(page):
                        problems.append(f"{username} {path} @{width}: {v['impact']} {v['id']}: {v['help']} {v['targets']}")
                    if width == "390":
                        overflow = page.evaluate("document.documentElement.scrollWidth")
                        if overflow > viewport["width"]:
                            problems.append(f"{username} {path} @390: page is {overflow}px wide")
            finally:
                context.close()
    assert not problems, "\n".join(problems)


def test_phone_nav_folds_and_opens(browser, live_server, world):
    context = browser.new_context(viewport=WIDTHS["390"])
    page = context.new_page()
    try:
        login(page, live_server, "ana", "pw")
        nav = page.locator("#mainnav")
        assert nav.is_hidden()
        header = page.locator(".topbar").bounding_box()
        assert header["height"] < 120, header
        page.get_by_role("button", name="Menu").click()
        nav.get_by_role("link", name="My work").wait_for()
        screenshot(page, "phone-nav-open-390")
    finally:
        context.close()


def test_dark_mode_follows_the_system(browser, live_server, world):
    context = browser.new_context(viewport=WIDTHS["1440"], color_scheme="dark")
    page = context.new_page()
    try:
        login(page, live_server, "ana", "pw")
        page.goto(f"{live_server.url}/cases/{world['mine'].pk}/")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 20, 26)", background
        screenshot(page, "dark-case-1440")
        assert not axe_violations(page)
    finally:
        context.close()
