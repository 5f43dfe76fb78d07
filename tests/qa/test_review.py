"""Blinded review: the page and the API show the case as the analyst saw it and nothing of the
decision until the reviewer's own is recorded; then the reveal, outcomes and who may review."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent, Evidence, Note
from qa import sampling, services
from qa.models import Audit, Feedback, Outcome, Sample
from qa.selectors import sample_list
from tests.factories import EvidenceFactory, NoteFactory, ReportFactory
from tsconsole import roles
from tsconsole.errors import Conflict, InvalidInput, NotAllowed

RATIONALE = "Rationale-7f3a: repeated threats against the same journalist"
STATEMENT = "Statement-9c2e: we warned you for threatening another person"
GOOD = {"correct_policy": 5, "correct_action": 5, "evidence": 5, "rationale": 4, "statement": 4, "procedure": 5}


@pytest.fixture
def decider(make_user):
    return make_user(roles.ANALYST, username="zeddecider")


@pytest.fixture
def reviewer(make_user):
    return make_user(roles.QA_REVIEWER, username="quill")


@pytest.fixture
def sampled(decider, reviewer, decide, rule, policy):
    """A warning decided by `decider`, sampled and assigned to `reviewer`; with a report, a note and
    evidence before the decision, and a note and evidence added after it."""
    decision = decide(decider, ("warn",), rationale=RATIONALE, statement=STATEMENT)
    case = decision.case
    early = timezone.now() - timedelta(hours=2)
    ReportFactory(case=case, description="Reporter says: he keeps threatening me", received_at=early)
    Note.objects.filter(pk=NoteFactory(case=case, author=decider, body="Checked two earlier threads.").pk).update(created_at=early)
    Evidence.objects.filter(pk=EvidenceFactory(case=case, captured_by=decider, text_extract="screenshot text: I will find you").pk
                            ).update(captured_at=early)
    NoteFactory(case=case, author=decider, body="After-note-1d4b: decided on a warning")
    EvidenceFactory(case=case, captured_by=decider, text_extract="After-evidence-55aa")
    rule("random", rate=1)
    sampling.samples_draw()
    sample = Sample.objects.get()
    assert sample.reviewer == reviewer
    return sample


SECRETS = [RATIONALE, STATEMENT, "zeddecider", "After-note-1d4b", "After-evidence-55aa"]


def _review(policy="qa-policy", types=("warn",), scores=GOOD, **kw):
    return {"decision": {"policy": policy, "actions": [{"type": t} for t in types]}, "scores": scores, **kw}


def test_the_blinded_page_shows_the_case_but_not_the_decision(client, sampled, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("qa-sample", args=[sampled.pk])).content.decode()
    assert "he keeps threatening me" in html and "Checked two earlier threads." in html and "I will find you" in html
    for secret in SECRETS + [str(sampled.decision_ref)]:
        assert secret not in html, secret
    assert 'data-testid="review-form"' in html
    assert sampled.rule.name not in html  # the rule that drew it hints at the decision
    assert sampled.rule.name not in client.get(reverse("qa-queue")).content.decode()
    assert sampled.rule.name not in client.get(reverse("home")).content.decode()


def test_the_blinded_api_shows_the_case_but_not_the_decision(api_as, sampled, reviewer):
    response = api_as(reviewer).get(reverse("api-qa-sample", args=[sampled.pk]))
    assert response.status_code == 200
    body = json.dumps(response.json())
    for secret in SECRETS + [str(sampled.decision_ref)]:
        assert secret not in body, secret
    assert response.json()["original"] is None and response.json()["audit"] is None
    assert response.json()["rule"] is None
    assert "he keeps threatening me" in body
    assert {c["key"] for c in response.json()["rubric"]} == set(GOOD)
    listed = json.dumps(api_as(reviewer).get(reverse("api-qa-samples")).json())
    assert "zeddecider" not in listed and RATIONALE not in listed


def test_review_over_the_api_reveals_the_original_with_the_agreement(api_as, sampled, reviewer, client):
    response = api_as(reviewer).post(reverse("api-qa-sample-review", args=[sampled.pk]), _review(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["original"]["rationale"] == RATIONALE and body["original"]["analyst"] == "zeddecider"
    assert body["agreement"] == {"policy_match": True, "actions_match": True, "outcome": "agree"}
    assert CaseEvent.objects.filter(case=sampled.case, verb="qa_audited").count() == 1
    assert not Feedback.objects.exists()  # agreement without feedback text sends nothing
    client.force_login(reviewer)
    html = client.get(reverse("qa-sample", args=[sampled.pk])).content.decode()
    assert RATIONALE in html and STATEMENT in html and "zeddecider" in html
    again = api_as(reviewer).post(reverse("api-qa-sample-review", args=[sampled.pk]), _review(), format="json")
    assert again.status_code == 409


def test_review_through_the_page(client, sampled, reviewer):
    client.force_login(reviewer)
    data = {"verdict": "violation", "policy": "qa-policy", "actions": ["suspension"], "feedback": "A suspension fits."}
    data.update({f"score_{k}": v for k, v in GOOD.items()})
    response = client.post(reverse("qa-sample-review", args=[sampled.pk]), data)
    assert response.status_code == 302
    audit = Audit.objects.get()
    assert audit.outcome == Outcome.MAJOR and audit.action_types == ["suspension"]
    assert Feedback.objects.get().analyst.username == "zeddecider"
    missing = client.post(reverse("qa-sample-review", args=[sampled.pk]), {"verdict": "violation"})
    assert missing.status_code == 302  # reviewed already: back to the reveal with a message


def test_a_refused_review_through_the_page_keeps_what_was_chosen(client, sampled, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("qa-sample-review", args=[sampled.pk]), {
        "verdict": "violation", "policy": "qa-policy", "actions": ["warn"], "score_evidence": "4", "feedback": "Kept-3e1"})
    assert response.status_code == 400  # scores missing
    html = response.content.decode()
    assert '<option value="qa-policy" selected>' in html and html.count(" selected>") == 1
    assert 'value="warn" data-testid="action-warn" checked>' in html
    assert 'name="score_evidence" value="4" required checked>' in html and html.count("required checked>") == 1
    assert "Kept-3e1" in html
    fresh = client.get(reverse("qa-sample", args=[sampled.pk])).content.decode()
    assert " selected>" not in fresh and "required checked>" not in fresh


def test_bad_reviews_answer_400_with_field_errors(api_as, sampled, reviewer):
    client = api_as(reviewer)
    url = reverse("api-qa-sample-review", args=[sampled.pk])
    r = client.post(url, _review(scores={"correct_policy": 9}), format="json")
    assert r.status_code == 400 and "scores" in r.json()["errors"]
    r = client.post(url, {"decision": {"actions": [{"type": "warn"}]}, "scores": GOOD}, format="json")
    assert r.status_code == 400 and "decision" in r.json()["errors"]
    r = client.post(url, {"decision": {"no_violation": True, "actions": [{"type": "warn"}]}, "scores": GOOD}, format="json")
    assert r.status_code == 400
    r = client.post(url, ["not", "an", "object"], format="json")
    assert r.status_code == 400
    assert Sample.objects.get().status == "due"


def test_who_may_review(api_as, sampled, decider, make_user, client):
    other = make_user(roles.QA_REVIEWER, username="other-qa")
    assert api_as(other).get(reverse("api-qa-sample", args=[sampled.pk])).status_code == 404
    assert api_as(decider).get(reverse("api-qa-sample", args=[sampled.pk])).status_code == 403
    support = make_user(roles.SUPPORT_AGENT, username="sup")
    client.force_login(support)
    assert client.get(reverse("qa-sample", args=[sampled.pk])).status_code == 403
    with pytest.raises(NotAllowed):
        services.sample_review(sample=sampled, decision={"no_violation": True}, scores=GOOD, actor=other)


def test_a_lead_cannot_review_a_decision_they_took_part_in(decide, make_user, rule, policy):
    lead = make_user(roles.LEAD, username="deciding-lead")
    decision = decide(lead, ("warn",))
    rule("random", rate=1)
    sampling.samples_draw()
    sample = Sample.objects.get(decision_ref=decision.actions[0].decision_ref)
    assert sample.reviewer is None
    with pytest.raises(NotAllowed):
        services.sample_review(sample=sample, decision={"no_violation": True}, scores=GOOD, actor=lead)


@pytest.mark.parametrize("review, outcome", [
    (_review(), Outcome.AGREE),
    (_review(types=("warn", "restrict_visibility")), Outcome.MINOR),
    (_review(scores={**GOOD, "rationale": 1, "statement": 1, "evidence": 2}), Outcome.MINOR),
    (_review(types=("suspension",)), Outcome.MAJOR),
    ({"decision": {"no_violation": True}, "scores": GOOD}, Outcome.MAJOR),
    (_review(scores={**GOOD, "correct_action": 2}), Outcome.CRITICAL),
])
def test_outcomes(sampled, reviewer, review, outcome):
    audit = services.sample_review(sample=sampled, actor=reviewer, **review)
    assert audit.outcome == outcome == audit.final_outcome
    assert Feedback.objects.filter(audit=audit).exists() == (outcome != Outcome.AGREE)


def test_weighted_score(sampled, reviewer):
    audit = services.sample_review(sample=sampled, actor=reviewer, **_review(scores={k: 3 for k in GOOD}))
    assert audit.score == 50.0 and not audit.critical_miss


def test_correction_rejects_a_review_of_an_agreeing_audit(sampled, reviewer, lead):
    audit = services.sample_review(sample=sampled, actor=reviewer, **_review())
    with pytest.raises(Conflict):
        services.audit_correct(audit=audit, decision={"no_violation": True}, reason="x", actor=lead)
    with pytest.raises(InvalidInput):
        services.audit_correct(audit=audit, decision={"no_violation": True}, reason="", actor=lead)


def test_the_blinded_page_and_api_stay_flat(client, api_as, sampled, reviewer, django_assert_max_num_queries):
    for i in range(5):
        ReportFactory(case=sampled.case, received_at=timezone.now() - timedelta(hours=3, minutes=i))
        Note.objects.filter(pk=NoteFactory(case=sampled.case, body=f"n{i}").pk).update(created_at=timezone.now() - timedelta(hours=3))
    client.force_login(reviewer)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("qa-sample", args=[sampled.pk])).status_code == 200
    with django_assert_max_num_queries(30):
        assert api_as(reviewer).get(reverse("api-qa-sample", args=[sampled.pk])).status_code == 200


def test_the_blinded_page_shows_earlier_cases_and_linked_accounts_as_they_stood(
        client, decider, reviewer, decide, rule, django_assert_max_num_queries):
    """A post's case: the earlier cases about the post and its author, none opened after the
    decision; the accounts sharing a signal with the author, with their cases from before it."""
    from cases.models import Case, CaseStatus
    from tests.factories import (
        AccountFactory,
        CaseFactory,
        ContentFactory,
        SignalFactory,
        SubjectSignalFactory,
    )

    now = timezone.now()
    author = AccountFactory(external_id="author-77", handle="")
    post = ContentFactory(author=author, external_id="post-77")
    done = {"status": CaseStatus.RESOLVED, "resolution": Case.Resolution.ACTIONED}
    earlier = CaseFactory(subject=author, opened_at=now - timedelta(days=2), resolved_at=now - timedelta(days=1), **done)
    decide(decider, ("warn",), subject=post)
    later = CaseFactory(subject=author, opened_at=timezone.now() + timedelta(hours=1))
    linked = AccountFactory(external_id="linked-88")
    signal = SignalFactory()
    SubjectSignalFactory(subject=author, signal=signal)
    SubjectSignalFactory(subject=linked, signal=signal)
    CaseFactory(subject=linked, opened_at=now - timedelta(days=3), resolved_at=now - timedelta(days=2), **done)
    CaseFactory(subject=linked, opened_at=timezone.now() + timedelta(hours=1))
    rule("random", rate=1)
    sampling.samples_draw()
    sample = Sample.objects.get()
    client.force_login(reviewer)
    with django_assert_max_num_queries(16):
        html = client.get(reverse("qa-sample", args=[sample.pk])).content.decode()
    history = html[html.index('data-testid="history"'):html.index('data-testid="linked-accounts"')]
    assert f"#{earlier.pk} " in history and "account author-77" in history and "Action taken" in history
    assert f"#{later.pk} " not in history
    links = html[html.index('data-testid="linked-accounts"'):]
    assert "linked-88" in links and "1 earlier case," in links and "1 actioned" in links


# --------------------------------------------------------------------------- sensitive images and exposure


def _sensitive_image(sample):
    from django.core.files.base import ContentFile

    from cases.models import Category

    Category.objects.filter(pk=sample.case.category_id).update(sensitive=True)
    image = EvidenceFactory(case=sample.case, kind="file", text_extract="", content_type="image/png",
                            original_name="scene.png", file=ContentFile(b"\x89PNG original", name="scene.png"))
    image.preview.save("previews/scene.jpg", ContentFile(b"\xff\xd8\xff\xe0 derivative"), save=False)
    Evidence.objects.filter(pk=image.pk).update(captured_at=timezone.now() - timedelta(hours=2), preview=image.preview.name)
    return image


def test_a_sensitive_image_reaches_the_reviewer_only_as_its_derivative_until_revealed(client, sampled, reviewer):
    from tsconsole.models import UserPreferences

    image = _sensitive_image(sampled)
    UserPreferences.objects.create(user=reviewer, preview_mode="greyscale_blurred")
    client.force_login(reviewer)
    original = reverse("qa-evidence", args=[sampled.pk, image.pk])
    html = client.get(reverse("qa-sample", args=[sampled.pk])).content.decode()
    assert f'src="{original}?preview=1"' in html and f'src="{original}"' not in html
    assert "treat-greyscale_blurred blurred" in html
    assert client.get(original).status_code == 403
    preview = client.get(original, {"preview": "1"})
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    client.post(reverse("qa-evidence-reveal", args=[sampled.pk, image.pk]))
    html = client.get(reverse("qa-sample", args=[sampled.pk])).content.decode()
    assert f'src="{original}"' in html and 'data-testid="evidence-revealed"' in html
    assert client.get(original).status_code == 200


def test_the_review_page_of_a_sensitive_case_counts_exposure_for_its_reviewer_only(client, sampled, reviewer, make_user):
    from tsconsole.models import ExposureDay

    _sensitive_image(sampled)
    client.force_login(reviewer)
    assert "data-exposure-url" in client.get(reverse("qa-sample", args=[sampled.pk])).content.decode()
    assert client.post(reverse("qa-sample-exposure", args=[sampled.pk])).json()["counted"] is True
    client.force_login(make_user(roles.QA_REVIEWER, username="someone-else"))
    assert client.post(reverse("qa-sample-exposure", args=[sampled.pk])).status_code == 404
    assert list(ExposureDay.objects.values_list("user__username", "minutes")) == [("quill", 1)]


def test_the_sample_list_filters_and_pages_for_reviewers_and_leads(make_user, reviewers, decide, rule, queue):
    from cases.models import Case
    from qa.selectors import sample_list, samples_due
    from tests.factories import QueueFactory

    analysts = [make_user(roles.ANALYST, username=f"an{i}") for i in range(2)]
    other_queue = QueueFactory(slug="other-queue")
    for n in range(6):
        decide(analysts[n % 2], ("warn",), case_queue=other_queue if n == 5 else queue)
    rule("random", rate=1)
    sampling.samples_draw()
    lead = make_user(roles.LEAD, username="leader")
    everyone = list(Sample.objects.order_by("-id"))
    assert len(everyone) == 6
    page = sample_list(lead, limit=4)
    assert [s.pk for s in page["samples"]] == [s.pk for s in everyone[:4]] and page["next_before"] == everyone[3].pk
    assert [s.pk for s in sample_list(lead, before_id=page["next_before"])["samples"]] == [s.pk for s in everyone[4:]]
    assert {s.analyst_name for s in sample_list(lead, analyst="an1")["samples"]} == {"an1"}
    assert [s.case_id for s in sample_list(lead, queue="other-queue")["samples"]] == list(
        Case.objects.filter(queue=other_queue).values_list("pk", flat=True))
    assert len(sample_list(lead, policy="qa-policy", status="due")["samples"]) == 6
    assert sample_list(lead, status="reviewed")["samples"] == []
    mine = sample_list(reviewers[0])["samples"]
    assert mine and {s.reviewer_name for s in mine} == {"qa0"}
    assert [s.pk for s in samples_due(reviewers[0])] == [
        s.pk for s in Sample.objects.filter(reviewer=reviewers[0], status="due").order_by("due_at", "id")]
    assert sample_list(analysts[0]) == {"samples": [], "next_before": None}
    assert len(sample_list(lead, before_id=10**30)["samples"]) == 6  # beyond any id: the first page


# The rule that drew a sample hints at the decision, and the analyst is whose decision it is: the
# list a reviewer receives (page, API, anything else) does not carry them, not just the page's rows.


def test_a_reviewers_sample_list_does_not_carry_the_rule_of_an_unreviewed_sample(sampled, reviewer):
    (row,) = sample_list(reviewer)["samples"]
    assert (row.pk, row.status, row.rule_name) == (sampled.pk, "due", None)
    assert not hasattr(row, "rule")  # a row, not a sample that could load its rule


def test_a_reviewers_sample_list_carries_the_rule_once_reviewed(sampled, reviewer):
    services.sample_review(sample=sampled.pk, decision=_review()["decision"], scores=GOOD, actor=reviewer)
    (row,) = sample_list(reviewer)["samples"]
    assert (row.status, row.rule_name) == ("reviewed", sampled.rule.name)


def test_a_reviewers_sample_list_carries_no_analyst_before_or_after_review(sampled, reviewer):
    assert [(row.analyst_name, hasattr(row, "analyst")) for row in sample_list(reviewer)["samples"]] == [(None, False)]
    services.sample_review(sample=sampled.pk, decision=_review()["decision"], scores=GOOD, actor=reviewer)
    assert [row.analyst_name for row in sample_list(reviewer)["samples"]] == [None]


def test_a_reviewers_list_reads_no_analyst_and_the_rule_only_of_a_reviewed_sample(reviewer):
    from qa.selectors import _sample_page

    sql = str(_sample_page(False, ("status",), 50, reviewer_id=reviewer.pk, status="due").query)
    assert "analyst" not in sql
    assert 'JOIN "qa_samplingrule"' not in sql and 'CASE WHEN "qa_sample"."status" = reviewed THEN (SELECT' in sql


def test_a_reviewer_cannot_tell_whose_decision_a_sample_is_by_filtering_on_the_analyst(api_as, client, sampled, reviewer):
    for analyst in ("zeddecider", "someone-else"):
        assert [row.pk for row in sample_list(reviewer, analyst=analyst)["samples"]] == [sampled.pk]
        assert [s["id"] for s in api_as(reviewer).get(reverse("api-qa-samples"), {"analyst": analyst}).json()] == [sampled.pk]
    client.force_login(reviewer)
    queue = client.get(reverse("qa-queue"), {"analyst": "someone-else"}).content.decode()
    assert queue.count(f">Sample {sampled.pk}</a>") == 2  # due for them, and in their list


def test_a_leads_sample_list_carries_the_rule_and_the_analyst(sampled, make_user):
    (row,) = sample_list(make_user(roles.LEAD, username="leader"))["samples"]
    assert (row.status, row.rule_name, row.analyst_name, row.reviewer_name) == ("due", sampled.rule.name, "zeddecider", "quill")


def test_the_sample_api_gives_a_reviewer_the_rule_once_reviewed_and_a_lead_always(api_as, sampled, reviewer, make_user):
    lead = make_user(roles.LEAD, username="leader")

    def rules(user):
        listed = api_as(user).get(reverse("api-qa-samples")).json()
        return [s["rule"] for s in listed], api_as(user).get(reverse("api-qa-sample", args=[sampled.pk])).json()["rule"]

    name = sampled.rule.name
    assert rules(reviewer) == ([None], None)
    assert rules(lead) == ([name], name)
    assert api_as(reviewer).post(reverse("api-qa-sample-review", args=[sampled.pk]), _review(), format="json").status_code == 201
    assert rules(reviewer) == ([name], name)


def test_the_overview_counts_audits_by_outcome_and_links_each_analysts_samples(client, sampled, reviewer, lead):
    from qa.templatetags.qa_tags import audit_rows

    client.force_login(reviewer)
    data = {"verdict": "violation", "policy": "qa-policy", "actions": ["suspension"], "feedback": "A suspension fits."}
    data.update({f"score_{k}": v for k, v in GOOD.items()})
    client.post(reverse("qa-sample-review", args=[sampled.pk]), data)
    client.force_login(lead)
    html = client.get(reverse("qa-overview")).content.decode()
    analysts = html.split('data-testid="by-analyst"')[1].split("</section>")[0]
    assert (f'<a href="{reverse("qa-queue")}?analyst=zeddecider">zeddecider</a></td><td class="num">1</td>'
            '<td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">0</td>'
            '<td class="num">0.0%</td>') in analysts
    # a name is escaped as text and encoded in the link
    row = audit_rows("analyst", [{"label": "ann+<b>", "audits": 2, "agree": 1, "minor": 1, "major": 0, "critical": 0,
                                  "rate": 50.0}])
    assert "?analyst=ann%2B%3Cb%3E" in row and ">ann+&lt;b&gt;</a>" in row
    assert "No audits yet." in audit_rows("queue", [])
