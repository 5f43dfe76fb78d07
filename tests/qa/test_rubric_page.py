"""The rubric page: leads and admins write a policy's (or the default) rubric as its next version
from a server-rendered form, checked on the server, audited; audits keep their version."""

import pytest
from django.urls import reverse

from qa import sampling, services
from qa.models import Rubric, Sample
from tsconsole import roles
from tsconsole.errors import InvalidInput
from tsconsole.models import AuditEntry

EDIT = reverse("qa-rubric-edit")


def _form(rows, *, policy="qa-policy", pass_mark="80"):
    """The form's fields for rows of (name, description, weight, critical[, key])."""
    data = {"policy": policy, "rows": str(len(rows)), "pass_mark": pass_mark}
    for i, row in enumerate(rows):
        label, help_text, weight, critical, *key = row
        data.update({f"label_{i}": label, f"help_{i}": help_text, f"weight_{i}": str(weight), f"key_{i}": key[0] if key else ""})
        if critical:
            data[f"critical_{i}"] = "on"
    return data


GOOD = [("Right policy", "The policy covers it.", 3, True), ("Clear statement", "", 1, False)]


@pytest.fixture
def as_lead(client, lead):
    client.force_login(lead)
    return client


def test_a_lead_saves_a_policys_rubric_as_new_versions_and_audits_keep_theirs(
        as_lead, lead, policy, make_user, decide, rule):
    page = as_lead.get(EDIT, {"policy": "qa-policy"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "no rubric of its own yet" in html and "Correct policy" in html  # starts from the default's criteria
    saved = as_lead.post(EDIT, _form(GOOD, pass_mark="70"))
    assert saved.status_code == 302 and saved["Location"] == reverse("qa-rubrics")
    first = Rubric.objects.get(policy=policy)
    assert (first.version, first.pass_mark, first.created_by) == (1, 70, lead)
    assert [(c.key, c.label, c.weight, c.critical, c.position) for c in first.criteria.all()] == [
        ("right-policy", "Right policy", 3, True, 0), ("clear-statement", "Clear statement", 1, False, 1)]
    entry = AuditEntry.objects.filter(verb="qa.rubric_saved").latest("id")
    assert entry.data == {"policy": "qa-policy", "version": 1, "pass_mark": 70,
                          "criteria": ["right-policy", "clear-statement"]}
    # an audit scored with version 1
    analyst = make_user(roles.ANALYST, username="rp-analyst")
    reviewer = make_user(roles.QA_REVIEWER, username="rp-reviewer")
    decide(analyst, ("warn",))
    rule("random", rate=1)
    sampling.samples_draw()
    audit = services.sample_review(sample=Sample.objects.get(), actor=reviewer,
                                   scores={"right-policy": 5, "clear-statement": 4},
                                   decision={"policy": "qa-policy", "actions": [{"type": "warn"}]})
    # the edit page shows version 1 with its keys; renaming keeps the key, emptying a row removes it
    html = as_lead.get(EDIT, {"policy": "qa-policy"}).content.decode()
    assert "Current: version 1" in html and 'value="right-policy"' in html
    as_lead.post(EDIT, _form([("Correct policy applied", "", 4, True, "right-policy"), ("", "", 1, False, "clear-statement"),
                              ("Evidence", "Enough of it.", 2, False)]))
    second = Rubric.objects.filter(policy=policy).latest("version")
    assert second.version == 2
    assert [(c.key, c.label, c.weight) for c in second.criteria.all()] == [
        ("right-policy", "Correct policy applied", 4), ("evidence", "Evidence", 2)]
    audit.refresh_from_db()
    assert audit.rubric == first and audit.scores == {"right-policy": 5, "clear-statement": 4}
    listing = as_lead.get(reverse("qa-rubrics")).content.decode()
    assert "Correct policy applied (4)" in listing and "v2" in listing


def test_the_default_rubric_is_edited_without_a_policy(as_lead):
    before = Rubric.objects.filter(policy__isnull=True).latest("version").version
    assert as_lead.post(EDIT, _form(GOOD, policy="")).status_code == 302
    assert Rubric.objects.filter(policy__isnull=True).latest("version").version == before + 1


@pytest.mark.parametrize("rows, pass_mark, message", [
    ([], "80", "at least one criterion"),
    ([("", "only a description", 1, False)], "80", "name is required"),
    ([("Tone", "", 0, False)], "80", "weight is a whole number from 1 to 10"),
    ([("Tone", "", -2, False)], "80", "weight is a whole number from 1 to 10"),
    ([("Tone", "", 11, False)], "80", "weight is a whole number from 1 to 10"),
    ([("Tone", "", "heavy", False)], "80", "weight is a whole number from 1 to 10"),
    ([("Tone", "", 1, False), ("  tone ", "", 2, False)], "80", "same name as an earlier one"),
    ([("x" * 121, "", 1, False)], "80", "too long: at most 120"),
    ([("Tone", "y" * 301, 1, False)], "80", "too long: at most 300"),
    ([("Tone", "", 1, False, "Not A Key!")], "80", "the key is lower-case"),
    ([("Tone", "", 1, False)], "101", "pass mark is a whole number from 0 to 100"),
    ([("Tone", "", 1, False)], "", "pass mark is a whole number from 0 to 100"),
])
def test_bad_rubrics_are_refused_with_a_message_and_nothing_written(as_lead, policy, rows, pass_mark, message):
    before = Rubric.objects.count()
    response = as_lead.post(EDIT, _form(rows, pass_mark=pass_mark))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Rubric.objects.count() == before
    assert not AuditEntry.objects.filter(verb="qa.rubric_saved").exists()


def test_too_many_criteria_are_refused(as_lead, policy):
    rows = [(f"Criterion {i}", "", 1, False) for i in range(services.RUBRIC_MAX_CRITERIA + 1)]
    response = as_lead.post(EDIT, _form(rows))
    assert response.status_code == 400 and "at most 30 criteria" in response.content.decode()


def test_control_characters_are_refused_before_anything_is_written(as_lead, policy):
    response = as_lead.post(EDIT, _form([("Tone\x00", "", 1, False)]))
    assert response.status_code == 400 and "NUL" in response.content.decode()
    response = as_lead.post(EDIT, _form([("Tone", "tab\there", 1, False)]))
    assert response.status_code == 400 and "U+0009" in response.content.decode()
    assert not Rubric.objects.filter(policy=policy).exists()
    # the service refuses them too, whatever calls it (the API's serializer lets a tab through)
    with pytest.raises(InvalidInput, match="control character U\\+0009"):
        services.rubric_criteria_clean([{"label": "Tab\there"}])


def test_an_unknown_policy_is_a_404_and_only_leads_and_admins_may_edit(client, make_user, policy):
    lead = make_user(roles.LEAD, username="rp-lead")
    client.force_login(lead)
    assert client.get(EDIT, {"policy": "no-such-policy"}).status_code == 404
    assert client.post(EDIT, _form(GOOD, policy="no-such-policy")).status_code == 404
    for role in (roles.ANALYST, roles.QA_REVIEWER, roles.SUPPORT_AGENT):
        client.force_login(make_user(role, username=f"rp-{role}"))
        assert client.get(EDIT).status_code == 403
        assert client.post(EDIT, _form(GOOD)).status_code == 403
    assert not Rubric.objects.filter(policy=policy).exists()
    client.force_login(make_user(roles.ADMIN, username="rp-admin"))
    assert client.post(EDIT, _form(GOOD)).status_code == 302


def test_the_lead_finds_the_rubrics_from_the_qa_pages(as_lead):
    for name in ("qa-queue", "qa-overview"):
        assert reverse("qa-rubrics") in as_lead.get(reverse(name)).content.decode()
