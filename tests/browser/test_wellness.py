"""Wellness in the browser: Preferences (greyscale previews, a saved time zone beating the
browser's), the break prompt after a long stretch on sensitive cases (time is data inserted, not
slept), the lead's exposure panel, and a lead's navigation on one line at 1440 px."""

import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from cases.models import CaseStatus, Queue
from cases.previews import blurred_preview
from tests.browser.axe import axe_violations
from tests.browser.conftest import login, screenshot
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    EvidenceFactory,
    QueueFactory,
    TeamFactory,
    TeamMembershipFactory,
    user_with_role,
)
from tsconsole.models import ExposureClock, ExposureDay
from tsconsole.roles import ANALYST, LEAD

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/wellness-shots")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    """The suite's screenshot, also kept where reviewers of this feature look for it."""
    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def red_png() -> bytes:
    image = Image.new("RGB", (240, 160), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, 240, 12):
        draw.rectangle([x, 0, x + 5, 160], fill=(200, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world():
    team = TeamFactory(slug="trust", name="Trust")
    ana = user_with_role(ANALYST, username="ana", first_name="Ana", last_name="Rivera")
    lee = user_with_role(LEAD, username="lee", first_name="Lee", last_name="Okafor")
    TeamMembershipFactory(team=team, user=ana)
    TeamMembershipFactory(team=team, user=lee, is_lead=True)
    Queue.objects.update(is_active=False)
    queue = QueueFactory(slug="violent", name="Violent content")
    queue.allowed_teams.add(team)
    category = CategoryFactory(slug="graphic-violence", name="Graphic violence", sensitive=True)
    case = CaseFactory(queue=queue, category=category, status=CaseStatus.IN_REVIEW, assignee=ana,
                       claimed_at=timezone.now(), opened_at=timezone.now() - timedelta(hours=2))
    data = red_png()
    evidence = EvidenceFactory(case=case, kind="file", text_extract="", content_type="image/png",
                               original_name="scene.png", file=ContentFile(data, name="scene.png"))
    evidence.preview.save("previews/scene.jpg", ContentFile(blurred_preview(io.BytesIO(data))), save=True)
    return {"case": case, "ana": ana, "lee": lee}


def test_preferences_greyscale_previews_and_a_saved_zone(browser, live_server, world):
    # The browser says New York; the saved preference must win.
    context = browser.new_context(viewport=DESKTOP, timezone_id="America/New_York")
    page = context.new_page()
    try:
        login(page, live_server, "ana", "pw")
        page.locator(".usermenu summary").click()
        page.locator(".usermenu").get_by_role("link", name="Preferences").click()
        page.get_by_role("heading", name="Preferences").wait_for()
        assert not axe_violations(page)
        page.get_by_label("Greyscale", exact=True).check()
        page.get_by_label("Show times in").select_option("Asia/Tokyo")
        page.get_by_role("button", name="Save preferences").click()
        page.get_by_text("Your preferences are saved.").wait_for()
        assert "JST" in page.locator("#zone-help").inner_text()
        shot(page, "wellness-preferences-1440")

        page.goto(f"{live_server.url}/cases/{world['case'].pk}/")
        preview = page.get_by_test_id("evidence-blurred").locator("img")
        preview.evaluate("img => img.complete || new Promise(r => img.onload = r)")
        style = preview.evaluate("img => getComputedStyle(img).filter")
        assert "grayscale" in style and "blur" not in style, style
        titles = page.locator("#evidence time[title]").first.get_attribute("title")
        assert "Asia/Tokyo" in titles, titles
        shot(page, "wellness-case-greyscale-1440")

        # A refused zone is a 400 with the form, and nothing changes.
        response = page.request.post(f"{live_server.url}/preferences/", form={
            "csrfmiddlewaretoken": page.locator("input[name=csrfmiddlewaretoken]").first.input_value(),
            "preview_mode": "blurred", "time_zone": "Mars/Olympus", "break_after_minutes": ""},
            headers={"Referer": f"{live_server.url}/preferences/"})
        assert response.status == 400 and "is not a time zone this console knows" in response.text()
    finally:
        context.close()


def test_the_break_prompt_after_a_long_stretch(browser, live_server, world, settings):
    settings.WELLNESS_BREAK_AFTER_MINUTES = 45
    now = timezone.now().replace(second=0, microsecond=0)
    # 44 minutes of continuous exposure already counted; the page's first heartbeat makes it 45.
    ExposureClock.objects.create(user=world["ana"], last_minute=now - timedelta(minutes=1),
                                 stretch_started=now - timedelta(minutes=44), stretch_minutes=44)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        login(page, live_server, "ana", "pw")
        page.goto(f"{live_server.url}/cases/{world['case'].pk}/")
        prompt = page.get_by_role("status").filter(has_text="sensitive material")
        prompt.wait_for(state="visible")
        assert "45 minutes" in prompt.inner_text() and "Take a break?" in prompt.inner_text()
        assert not axe_violations(page)
        shot(page, "wellness-break-prompt-1440")
        # Keyboard: reach Dismiss and press Esc (the prompt goes, and is snoozed for a stretch).
        page.get_by_test_id("break-dismiss").focus()
        with page.expect_response("**/wellness/break/dismiss/") as dismissed:
            page.keyboard.press("Escape")
        assert dismissed.value.status == 204
        prompt.wait_for(state="hidden")
        clock = ExposureClock.objects.get(user=world["ana"])
        assert clock.snoozed_until_minutes == clock.stretch_minutes + 45
        page.reload()
        assert page.get_by_test_id("break-prompt").is_hidden()
        assert ExposureDay.objects.get(user=world["ana"]).minutes >= 1
    finally:
        context.close()


def test_lead_nav_on_one_line_with_the_quality_menu_and_team_exposure(browser, live_server, world):
    today = timezone.localdate()
    for offset, minutes in enumerate([35, 80, 20]):
        ExposureDay.objects.create(user=world["ana"], day=today - timedelta(days=offset), minutes=minutes)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        login(page, live_server, "lee", "pw")
        nav = page.locator("#mainnav")
        tops = nav.evaluate("n => Array.from(n.children).map(c => Math.round(c.getBoundingClientRect().top))")
        assert max(tops) - min(tops) < 10, tops  # one line (links and menus differ by a pixel of baseline)
        height = page.locator(".topbar").bounding_box()["height"]
        assert height < 60, height
        # Keyboard: the Quality menu opens with Enter and closes with Esc, focus back on it.
        quality = nav.locator("summary", has_text="Quality")
        quality.focus()
        page.keyboard.press("Enter")
        nav.get_by_role("link", name="QA feedback").wait_for(state="visible")
        page.keyboard.press("Escape")
        nav.get_by_role("link", name="QA feedback").wait_for(state="hidden")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Quality"
        team = page.get_by_test_id("exposure-team")
        assert "ana" in team.inner_text() and "135" in team.inner_text()
        assert not axe_violations(page)
        shot(page, "wellness-lead-home-1440")
        quality.click()
        shot(page, "wellness-lead-quality-menu-1440")
    finally:
        context.close()

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        login(page, live_server, "lee", "pw")
        page.get_by_role("button", name="Menu").click()
        page.locator("#mainnav summary", has_text="Quality").click()
        page.locator("#mainnav").get_by_role("link", name="Calibration").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "wellness-lead-nav-390")
        page.locator(".usermenu summary").click()
        page.locator(".usermenu").get_by_role("link", name="Preferences").click()
        page.get_by_role("heading", name="Preferences").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert not axe_violations(page)
        shot(page, "wellness-preferences-390")
    finally:
        context.close()
