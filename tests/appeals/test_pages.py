"""The appeal on the case page, deciding it from there, and appeals in the support lookup (what
each role sees: support never sees rationale, notes, evidence or the reviewer)."""

import pytest
from django.urls import reverse

from appeals import services
from appeals.models import Appeal
from cases.services.workflow import note_add
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_case_page_puts_the_decision_beside_the_appellants_words(client, claimed_appeal, decided, reviewer,
                                                                      django_assert_max_num_queries):
    decision = decided()
    appeal = claimed_appeal(decision, statement="I was quoting a film, honestly.")
    client.force_login(reviewer)
    with django_assert_max_num_queries(31):  # the case page plus the appeal panel: fixed, whatever the history
        response = client.get(reverse("case-detail", args=[appeal.case_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="appeal-panel"' in html and 'data-testid="case-kind"' in html
    assert "I was quoting a film, honestly." in html
    assert "Internal: threats in three replies." in html  # the original rationale
    assert "Your account is suspended for 3 days." in html  # the statement of reasons
    assert 'data-testid="original-decider">ana' in html
    assert 'data-testid="appeal-decide-form"' in html
    # the report case shows its decision's appeal
    original = client.get(reverse("case-detail", args=[decision.case.pk])).content.decode()
    assert 'data-testid="appeals-against"' in original and f"Appeal #{appeal.pk}" in original


def test_the_original_decider_sees_why_they_cannot_decide(client, claimed_appeal, decided, analyst):
    appeal = claimed_appeal(decided())
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[appeal.case_id])).content.decode()
    assert 'data-testid="appeal-decide-form"' not in html
    assert "You made the decision under appeal" in html
    response = client.post(reverse("appeal-decide", args=[appeal.pk]),
                           {"outcome": "overturned", "rationale": "mine", "statement": "s"})
    assert response.status_code == 403
    assert Appeal.objects.get(pk=appeal.pk).status == "open"


def test_the_reviewer_overturns_from_the_case_page(client, claimed_appeal, decided, reviewer):
    appeal = claimed_appeal(decided())
    client.force_login(reviewer)
    response = client.post(reverse("appeal-decide", args=[appeal.pk]), {
        "outcome": "overturned", "rationale": "The film quote is clear.", "statement": "We lifted the suspension."})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.outcome == "overturned"
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="appeal-outcome"' in html and "We lifted the suspension." in html


def test_a_refused_form_keeps_what_was_typed(client, claimed_appeal, decided, reviewer):
    appeal = claimed_appeal(decided())
    client.force_login(reviewer)
    response = client.post(reverse("appeal-decide", args=[appeal.pk]), {
        "outcome": "modified", "rationale": "Too harsh for a first time.", "statement": "Now a warning."})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Too harsh for a first time." in html and "Choose the new actions" in html


def test_the_resolve_button_is_not_offered_on_an_appeal(client, claimed_appeal, decided, reviewer):
    appeal = claimed_appeal(decided())
    client.force_login(reviewer)
    response = client.post(reverse("case-resolve", args=[appeal.case_id]), {"reason": "done"})
    assert response.status_code == 409
    assert Appeal.objects.get(pk=appeal.pk).status == "open"


def test_support_lookup_shows_status_deadline_and_outcome_and_nothing_internal(
        client, support_agent, claimed_appeal, decided, reviewer):
    account = AccountFactory(handle="gizmo")
    appeal = claimed_appeal(decided(account))
    note_add(case=appeal.case_id, body="SECRET-NOTE about the appellant", actor=reviewer)
    client.force_login(support_agent)
    html = client.get(reverse("support-lookup"), {"q": account.external_id}).content.decode()
    assert 'data-testid="lookup-appeal"' in html and "Answer due by" in html
    assert "(in the product)" in html  # the channel's name, not its stored value
    services.appeal_decide(appeal=appeal, outcome="upheld", rationale="SECRET-RATIONALE", statement="It stands.",
                           actor=reviewer)
    html = client.get(reverse("support-lookup"), {"q": account.external_id}).content.decode()
    assert "Upheld" in html and "It stands." in html
    for internal in ("SECRET-RATIONALE", "SECRET-NOTE", "rita", "Internal: threats", "reporter-a"):
        assert internal not in html, internal


def test_support_files_an_appeal_for_the_user(client, support_agent, decided):
    account = AccountFactory(handle="caller")
    decision = decided(account)
    client.force_login(support_agent)
    page = client.get(reverse("support-lookup"), {"q": account.external_id}).content.decode()
    assert 'data-testid="appeal-file-form"' in page and decision.ref in page
    response = client.post(reverse("appeal-file-for-user"), {
        "decision": decision.ref, "appellant_kind": "subject", "appellant": account.external_id, "channel": "phone",
        "statement": "He says the post was a quote from a film.", "q": account.external_id})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.source == "support" and appeal.channel == "phone" and appeal.filed_by == support_agent
    assert appeal.statement == "He says the post was a quote from a film."
    html = client.get(response["Location"]).content.decode()
    assert f"Appeal #{appeal.pk} filed" in html and "Answer due by" in html


def test_support_sees_why_an_appeal_was_refused_and_keeps_the_words(client, support_agent, decided):
    account = AccountFactory()
    decision = decided(account)
    client.force_login(support_agent)
    response = client.post(reverse("appeal-file-for-user"), {
        "decision": decision.ref, "appellant_kind": "subject", "appellant": "not-the-user", "channel": "email",
        "statement": "Words typed on the phone.", "q": account.external_id})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not affected by this decision" in html and "Words typed on the phone." in html
    assert not Appeal.objects.exists()


def test_the_appeal_shows_the_original_cases_sensitive_images_as_the_reviewer_chose(client, claimed_appeal, decided,
                                                                                   reviewer):
    from django.core.files.base import ContentFile

    from cases.models import Category
    from cases.services.workflow import evidence_reveal
    from tests.factories import EvidenceFactory
    from tsconsole.models import UserPreferences

    decision = decided()
    Category.objects.filter(pk=decision.case.category_id).update(sensitive=True)
    image = EvidenceFactory(case=decision.case, kind="file", text_extract="", content_type="image/png",
                            original_name="scene.png")
    image.preview.save("previews/scene.jpg", ContentFile(b"\xff\xd8\xff\xe0 derivative"), save=True)
    appeal = claimed_appeal(decision)
    UserPreferences.objects.create(user=reviewer, preview_mode="greyscale")
    client.force_login(reviewer)
    html = client.get(reverse("case-detail", args=[appeal.case_id])).content.decode()
    assert reverse("evidence-preview", args=[image.pk]) in html and "treat-greyscale" in html
    assert f"Reveal on case {decision.case.pk}" in html
    assert reverse("evidence-download", args=[image.pk]) + "?inline=1" not in html
    evidence_reveal(evidence_id=image.pk, actor=reviewer)
    html = client.get(reverse("case-detail", args=[appeal.case_id])).content.decode()
    assert reverse("evidence-download", args=[image.pk]) + "?inline=1" in html and "data-colour-toggle" in html


def test_earlier_appeals_about_the_subject_are_listed_and_none_cost_no_query(client, claimed_appeal, decided,
                                                                              reviewer, file_appeal):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from appeals.models import Outcome

    subject = AccountFactory()
    first = claimed_appeal(decided(subject))
    client.force_login(reviewer)
    url = reverse("case-detail", args=[first.case_id])
    client.get(url)  # the shared pickers cache, the statements prepared
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(url).content.decode()
    alone = len([q for q in ctx.captured_queries if not q["sql"].startswith("PREPARE")])
    assert 'data-testid="earlier-appeals"' not in html and "No evidence on the case." in html
    second = file_appeal(decided(subject), statement="Again, please.").appeal
    # an earlier appeal is read only when there is one (the appeal's row says so)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(url).content.decode()
    # (a statement run for the first time is prepared first: not a read of its own)
    assert len([q for q in ctx.captured_queries if not q["sql"].startswith("PREPARE")]) == alone + 1
    assert 'data-testid="earlier-appeals"' in html and f"Appeal #{second.pk}</a>" in html
    services.appeal_decide(appeal=first.pk, outcome=Outcome.UPHELD, rationale="It stands.",
                           statement="We looked again; it stands.", actor=reviewer)
    html = client.get(reverse("case-detail", args=[second.case_id])).content.decode()
    assert f"Appeal #{first.pk}</a>" in html and f"Upheld by {reviewer.username}" in html
