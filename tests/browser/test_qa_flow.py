"""QA in a real browser: a reviewer audits a sampled decision blind (the page holds none of the
decision until they submit), the reveal shows it beside theirs, the analyst disputes the
feedback from their inbox, and a lead arbitrates."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from cases.models import CaseEvent, CaseStatus, Note
from enforcement.services import case_decide
from qa import sampling
from qa.models import Audit, Dispute, SamplingRule
from tests.browser.conftest import login, logout, screenshot
from tests.factories import (
    AccountFactory,
    CaseFactory,
    CategoryFactory,
    NoteFactory,
    PolicyFactory,
    QueueFactory,
    ReportFactory,
    user_with_role,
)
from tsconsole.roles import ANALYST, LEAD, QA_REVIEWER

pytestmark = pytest.mark.browser

RATIONALE = "Rationale-b7: threats repeated across three threads"
STATEMENT = "Statement-b7: we warned you about threatening replies"


@pytest.fixture
def sampled():
    """A warning decided by Ana, sampled by a rate-1 rule and assigned to Quinn."""
    import_module("qa.migrations.0002_defaults_and_decision_index").seed(apps, None)
    import_module("qa.migrations.0004_overturned_rule_and_added_corrections").seed(apps, None)
    SamplingRule.objects.update(is_active=False)
    ana = user_with_role(ANALYST, username="ana-rivera")
    user_with_role(QA_REVIEWER, username="quinn-qa")
    user_with_role(LEAD, username="lee-okafor")
    group = CategoryFactory(slug="harassment", name="Harassment and bullying")
    leaf = CategoryFactory(slug="targeted-harassment", name="Targeted harassment", parent=group)
    PolicyFactory(slug="harassment", name="Harassment and bullying", category=group, rule_text="No harassment.")
    case = CaseFactory(queue=QueueFactory(slug="general"), subject=AccountFactory(handle="loud_voice"), category=leaf,
                       status=CaseStatus.IN_REVIEW, assignee=ana, claimed_at=timezone.now(),
                       opened_at=timezone.now() - timedelta(hours=1))
    ReportFactory(case=case, description="He keeps replying to me with threats", received_at=timezone.now() - timedelta(minutes=50))
    note = NoteFactory(case=case, author=ana, body="Checked the three threads the reporter linked.")
    Note.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=40))
    case_decide(case=case, actor=ana, actions=[{"type": "warn"}], rationale=RATIONALE, statement=STATEMENT)
    rule = SamplingRule.objects.create(name="Everything", version=1)
    rule.versions.create(version=1, kind="random", rate=1)
    sampling.samples_draw()
    return rule.samples.get()


def test_blind_audit_feedback_dispute_and_arbitration(page, live_server, sampled):
    login(page, live_server, "quinn-qa", "pw")
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("home-qa").get_by_role("link", name=f"Sample {sampled.pk}").click()
    page.get_by_test_id("review-form").wait_for()
    html = page.content()
    assert "He keeps replying to me with threats" in html and "Checked the three threads" in html
    for secret in (RATIONALE, STATEMENT, "ana-rivera"):
        assert secret not in html, secret
    screenshot(page, "qa-blinded-audit")

    # Quinn would have suspended: a major disagreement, with feedback.
    page.select_option("#review-policy", "harassment")
    page.get_by_test_id("action-suspension").check()
    for key in ("correct_policy", "correct_action", "evidence", "rationale", "statement", "procedure"):
        page.get_by_test_id(f"criterion-{key}").get_by_label("4").check()
    page.fill("#feedback", "Three threats in a week: the ladder's suspension fits.")
    page.get_by_test_id("submit-review").click()
    page.get_by_test_id("original").wait_for()
    assert page.get_by_test_id("outcome").inner_text() == "Major"
    assert RATIONALE in page.get_by_test_id("original-rationale").inner_text()
    assert "ana-rivera" in page.get_by_test_id("original").inner_text()
    screenshot(page, "qa-reveal")
    logout(page)

    # Ana finds it in her inbox and disputes it.
    login(page, live_server, "ana-rivera", "pw")
    page.goto(f"{live_server.url}/qa/feedback/")
    item = page.get_by_test_id("feedback-item")
    assert "the ladder's suspension fits" in item.inner_text()
    screenshot(page, "qa-feedback-inbox")
    item.locator("textarea[name=reason]").fill("The first two were quotes from a film; only one was a threat.")
    item.get_by_test_id("dispute").click()
    page.get_by_text("Dispute sent to the leads.").wait_for()
    logout(page)

    # Lee overturns the audit.
    login(page, live_server, "lee-okafor", "pw")
    page.goto(f"{live_server.url}/qa/disputes/")
    dispute = page.get_by_test_id("dispute")
    assert "quotes from a film" in dispute.get_by_test_id("dispute-reason").inner_text()
    screenshot(page, "qa-disputes")
    dispute.locator("textarea[name=note]").fill("Checked the threads: the film quotes are clear.")
    dispute.locator("select[name=outcome]").select_option("minor")
    dispute.get_by_test_id("overturn").click()
    page.get_by_test_id("no-disputes").wait_for()

    audit = Audit.objects.get()
    assert (audit.outcome, audit.final_outcome) == ("major", "minor")
    assert Dispute.objects.get().ruling == "overturned"
    verbs = list(CaseEvent.objects.filter(case=sampled.case, verb__startswith="qa_").values_list("verb", flat=True))
    assert verbs == ["qa_audited", "qa_disputed", "qa_dispute_ruled"]
    page.goto(f"{live_server.url}/qa/overview/")
    screenshot(page, "qa-overview")

    # Lee corrects the decision: the warning stands and a 3-day suspension is added through enforcement.
    page.goto(f"{live_server.url}/qa/samples/{sampled.pk}/")
    form = page.get_by_test_id("correct-form")
    form.locator("#correct-policy").select_option("harassment")
    form.get_by_test_id("action-warn").check()
    form.get_by_test_id("action-suspension").check()
    form.locator("#correct-duration").fill("72")
    form.locator("#correct-statement").fill("Your account is suspended for 3 days for threatening replies.")
    form.locator("#correct-reason").fill("One real threat after a warning: the ladder's suspension.")
    screenshot(page, "qa-correct-form")
    form.get_by_role("button", name="Correct").click()
    page.get_by_test_id("correction").wait_for()
    assert "1 added" in page.get_by_test_id("correction").inner_text()
    screenshot(page, "qa-correction-added")
    assert sampled.case.enforcement_actions.filter(action_type="suspension", status="active").count() == 1
    page.goto(f"{live_server.url}/qa/rules/")
    assert "every decision overturned or modified on appeal" in page.get_by_test_id("rules").inner_text()
    screenshot(page, "qa-rules")


def test_a_lead_writes_a_rubric_version_from_the_qa_pages(page, live_server):
    """From the overview to the rubrics page, a policy's first rubric from the default's criteria,
    a refused edit keeping what was typed, then version 2."""
    from qa.models import Rubric

    import_module("qa.migrations.0002_defaults_and_decision_index").seed(apps, None)
    user_with_role(LEAD, username="lee-okafor")
    group = CategoryFactory(slug="harassment", name="Harassment and bullying")
    PolicyFactory(slug="harassment", name="Harassment and bullying", category=group, rule_text="No harassment.")
    login(page, live_server, "lee-okafor", "pw")
    page.goto(f"{live_server.url}/qa/overview/")
    page.get_by_test_id("rubrics-link").click()
    page.get_by_test_id("own-rubric-harassment").click()
    form = page.get_by_test_id("rubric-form")
    assert form.get_by_label("Criterion 1 name").input_value() == "Correct policy"
    form.get_by_label("Criterion 7 name").fill("Tone of the statement")
    form.get_by_label("Criterion 7 weight").fill("2")
    form.get_by_label("Criterion 2 name").fill("correct POLICY")  # a second "Correct policy"
    form.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("same name as an earlier one").wait_for()
    assert not Rubric.objects.filter(policy__slug="harassment").exists()
    form = page.get_by_test_id("rubric-form")
    assert form.get_by_label("Criterion 7 name").input_value() == "Tone of the statement"  # kept
    form.get_by_label("Criterion 2 name").fill("Correct action")
    form.get_by_label("Criterion 7 critical").check()
    form.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("saved as version 1").wait_for()
    screenshot(page, "qa-rubrics")
    rubric = Rubric.objects.get(policy__slug="harassment")
    tone = rubric.criteria.get(label="Tone of the statement")
    assert (tone.weight, tone.critical) == (2, True)
    assert rubric.criteria.count() == 7
