"""The analyst's day in a real browser: next case from the queue, investigate, note and evidence,
reveal a blurred image, hold for help, the helper takes over and resolves; support is refused."""

import struct
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, Queue
from cases.sla import apply_due_times
from tests.browser.conftest import login, logout, screenshot
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    ContentFactory,
    QueueFactory,
    QueueSlaFactory,
    ReportFactory,
    SignalFactory,
    SubjectSignalFactory,
    user_with_role,
)
from tsconsole.roles import ANALYST, SUPPORT_AGENT

pytestmark = pytest.mark.browser


def striped_png(width: int = 160, height: int = 96) -> bytes:
    """A real PNG with bold stripes, so a blurred and a revealed preview look different."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            row += bytes((200, 30, 30) if (x // 16 + y // 16) % 2 else (250, 250, 250))
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


@pytest.fixture
def workspace():
    """A queue with one case about a post by an account in a small ring, plus an unrelated queue."""
    user_with_role(ANALYST, username="ana", first_name="Ana")
    user_with_role(ANALYST, username="helen", first_name="Helen")
    user_with_role(SUPPORT_AGENT, username="sam")
    queue = QueueFactory(slug="harassment", name="Harassment", description="Threats, bullying, hate")
    QueueSlaFactory(queue=queue, priority=1, first_touch_minutes=60, resolution_minutes=240)
    QueueSlaFactory(queue=queue, priority=3, first_touch_minutes=600, resolution_minutes=2880)
    other = QueueFactory(slug="spam", name="Spam and manipulation")
    # The default queues of the data migration exist when this test runs first: retire them so that
    # "n" (the first queue) means Harassment whatever ran before.
    Queue.objects.exclude(pk__in=[queue.pk, other.pk]).update(is_active=False)
    CaseFactory.create_batch(3, queue=other, priority=3)
    category = CategoryFactory(slug="graphic-violence", name="Graphic violence", sensitive=True)
    author = AccountFactory(external_id="acct-4411", handle="night_owl", follower_count=18200)
    device = SignalFactory(kind="device_id")
    card = SignalFactory(kind="payment_fingerprint")
    SubjectSignalFactory(subject=author, signal=device)
    SubjectSignalFactory(subject=author, signal=card)
    for i, signal in enumerate((device, card)):
        member = AccountFactory(external_id=f"acct-ring-{i}", handle=f"ring_member_{i}")
        SubjectSignalFactory(subject=member, signal=signal)
        CaseFactory(subject=member, queue=other, status=CaseStatus.RESOLVED, resolution="actioned",
                    category=category)
    post = ContentFactory(external_id="post-77", author=author, text="You'll see what happens to people like you.")
    case = CaseFactory(queue=queue, subject=post, category=category, priority=1,
                       opened_at=timezone.now() - timedelta(minutes=45),
                       priority_reasons=["High severity category", "Author reach 18k"])
    case.save(update_fields=apply_due_times(case))
    for i in range(3):
        ReportFactory(case=case, description=f"This is a threat ({i})", reporter_ref=f"reporter-{i}",
                      classifier_label="violent_threat", classifier_score=0.91)
    Case.objects.filter(pk=case.pk).update(report_count=3, reporter_count=3)
    CaseFactory(queue=queue, priority=3)  # waits behind the P1 case
    return case


def test_analyst_works_a_case_and_a_helper_resolves_it(page, live_server, workspace):
    case = workspace
    login(page, live_server, "ana", "pw")
    page.goto(f"{live_server.url}/queues/")
    table = page.get_by_test_id("queue-table")
    assert "Harassment" in table.inner_text()
    screenshot(page, "workspace-queues")

    # "n" claims the next case of the first (selected) queue
    page.keyboard.press("n")
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.get_by_test_id("case-status").inner_text() == "In review"
    assert page.get_by_test_id("case-assignee").inner_text() == "ana"
    subject = page.get_by_test_id("subject-panel").inner_text()
    assert "@night_owl" in subject and "people like you" in subject and "18,200" in subject
    linked = page.get_by_test_id("linked-accounts")
    assert linked.get_by_test_id("linked-account").count() == 2
    assert "ring_member_0" in linked.inner_text() and "actioned" in linked.inner_text()
    assert "claim-timeout" in page.content()

    # "e" focuses the note box
    page.keyboard.press("e")
    page.keyboard.type("Author shares a device and a card with two actioned accounts.")
    page.get_by_role("button", name="Add note").click()
    page.get_by_test_id("notes").get_by_text("two actioned accounts").wait_for()
    assert page.locator("#note-body").input_value() == ""

    # a refused htmx action shows its message in place; a valid one updates the header
    page.locator("summary", has_text="Tags").click()
    page.fill("#tags", "threat not-valid!")
    page.get_by_role("button", name="Save tags").click()
    page.locator("#case-messages").get_by_text("is not a valid tag").wait_for()
    page.fill("#tags", "threat ring")
    page.get_by_role("button", name="Save tags").click()
    page.get_by_test_id("case-header").get_by_text("#ring").wait_for()

    # a pasted text extract, then an image from a sensitive category
    page.fill("#evidence-text", "DM: 'I know where you live'")
    page.get_by_role("button", name="Add evidence").click()
    page.get_by_test_id("evidence").get_by_text("I know where you live").wait_for()
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.set_input_files("#evidence-file", files=[{
        "name": "screenshot.png", "mimeType": "image/png", "buffer": striped_png()}])
    page.fill("#evidence-description", "Screenshot of the post")
    page.get_by_role("button", name="Add evidence").click()
    blurred = page.get_by_test_id("evidence-blurred")
    blurred.wait_for()
    blurred.locator("img").evaluate("img => img.complete || new Promise(r => img.onload = r)")
    assert "blur" in blurred.locator("img").evaluate("img => getComputedStyle(img).filter")
    # Only the blurred derivative has been downloaded; the original is fetched after the reveal.
    assert any(url.endswith("/preview/") for url in fetched)
    assert not any("/evidence/" in url and "inline=1" in url for url in fetched)
    screenshot(page, "workspace-case")

    page.get_by_test_id("reveal").click()
    revealed = page.get_by_test_id("evidence-revealed")
    revealed.wait_for()
    revealed.locator("img").evaluate("img => img.complete || new Promise(r => img.onload = r)")
    assert revealed.locator("img").evaluate("img => getComputedStyle(img).filter") == "none"
    assert revealed.locator("img").evaluate("img => img.naturalWidth") > 0
    assert any("/evidence/" in url and "inline=1" in url for url in fetched)
    page.get_by_test_id("timeline").get_by_text("revealed sensitive evidence").wait_for()
    screenshot(page, "workspace-case-revealed")

    # hold for help, asking Helen
    page.keyboard.press("h")  # opens "Hold for help" with the cursor in its first field
    page.select_option("#hold-helper", label="Helen (helen)")
    page.fill("#hold-reason", "Is this a credible threat in your market?")
    page.get_by_test_id("hold").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "On hold"
    assert page.get_by_test_id("held-for").inner_text() == "helen"
    logout(page)

    # the helper finds it under "Asked to help", takes over, and resolves
    login(page, live_server, "helen", "pw")
    page.goto(f"{live_server.url}/my-work/")
    asked = page.get_by_test_id("asked-to-help")
    assert f"#{case.pk}" in asked.inner_text()
    screenshot(page, "workspace-my-work-helper")
    asked.get_by_role("link", name=f"#{case.pk}").click()
    page.get_by_test_id("resume").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "In review"
    assert page.get_by_test_id("case-assignee").inner_text() == "helen"
    page.keyboard.press("r")  # opens "Resolve as no violation" with the cursor in its reason
    assert page.evaluate("document.activeElement.id") == "resolve-reason"
    page.fill("#resolve-reason", "Song lyric quoted in a music thread; no threat to a person.")
    page.get_by_test_id("resolve").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "Resolved"
    assert "resolved as no violation" in page.content()
    screenshot(page, "workspace-resolved")
    logout(page)

    verbs = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("verb", flat=True))
    assert verbs == ["claimed", "note_added", "tags_changed", "evidence_added", "evidence_added",
                     "evidence_revealed", "held", "resumed", "resolved"]

    # support agents never reach the case page
    login(page, live_server, "sam", "pw")
    response = page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert response.status == 403
    assert "Queues" not in page.locator(".mainnav").inner_text()


def test_keyboard_shortcuts_are_listed_and_j_k_choose_the_queue_for_n(page, live_server, workspace):
    login(page, live_server, "ana", "pw")
    page.goto(f"{live_server.url}/queues/")
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts")
    dialog.wait_for(state="visible")
    assert "Get the next case" in dialog.inner_text()
    page.keyboard.press("Escape")
    page.keyboard.press("j")  # second row: Spam and manipulation
    assert page.locator("tr.selected").get_attribute("data-queue") == "spam"
    page.keyboard.press("n")
    page.wait_for_url("**/cases/*/")
    claimed = Case.objects.get(assignee__username="ana")
    assert claimed.queue.slug == "spam"
