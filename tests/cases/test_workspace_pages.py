"""Workspace pages: queues, claim next, the case page and its forms (plain and htmx), evidence
downloads, my work, search, the case list, access, and flat query counts."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cases.models import Case, CaseEvent, CaseStatus, Evidence, Note
from cases.services import workflow
from cases.sla import apply_due_times
from tests.factories import (
    AccountFactory,
    CaseEventFactory,
    CaseFactory,
    CategoryFactory,
    ContentFactory,
    EscalationFactory,
    EvidenceFactory,
    NoteFactory,
    QueueFactory,
    QueueSlaFactory,
    ReportFactory,
    SignalFactory,
    SlaCrossingFactory,
    SubjectSignalFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tsconsole.models import AuditEntry
from tsconsole.roles import ANALYST
from tsconsole.slots import _SLOTS, Panel, register_panel

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_analyst(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def helper(make_user):
    return make_user(ANALYST, username="helen")


def rich_case(n: int, *, queue=None, sensitive=False) -> Case:
    """A case with n reports, n events, n notes, n linked accounts (each with a case), and history."""
    queue = queue or QueueFactory()
    QueueSlaFactory(queue=queue, priority=1, first_touch_minutes=30, resolution_minutes=120)
    account = AccountFactory(handle=f"suspect{n}")
    content = ContentFactory(author=account, text="Buy followers now")
    case = CaseFactory(queue=queue, subject=content, priority=1, category=CategoryFactory(sensitive=sensitive),
                       priority_reasons=["High severity category", {"text": "3 distinct reporters"}],
                       opened_at=timezone.now() - timedelta(minutes=100))
    case.save(update_fields=apply_due_times(case))
    device = SignalFactory()
    SubjectSignalFactory(subject=account, signal=device)
    for i in range(n):
        ReportFactory(case=case, source="user_report" if i % 2 else "automated", classifier_label="spam",
                      classifier_score=0.9, description=f"report {i}")
        CaseEventFactory(case=case, verb="note_added")
        NoteFactory(case=case, body=f"note {i}")
        linked = AccountFactory()
        SubjectSignalFactory(subject=linked, signal=device)
        CaseFactory(subject=linked, status=CaseStatus.RESOLVED, resolution="actioned")
        CaseFactory(subject=ContentFactory(author=account), status=CaseStatus.RESOLVED, resolution="no_violation")
    Case.objects.filter(pk=case.pk).update(report_count=n, reporter_count=n)
    SlaCrossingFactory(case=case, clock="first_touch", level="at_risk", due_at=case.first_touch_due_at)
    case.refresh_from_db()
    return case


# --------------------------------------------------------------------------- queues


def test_queue_page_shows_counts_and_only_workable_queues(as_analyst, analyst):
    queue = QueueFactory(name="Spam desk", slug="spam-desk")
    QueueSlaFactory(queue=queue, priority=2, first_touch_minutes=60, resolution_minutes=240)
    now = timezone.now()
    CaseFactory(queue=queue, resolution_due_at=now - timedelta(minutes=1))  # breached
    CaseFactory(queue=queue, resolution_due_at=now + timedelta(minutes=30))  # < 25% of 240 left
    CaseFactory(queue=queue, resolution_due_at=now + timedelta(hours=3))  # fine
    CaseFactory(queue=queue, status=CaseStatus.IN_REVIEW, assignee=analyst, resolution_due_at=now + timedelta(hours=3))
    CaseFactory(queue=queue, status=CaseStatus.RESOLVED)
    hidden = QueueFactory(name="Legal only")
    hidden.allowed_teams.add(TeamFactory())
    response = as_analyst.get(reverse("queue-list"))
    assert response.status_code == 200
    [row] = [r for r in response.context["summaries"] if r["queue"] == queue]
    assert (row["open_count"], row["unassigned"], row["in_progress"], row["breached"], row["at_risk"]) == (4, 3, 1, 1, 1)
    html = response.content.decode()
    assert "Spam desk" in html and "Legal only" not in html
    assert 'data-shortcut="n"' in html and "data-keynav" in html


def test_queue_page_htmx_refresh_renders_only_the_table(as_analyst):
    response = as_analyst.get(reverse("queue-list"), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content and b"data-testid=\"queue-table\"" in response.content


def test_get_next_case_opens_it_and_an_empty_queue_says_so(as_analyst, analyst):
    queue = QueueFactory(slug="desk")
    case = CaseFactory(queue=queue)
    response = as_analyst.post(reverse("queue-claim-next", args=["desk"]))
    assert response.status_code == 302 and response["Location"] == reverse("case-detail", args=[case.pk])
    assert Case.objects.get(pk=case.pk).assignee == analyst
    response = as_analyst.post(reverse("queue-claim-next", args=["desk"]), follow=True)
    assert "no unassigned cases" in response.content.decode()


def test_get_next_from_a_queue_of_another_team_is_refused(as_analyst):
    queue = QueueFactory(slug="locked")
    queue.allowed_teams.add(TeamFactory())
    CaseFactory(queue=queue)
    response = as_analyst.post(reverse("queue-claim-next", args=["locked"]))
    assert response.status_code == 403
    assert "reserved for other teams" in response.content.decode()


# --------------------------------------------------------------------------- the case page


def test_a_signal_too_common_to_link_by_is_shown_as_such_and_links_no_account(as_analyst):
    """A carrier's NAT address shared by thousands of accounts says nothing about who is linked to
    whom: the page counts it only up to the limit, and lists only the accounts linked otherwise."""
    from cases.models import COMMON_SIGNAL_ACCOUNTS
    from cases.selectors import workspace
    from tests.factories import common_signal

    account = AccountFactory()
    case = CaseFactory(subject=account)
    linked = AccountFactory(handle="alsoondevice")
    device = SignalFactory()
    for holder in (account, linked):
        SubjectSignalFactory(subject=holder, signal=device)
    nat = common_signal(account, linked)
    signals = {s["signal__value_hash"]: s for s in workspace.subject_signals(account)}
    assert signals[nat.value_hash]["common"] and signals[nat.value_hash]["accounts"] == COMMON_SIGNAL_ACCOUNTS
    assert not signals[device.value_hash]["common"] and signals[device.value_hash]["accounts"] == 2
    assert [link["account"].pk for link in workspace.linked_accounts(account)] == [linked.pk]
    assert workspace.linked_accounts(account)[0]["shared_kinds"] == ["Device"]  # not the address
    html = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert html.count('data-testid="linked-account"') == 1
    assert f"shared by more than {COMMON_SIGNAL_ACCOUNTS:,} accounts, too common to link by" in html


def test_case_page_shows_every_section(as_analyst):
    case = rich_case(3)
    response = as_analyst.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for testid in ("case-header", "subject-panel", "reports", "history", "linked-accounts", "timeline", "notes",
                   "evidence", "case-actions", "sla-clocks"):
        assert f'data-testid="{testid}"' in html, testid
    assert "@suspect3" in html and "Buy followers now" in html
    assert "High severity category" in html and "3 distinct reporters" in html
    assert html.count('data-testid="linked-account"') == 3
    assert "shares device" in html
    assert "At risk" in html  # the recorded crossing
    assert 'data-shortcut="e"' in html


def test_case_page_renders_the_case_slot(as_analyst, tmp_path, settings):
    template_dir = tmp_path / "tpl"
    (template_dir / "x").mkdir(parents=True)
    (template_dir / "x" / "panel.html").write_text('<section data-testid="slot-panel">{{ panel.label }}</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], template_dir]}]
    register_panel("case", Panel(key="test.panel", template="x/panel.html", capability="case.view",
                                 context=lambda request, case: {"label": f"panel for {case.pk}"}))
    try:
        case = CaseFactory()
        html = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
        assert f'<section data-testid="slot-panel">panel for {case.pk}</section>' in html
    finally:
        _SLOTS["case"].pop("test.panel")


def test_support_agents_never_reach_cases_notes_or_evidence(client, support_agent, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    evidence = workflow.evidence_add(case=case, actor=analyst, text="secret extract")
    client.force_login(support_agent)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 403
    assert client.post(reverse("case-note-add", args=[case.pk]), {"body": "hi"}).status_code == 403
    assert client.get(reverse("evidence-download", args=[evidence.pk])).status_code == 403
    assert client.get(reverse("my-work")).status_code == 403
    assert client.get(reverse("case-search"), {"q": str(case.pk)}).status_code == 403
    assert not Note.objects.filter(case=case).exists()


def test_case_of_another_teams_queue_is_not_found(as_analyst):
    queue = QueueFactory()
    queue.allowed_teams.add(TeamFactory())
    case = CaseFactory(queue=queue)
    assert as_analyst.get(reverse("case-detail", args=[case.pk])).status_code == 404


def test_a_helper_from_another_team_sees_the_case_they_were_asked_about(client, analyst, helper):
    team = TeamFactory()
    TeamMembershipFactory(team=team, user=analyst)
    queue = QueueFactory()
    queue.allowed_teams.add(team)
    case = workflow.case_claim(case=CaseFactory(queue=queue), actor=analyst)
    client.force_login(helper)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
    workflow.case_hold(case=case, reason="Need your language", helper=helper, actor=analyst)
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200 and "Take over and resume" in response.content.decode()


# --------------------------------------------------------------------------- forms: plain POST and htmx


def test_note_plain_post_redirects_with_a_message(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    response = as_analyst.post(reverse("case-note-add", args=[case.pk]), {"body": "Looked at it"}, follow=True)
    assert response.redirect_chain[-1][0].endswith(f"/cases/{case.pk}/#notes")
    assert "Note added." in response.content.decode() and "Looked at it" in response.content.decode()


def test_note_htmx_returns_fragments_out_of_band(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    response = as_analyst.post(reverse("case-note-add", args=[case.pk]), {"body": "Via htmx"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="notes"' in html and 'id="timeline"' in html and html.count('hx-swap-oob="true"') >= 3
    assert "Via htmx" in html and "added a note" in html and "<html" not in html


def test_errors_are_messages_with_their_4xx_status(as_analyst, analyst, helper):
    case = workflow.case_claim(case=CaseFactory(), actor=helper)
    # a bad input: 400, the typed text is kept
    response = as_analyst.post(reverse("case-note-add", args=[case.pk]), {"body": "   "})
    assert response.status_code == 400 and "The note is required." in response.content.decode()
    # the wrong state: someone else holds it
    response = as_analyst.post(reverse("case-resolve", args=[case.pk]), {"reason": "fine"})
    assert response.status_code == 409
    assert "assigned to helen; only they can resolve it" in response.content.decode()
    # the same through htmx: the message fragment, retargeted at the message area
    response = as_analyst.post(reverse("case-resolve", args=[case.pk]), {"reason": "fine"}, **HTMX)
    assert response.status_code == 409 and response["HX-Retarget"] == "#case-messages"
    assert "only they can resolve it" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


def test_resolved_case_page_keeps_text_on_error(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    response = as_analyst.post(reverse("case-resolve", args=[case.pk]), {"reason": ""})
    assert response.status_code == 400


def test_claim_hold_resume_handoff_resolve_through_the_pages(client, analyst, helper, make_user):
    other = make_user(ANALYST, username="otto")
    case = CaseFactory()
    client.force_login(analyst)
    assert client.post(reverse("case-claim", args=[case.pk])).status_code == 302
    assert client.post(reverse("case-handoff", args=[case.pk]), {"to": "otto", "reason": "yours"}).status_code == 302
    assert Case.objects.get(pk=case.pk).assignee == other
    client.force_login(other)
    client.post(reverse("case-hold", args=[case.pk]), {"helper": f"user:{helper.pk}", "reason": "context?"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ON_HOLD
    client.force_login(helper)
    client.post(reverse("case-resume", args=[case.pk]))
    assert Case.objects.get(pk=case.pk).assignee == helper
    response = client.post(reverse("case-resolve", args=[case.pk]), {"reason": "Parody account"}, follow=True)
    assert "resolved as no violation" in response.content.decode()
    verbs = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("verb", flat=True))
    assert verbs == ["claimed", "handed_off", "held", "resumed", "resolved"]


def test_hold_for_a_team_through_the_page(client, analyst):
    team = TeamFactory(slug="policy-y")
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    client.force_login(analyst)
    client.post(reverse("case-hold", args=[case.pk]), {"helper": f"team:{team.pk}", "reason": "policy?"})
    assert Case.objects.get(pk=case.pk).held_for_team == team


def test_priority_category_tags_and_release_through_the_page(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    target = CategoryFactory(slug="target-cat")
    as_analyst.post(reverse("case-priority", args=[case.pk]), {"priority": "0", "reason": "threat"})
    as_analyst.post(reverse("case-category", args=[case.pk]), {"category": "target-cat", "reason": "better fit"})
    response = as_analyst.post(reverse("case-tags", args=[case.pk]), {"tags": "ring scam"}, **HTMX)
    assert response.status_code == 200 and "#ring" in response.content.decode()
    as_analyst.post(reverse("case-release", args=[case.pk]), {"reason": "out of time"})
    case.refresh_from_db()
    assert (case.priority, case.category, case.status) == (0, target, CaseStatus.OPEN)
    assert set(case.tags.values_list("name", flat=True)) == {"ring", "scam"}


# --------------------------------------------------------------------------- evidence


def real_png(size=(200, 120)) -> bytes:
    """A decodable PNG with sharp stripes (detail that a blurred derivative must not keep)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 10):
        draw.rectangle([x, 0, x + 4, size[1]], fill="red")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_evidence_upload_download_and_reveal(as_analyst, analyst, client, make_user):
    case = workflow.case_claim(case=CaseFactory(category=CategoryFactory(sensitive=True)), actor=analyst)
    original = real_png()
    upload = SimpleUploadedFile("gore.png", original, content_type="image/png")
    response = as_analyst.post(reverse("case-evidence-add", args=[case.pk]), {"file": upload, "description": "post"})
    assert response.status_code == 302
    evidence = Evidence.objects.get(case=case)
    assert evidence.sensitive and evidence.content_type == "image/png" and evidence.preview
    page = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="evidence-blurred"' in page and evidence.sha256 in page
    # Before the reveal the page references only the blurred derivative, never the original.
    original_url = reverse("evidence-download", args=[evidence.pk])
    assert f'"{original_url}"' not in page and f'"{original_url}?' not in page
    assert reverse("evidence-preview", args=[evidence.pk]) in page

    preview = as_analyst.get(reverse("evidence-preview", args=[evidence.pk]))
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    assert preview["X-Content-Type-Options"] == "nosniff" and preview["Cache-Control"] == "private, no-store"
    blurred = Image.open(io.BytesIO(b"".join(preview.streaming_content))).convert("RGB")
    # The stripes are gone: neighbouring pixels of a stripe edge differ by little.
    row = [blurred.getpixel((x, blurred.height // 2)) for x in range(blurred.width)]
    assert max(abs(a[1] - b[1]) for a, b in zip(row, row[1:], strict=False)) < 40

    # The original is refused, inline or as a download, until this user reveals it.
    for query in ("", "?inline=1"):
        refused = as_analyst.get(original_url + query)
        assert refused.status_code == 403 and "reveal it on the case page first" in refused.content.decode()
    assert not AuditEntry.objects.filter(object_ref=str(evidence.pk), verb__startswith="evidence.").exists()

    response = as_analyst.post(reverse("evidence-reveal", args=[evidence.pk]))
    assert response.status_code == 302
    page = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="evidence-revealed"' in page and 'data-testid="evidence-blurred"' not in page
    assert CaseEvent.objects.filter(case=case, verb="evidence_revealed", actor=analyst).count() == 1

    download = as_analyst.get(original_url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;") and "gore.png" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == original
    assert AuditEntry.objects.filter(verb="evidence.download", object_ref=str(evidence.pk), actor=analyst).exists()

    # Another analyst's view is still blurred: a reveal is one person's, recorded under their name.
    colleague = make_user(ANALYST, username="colleague")
    client.force_login(colleague)
    assert 'data-testid="evidence-blurred"' in client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert client.get(original_url + "?inline=1").status_code == 403


def test_a_sensitive_image_pillow_cannot_read_is_hidden_not_shown(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(category=CategoryFactory(sensitive=True)), actor=analyst)
    evidence = workflow.evidence_add(case=case, actor=analyst,
                                     upload=SimpleUploadedFile("x.png", PNG, content_type="image/png"))
    assert not evidence.preview
    page = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "Sensitive image hidden" in page and "<img" not in page.split('id="evidence"')[1].split("</section>")[0]
    assert as_analyst.get(reverse("evidence-preview", args=[evidence.pk])).status_code == 404


def test_an_image_is_blurred_once_its_case_becomes_sensitive(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(category=CategoryFactory(sensitive=False)), actor=analyst)
    evidence = workflow.evidence_add(case=case, actor=analyst,
                                     upload=SimpleUploadedFile("x.png", real_png(), content_type="image/png"))
    assert not evidence.sensitive and evidence.preview
    assert as_analyst.get(reverse("evidence-download", args=[evidence.pk]) + "?inline=1").status_code == 200
    workflow.case_change_category(case=case.pk, category=CategoryFactory(slug="gore", sensitive=True),
                                  reason="graphic", actor=analyst)
    page = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="evidence-blurred"' in page
    assert as_analyst.get(reverse("evidence-download", args=[evidence.pk]) + "?inline=1").status_code == 403


def test_text_evidence_through_the_page_and_as_a_download(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    response = as_analyst.post(reverse("case-evidence-add", args=[case.pk]), {"text": "<script>x</script>"}, **HTMX)
    assert response.status_code == 200 and "&lt;script&gt;" in response.content.decode()
    evidence = Evidence.objects.get(case=case)
    download = as_analyst.get(reverse("evidence-download", args=[evidence.pk]))
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.content == b"<script>x</script>"


def test_refused_upload_is_a_400_with_the_reason(as_analyst, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    upload = SimpleUploadedFile("x.exe", b"MZ\x90\x00binary\x00", content_type="application/octet-stream")
    response = as_analyst.post(reverse("case-evidence-add", args=[case.pk]), {"file": upload})
    assert response.status_code == 400 and "not accepted as evidence" in response.content.decode()


def test_evidence_of_a_case_you_cannot_see_is_not_found(client, analyst, make_user):
    queue = QueueFactory()
    queue.allowed_teams.add(TeamFactory())
    case = CaseFactory(queue=queue)
    evidence = Evidence.objects.create(case=case, kind="text", text_extract="x", content_type="text/plain", size=1,
                                       sha256="0" * 64, captured_by=analyst)
    client.force_login(make_user(ANALYST, username="outsider"))
    assert client.get(reverse("evidence-download", args=[evidence.pk])).status_code == 404
    assert client.post(reverse("evidence-reveal", args=[evidence.pk])).status_code == 404


# --------------------------------------------------------------------------- my work, search, list


def test_my_work_sections(client, analyst, helper):
    mine = workflow.case_claim(case=CaseFactory(), actor=analyst)
    held = workflow.case_claim(case=CaseFactory(), actor=analyst)
    workflow.case_hold(case=held, reason="help", helper=helper, actor=analyst)
    done = workflow.case_claim(case=CaseFactory(), actor=analyst)
    workflow.case_resolve_no_violation(case=done, reason="fine", actor=analyst)
    client.force_login(analyst)
    work = client.get(reverse("my-work")).context["work"]
    assert [c.pk for c in work["assigned"]] == [mine.pk]
    assert [c.pk for c in work["on_hold"]] == [held.pk]
    assert [c.pk for c in work["resolved"]] == [done.pk]
    client.force_login(helper)
    assert [c.pk for c in client.get(reverse("my-work")).context["work"]["asked_to_help"]] == [held.pk]


def test_search_by_every_key_and_only_visible_cases(as_analyst):
    account = AccountFactory(external_id="acct-991", handle="shady")
    case = CaseFactory(subject=account)
    ReportFactory(case=case, external_id="ext-report-7")
    post_case = CaseFactory(subject=ContentFactory(author=account))  # content by the account is found too
    locked_queue = QueueFactory()
    locked_queue.allowed_teams.add(TeamFactory())
    CaseFactory(queue=locked_queue, subject=AccountFactory(external_id="acct-992", handle="hidden"))
    for query in (str(case.pk), f"#{case.pk}", "ext-report-7"):
        results = as_analyst.get(reverse("case-search"), {"q": query}).context["results"]
        assert [c.pk for c in results] == [case.pk], query
    for query in ("acct-991", "@shady", "Shady"):
        results = as_analyst.get(reverse("case-search"), {"q": query}).context["results"]
        assert {c.pk for c in results} == {case.pk, post_case.pk}, query
    assert as_analyst.get(reverse("case-search"), {"q": "acct-992"}).context["results"] == []


def test_search_lists_an_accounts_newest_visible_cases_past_newer_hidden_ones(as_analyst):
    # The newest cases of the account sit in a queue the analyst may not work: search must still
    # reach the older ones they may open, newest first, a page at most.
    account = AccountFactory(external_id="acct-many")
    locked_queue = QueueFactory()
    locked_queue.allowed_teams.add(TeamFactory())
    now = timezone.now()
    visible = [CaseFactory(subject=account, status=CaseStatus.RESOLVED, opened_at=now - timedelta(hours=100 + n))
               for n in range(55)]
    hidden = [CaseFactory(subject=account, queue=locked_queue, status=CaseStatus.RESOLVED,
                          opened_at=now - timedelta(hours=n)) for n in range(55)]
    results = as_analyst.get(reverse("case-search"), {"q": "acct-many"}).context["results"]
    assert [c.pk for c in results] == [c.pk for c in visible[:50]]
    # A hidden case's number finds nothing either: the id branch applies the same rule.
    assert as_analyst.get(reverse("case-search"), {"q": f"#{hidden[0].pk}"}).context["results"] == []


def test_case_list_filters_and_pages_by_keyset(as_analyst, analyst):
    queue = QueueFactory(slug="listq")
    cases = CaseFactory.create_batch(55, queue=queue)
    mine = workflow.case_claim(case=cases[0], actor=analyst)
    response = as_analyst.get(reverse("case-list"), {"queue": "listq"})
    first = response.context["cases"]
    assert len(first) == 50 and first[0].pk == cases[-1].pk
    nxt = response.context["next_before"]
    second = as_analyst.get(reverse("case-list"), {"queue": "listq", "before": nxt}).context["cases"]
    assert {c.pk for c in first} | {c.pk for c in second} == {c.pk for c in cases}
    assert [c.pk for c in as_analyst.get(reverse("case-list"), {"assignee": "me"}).context["cases"]] == [mine.pk]
    assert len(as_analyst.get(reverse("case-list"), {"status": ["in_review"]}).context["cases"]) == 1
    partial = as_analyst.get(reverse("case-list"), {"queue": "listq"}, **HTMX)
    assert b"<html" not in partial.content and b"Older cases" in partial.content


# --------------------------------------------------------------------------- flat query counts


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


# The case page: user, roles and the unread badge (3; the session comes from the cache); the case
# with its tags and its queue's teams, events, notes, evidence, SLA crossings, reports (their groups
# too when the page does not hold them all), history, signals and linked accounts (2) (10-11); the
# pickers come from the cache. Today's slot panels (decision: policy, actions, strikes; escalations
# and their teams; appeals against the case) add 6; the ceiling leaves 2 for panels still to come.
CASE_PAGE_MAX_QUERIES = 22


def test_case_page_query_count_does_not_grow_with_the_case(as_analyst, django_assert_max_num_queries):
    small, large = rich_case(5), rich_case(50)
    as_analyst.get(reverse("case-detail", args=[small.pk]))  # fills the shared pickers cache
    with django_assert_max_num_queries(CASE_PAGE_MAX_QUERIES):
        n_small = _count(as_analyst, reverse("case-detail", args=[small.pk]))
    with django_assert_max_num_queries(CASE_PAGE_MAX_QUERIES):
        n_large = _count(as_analyst, reverse("case-detail", args=[large.pk]))
    # One more for the large case only: its report groups are counted in SQL because the page holds
    # its newest reports alone; a small case's groups come from the reports already read.
    assert n_large == n_small + 1
    assert n_large == _count(as_analyst, reverse("case-detail", args=[rich_case(80).pk]))


def test_lists_the_case_has_none_of_cost_no_query(as_analyst, analyst):
    """Notes, evidence, SLA crossings and escalations are read only when the case row says it has
    some; once it has, the page reads and shows them."""
    case = rich_case(2)
    bare = CaseFactory(queue=case.queue)
    as_analyst.get(reverse("case-detail", args=[bare.pk]))  # fills the shared pickers cache
    n_bare = _reads(as_analyst, reverse("case-detail", args=[bare.pk]))
    NoteFactory(case=bare, body="first note on a bare case")
    EvidenceFactory(case=bare)
    SlaCrossingFactory(case=bare, clock="first_touch", level="at_risk")
    EscalationFactory(case=bare, summary="asked the experts")
    page = as_analyst.get(reverse("case-detail", args=[bare.pk]))
    assert b"first note on a bare case" in page.content and b"asked the experts" in page.content
    assert len(page.context["evidence"]) == 1 and len(page.context["notes"]) == 1
    assert _reads(as_analyst, reverse("case-detail", args=[bare.pk])) == n_bare + 4


def _reads(client, url) -> int:
    """Statements run for a page, not counting the PREPARE of a statement's first run in the process."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len([q for q in ctx.captured_queries if not q["sql"].startswith("PREPARE")])


QUEUE_PAGE_MAX_QUERIES = 8


def test_queue_page_query_count_does_not_grow_with_cases_or_queues(as_analyst, django_assert_max_num_queries):
    def grow(n):
        for _ in range(n):
            queue = QueueFactory()
            QueueSlaFactory(queue=queue)
            CaseFactory.create_batch(n, queue=queue, resolution_due_at=timezone.now() + timedelta(minutes=10))

    grow(2)
    with django_assert_max_num_queries(QUEUE_PAGE_MAX_QUERIES):
        n_small = _count(as_analyst, reverse("queue-list"))
    grow(8)
    assert _count(as_analyst, reverse("queue-list")) == n_small


def test_list_pages_query_counts_are_flat(as_analyst, analyst, helper):
    def make(n):
        for _ in range(n):
            case = workflow.case_claim(case=CaseFactory(), actor=analyst)
            ReportFactory(case=case, external_id=f"needle-{case.pk}")
    make(3)
    counts_small = [_count(as_analyst, reverse(name)) for name in ("my-work", "case-list")]
    make(30)
    counts_large = [_count(as_analyst, reverse(name)) for name in ("my-work", "case-list")]
    assert counts_small == counts_large


def test_queue_counts_are_shared_briefly_and_say_when_they_were_taken(as_analyst, analyst, monkeypatch):
    from cases.selectors import workspace as selectors

    queue = QueueFactory(slug="cached")
    CaseFactory.create_batch(2, queue=queue)

    def unassigned():
        response = as_analyst.get(reverse("queue-list"))
        assert "Counts as of" in response.content.decode()
        return next(r["unassigned"] for r in response.context["summaries"] if r["queue"] == queue)

    assert unassigned() == 2
    workflow.case_claim_next(queue="cached", actor=analyst)  # claiming reads the live queue
    assert unassigned() == 2  # the page shows the shared count until it expires
    monkeypatch.setattr(selectors, "QUEUE_COUNTS_CACHE_SECONDS", 0)
    assert unassigned() == 1


def test_report_groups_from_the_reports_in_hand_match_the_sql_grouping():
    """A case whose reports all fit on the page groups them in Python; a case with more groups
    them in SQL. Both give the same rows for the same reports."""
    from cases.selectors.workspace import case_reports

    case = CaseFactory()
    other = CategoryFactory()
    start = timezone.now() - timedelta(hours=5)
    for i, (source, category, reporter) in enumerate([
        ("user_report", case.category, "r1"), ("user_report", case.category, "r1"),
        ("user_report", case.category, "r2"), ("automated", case.category, ""),
        ("user_report", other, "r3"), ("trusted_flagger", other, "r4"),
    ]):
        ReportFactory(case=case, source=source, category=category, reporter_ref=reporter,
                      received_at=start + timedelta(minutes=i))
    in_hand = case_reports(case)
    from_sql = case_reports(case, limit=3)  # fewer shown than the case holds: grouped in SQL
    assert in_hand["shown"] == 6 and from_sql["shown"] == 3
    assert in_hand["groups"] == from_sql["groups"]
    assert in_hand["groups"][0] == {"source": "user_report", "category__name": case.category.name, "count": 3,
                                    "reporters": 2, "first": start, "last": start + timedelta(minutes=2)}


def test_a_large_case_shows_its_newest_reports_and_a_grouping_shared_for_a_minute(as_analyst, monkeypatch):
    """Reports of one batch share their arrival time: the newest come by id among them. A case with
    many reports has its grouping made once a minute for everyone, and the page says when."""
    from django.core.cache import cache

    from cases.selectors import workspace

    monkeypatch.setattr(workspace, "REPORT_GROUPS_SHARED_FROM", 3)
    case = CaseFactory()
    at = timezone.now() - timedelta(minutes=5)
    reports = [ReportFactory(case=case, received_at=at) for _ in range(5)]
    Case.objects.filter(pk=case.pk).update(report_count=5)
    case.refresh_from_db()
    cache.clear()
    page = workspace.case_reports(case, limit=4)
    assert [r.pk for r in page["latest"]] == [r.pk for r in reports[::-1][:4]]
    assert page["groups"][0]["count"] == 5 and page["grouped_at"] is not None
    ReportFactory(case=case, received_at=at)
    assert workspace.case_reports(case, limit=4)["groups"][0]["count"] == 5  # the shared grouping
    monkeypatch.setitem(workspace.case_reports.__kwdefaults__, "limit", 4)
    html = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="report-groups-at"' in html and "The 4 newest of 5 reports" in html
    monkeypatch.setattr(workspace, "REPORT_GROUPS_SHARED_SECONDS", 0)
    assert workspace.case_reports(case, limit=4)["groups"][0]["count"] == 6


def test_the_case_page_writes_large_report_counts_with_thousands_separators(as_analyst):
    case = CaseFactory()
    ReportFactory(case=case)
    Case.objects.filter(pk=case.pk).update(report_count=200191, reporter_count=150007)
    html = as_analyst.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "200,191 reports from 150,007 reporters" in html
    assert "Reports <span class=\"muted\">(200,191)</span>" in html


def test_the_case_page_lookup_applies_the_case_access_rule(make_user, analyst, lead, support_agent):
    """case_for_user checks the loaded case in Python: it must agree with case_access_q, case by case."""
    from cases.selectors.workspace import case_access_q, case_for_user

    mine, theirs = TeamFactory(), TeamFactory()
    TeamMembershipFactory(team=mine, user=analyst)
    open_queue, my_queue, their_queue = QueueFactory(), QueueFactory(), QueueFactory()
    my_queue.allowed_teams.add(mine)
    their_queue.allowed_teams.add(theirs)
    outsider = make_user(ANALYST, username="out")
    cases = [
        CaseFactory(queue=open_queue), CaseFactory(queue=my_queue), CaseFactory(queue=their_queue),
        CaseFactory(queue=their_queue, assignee=analyst, status=CaseStatus.IN_REVIEW),
        CaseFactory(queue=their_queue, held_for=analyst, status=CaseStatus.ON_HOLD),
        CaseFactory(queue=their_queue, held_for_team=mine, status=CaseStatus.ON_HOLD),
        CaseFactory(queue=their_queue, held_for_team=theirs, status=CaseStatus.ON_HOLD),
    ]
    for user in (analyst, outsider, lead, support_agent):
        visible = set(Case.objects.filter(case_access_q(user), pk__in=[c.pk for c in cases]).values_list("pk", flat=True))
        assert {c.pk for c in cases if case_for_user(user, c.pk) is not None} == visible, user.username
    assert case_for_user(analyst, cases[2].pk) is None and case_for_user(analyst, cases[5].pk) is not None
    assert case_for_user(analyst, 10**12) is None
    assert case_for_user(analyst, 10**20) is None  # beyond bigint: no case, not a database error


def test_history_is_the_newest_cases_across_the_account_and_its_content():
    from cases.selectors.workspace import CASE_PAGE_HISTORY, subject_history
    from tests.factories import AccountFactory, ContentFactory

    account = AccountFactory()
    posts = [ContentFactory(author=account) for _ in range(3)]
    now = timezone.now()
    made = []
    for n in range(CASE_PAGE_HISTORY + 5):  # more than a page on the account itself
        made.append(CaseFactory(subject=account, status=CaseStatus.RESOLVED, opened_at=now - timedelta(hours=3 * n)))
    for n, post in enumerate(posts):
        made.append(CaseFactory(subject=post, status=CaseStatus.RESOLVED, opened_at=now - timedelta(hours=3 * n + 1)))
    CaseFactory(status=CaseStatus.RESOLVED, opened_at=now)  # someone else's
    current = made[0]
    expected = sorted((c for c in made if c.pk != current.pk), key=lambda c: (c.opened_at, c.pk), reverse=True)
    got = subject_history(account, exclude_case_id=current.pk)
    assert [c.pk for c in got] == [c.pk for c in expected[:CASE_PAGE_HISTORY]]
    assert [c.pk for c in subject_history(posts[1])] == [c.pk for c in sorted(
        made, key=lambda c: (c.opened_at, c.pk), reverse=True)[:CASE_PAGE_HISTORY]]
