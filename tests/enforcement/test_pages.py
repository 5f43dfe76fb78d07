"""The enforcement pages: the decision panel on the case page, the decide form, approvals, an
action's page with reversal, and the home panels."""

import pytest
from django.urls import reverse

from cases.models import CaseStatus
from enforcement import services
from enforcement.models import ActionStatus, EnforcementAction
from tests.factories import AccountFactory, MacroFactory

pytestmark = pytest.mark.django_db


def _form(**extra):
    data = {"policy": "test-policy", "rationale": "Insult in reply.", "statement": "Please be kind."}
    data.update(extra)
    return data


def test_case_page_shows_the_panel_with_strikes_and_the_ladder(client, analyst, claimed, policy):
    case = claimed(AccountFactory(follower_count=500_000))
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="enforcement-panel"' in html and 'data-testid="decision-form"' in html
    assert "0 counting" in html
    assert "Strike 1: <strong>Warning</strong>" in html
    assert "reach of 500,000 followers" in html  # the two-person rule is announced before deciding


def test_panel_hides_the_form_from_people_who_cannot_decide(client, make_user, claimed, policy):
    case = claimed()
    client.force_login(make_user("analyst", username="bystander"))
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-testid="enforcement-panel"' in html and 'data-testid="decision-form"' not in html


def test_deciding_from_the_panel_resolves_the_case(client, analyst, claimed, policy):
    case = claimed()
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(act_warn="on"))
    assert response.status_code == 302 and response["Location"] == reverse("case-detail", args=[case.pk])
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    html = client.get(response["Location"]).content.decode()
    assert "Warning" in html and 'data-testid="action-status">Active' in html


def test_several_actions_from_the_panel(client, analyst, content_case, policy):
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[content_case.pk]), _form(
        act_remove_content="on", act_restrict_visibility="on", hours_restrict_visibility="48", visibility="labelled",
        act_warn="on"))
    assert response.status_code == 302
    types = sorted(EnforcementAction.objects.values_list("action_type", flat=True))
    assert types == ["remove_content", "restrict_visibility", "warn"]
    assert EnforcementAction.objects.get(action_type="restrict_visibility").decision_visibility.endswith("LABELLED")


def test_refusals_come_back_on_the_form(client, analyst, claimed, policy):
    case = claimed()
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(act_suspension="on", rationale=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "A rationale is required." in html
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(act_suspension="on"))
    assert response.status_code == 400 and "needs a duration" in response.content.decode()
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(
        act_suspension="on", hours_suspension="72"))
    assert response.status_code == 400 and "the ladder suggests Warning" in response.content.decode()
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(
        act_warn="on", statement="Removed because {reason}."))
    assert response.status_code == 400 and "Fill or remove {reason}" in response.content.decode()
    assert not EnforcementAction.objects.exists()
    # The typed text survives the round trip.
    assert "Removed because {reason}." in response.content.decode()


def test_htmx_refusal_answers_with_the_panel_only(client, analyst, claimed, policy):
    case = claimed()
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(rationale=""), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 400 and html.lstrip().startswith("<section") and "<html" not in html
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(act_warn="on"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("case-detail", args=[case.pk])


def test_wrong_state_from_the_panel_is_409(client, analyst, claimed, policy):
    case = claimed(status=CaseStatus.ON_HOLD)
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(act_warn="on"))
    assert response.status_code == 409 and "resume it before deciding" in response.content.decode()


def test_macro_preview_fills_what_is_known(client, analyst, claimed, policy):
    MacroFactory(slug="prev", body="We warned {handle} under {policy} because {reason}.")
    case = claimed(AccountFactory(handle="kit"))
    client.force_login(analyst)
    response = client.get(reverse("enforcement-macro-preview", args=[case.pk]), {"macro": "prev", "policy": "test-policy"})
    html = response.content.decode()
    assert "We warned @kit under Test policy because {reason}." in html
    assert 'data-testid="placeholders"' in html and "{reason}" in html


def test_approvals_page_and_approving(client, analyst, lead, claimed, policy, django_assert_max_num_queries):
    cases = [claimed(AccountFactory(verified=True)) for _ in range(3)]
    for case in cases:
        services.case_decide(case=case, actor=analyst, actions=[{"type": "warn"}, {"type": "transaction_hold"}],
                             rationale="Rationale for review.", statement="s")
    client.force_login(lead)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("enforcement-approvals"))
    html = response.content.decode()
    assert html.count('data-testid="approval"') == 3 and "Rationale for review." in html
    assert "verified account" in html
    first = EnforcementAction.objects.filter(case=cases[0]).order_by("id").first()
    response = client.post(reverse("enforcement-approve", args=[first.pk]), {"comment": "Fine."})
    assert response.status_code == 302
    assert set(EnforcementAction.objects.filter(case=cases[0]).values_list("status", flat=True)) == {ActionStatus.ACTIVE}
    second = EnforcementAction.objects.filter(case=cases[1]).order_by("id").first()
    response = client.post(reverse("enforcement-reject", args=[second.pk]), {"comment": ""})
    assert response.status_code == 400 and "comment" in response.content.decode().lower()
    response = client.post(reverse("enforcement-reject", args=[second.pk]), {"comment": "Get more evidence."})
    assert response.status_code == 302
    cases[1].refresh_from_db()
    assert cases[1].status == CaseStatus.IN_REVIEW


def test_approvals_page_queries_stay_flat(client, analyst, lead, claimed, policy, content_case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(lead)
    counts = []
    for batch in (1, 6):
        for _ in range(batch):
            services.case_decide(case=claimed(AccountFactory(account_type="business")), actor=analyst,
                                 actions=[{"type": "warn"}, {"type": "transaction_hold"}], rationale="r", statement="s")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("enforcement-approvals")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_approvals_page_is_keyset_paginated(client, analyst, lead, claimed, policy, monkeypatch):
    from enforcement import selectors

    monkeypatch.setattr(selectors, "APPROVALS_PAGE_SIZE", 2)
    for _ in range(3):
        services.case_decide(case=claimed(AccountFactory(verified=True)), actor=analyst, actions=[{"type": "warn"}],
                             rationale="r", statement="s")
    client.force_login(lead)
    first = client.get(reverse("enforcement-approvals")).content.decode()
    assert first.count('data-testid="approval"') == 2 and "?after=" in first
    after = first.split("?after=")[1].split('"')[0]
    second = client.get(reverse("enforcement-approvals"), {"after": after}).content.decode()
    assert second.count('data-testid="approval"') == 1 and "?after=" not in second


def test_own_proposal_cannot_be_approved_from_the_page(client, lead, claimed, policy):
    case = claimed(AccountFactory(verified=True), assignee=lead)
    decision = services.case_decide(case=case, actor=lead, actions=[{"type": "warn"}], rationale="r", statement="s")
    client.force_login(lead)
    html = client.get(reverse("enforcement-approvals")).content.decode()
    assert 'data-testid="own-proposal"' in html and 'data-testid="approve"' not in html
    response = client.post(reverse("enforcement-approve", args=[decision.actions[0].pk]))
    assert response.status_code == 403 and "two-person rule" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL


def test_action_page_and_reversal(client, analyst, lead, claimed, policy):
    action = services.case_decide(case=claimed(), actor=analyst, actions=[{"type": "warn"}], rationale="Because.",
                                  statement="s").actions[0]
    client.force_login(analyst)
    html = client.get(reverse("enforcement-action", args=[action.pk])).content.decode()
    assert "Because." in html and 'data-testid="reverse-form"' not in html
    client.force_login(lead)
    html = client.get(reverse("enforcement-action", args=[action.pk])).content.decode()
    assert 'data-testid="reverse-form"' in html
    response = client.post(reverse("enforcement-reverse", args=[action.pk]), {"reason": ""})
    assert response.status_code == 400 and "reason" in response.content.decode().lower()
    response = client.post(reverse("enforcement-reverse", args=[action.pk]), {"reason": "Overturned on review."})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.REVERSED
    response = client.post(reverse("enforcement-reverse", args=[action.pk]), {"reason": "Again."})
    assert response.status_code == 409


def test_home_panels(client, lead, support_agent, analyst, claimed, policy):
    services.case_decide(case=claimed(AccountFactory(verified=True)), actor=analyst, actions=[{"type": "warn"}],
                         rationale="r", statement="s")
    client.force_login(lead)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-approvals"' in html and "<strong>1</strong> decision waiting" in html
    client.force_login(support_agent)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-lookup"' in html and 'data-testid="home-approvals"' not in html
    assert reverse("support-lookup") in html


def test_navigation_lists_the_pages_by_role(client, lead, support_agent, analyst):
    client.force_login(lead)
    html = client.get(reverse("home")).content.decode()
    assert 'data-nav="enforcement-approvals"' in html and 'data-nav="support-lookup"' in html
    client.force_login(analyst)
    html = client.get(reverse("home")).content.decode()
    assert 'data-nav="enforcement-approvals"' not in html and 'data-nav="support-lookup"' not in html
    client.force_login(support_agent)
    assert 'data-nav="support-lookup"' in client.get(reverse("home")).content.decode()


def test_durations_in_days_and_hours(client, analyst, claimed, policy):
    case = claimed()
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(
        act_suspension="on", hours_suspension="3", unit_suspension="days", departure_reason="Severe."))
    assert response.status_code == 302
    assert EnforcementAction.objects.get().duration_hours == 72


def test_panel_offers_only_actions_that_fit_and_pre_applies_the_ladder(client, analyst, claimed, policy):
    MacroFactory(slug="warned", name="Warned", action_types=["warn"], body="A warning about your {subject}.")
    MacroFactory(slug="suspended", name="Suspended", action_types=["suspension"], body="Suspended until {end_date}.")
    case = claimed(AccountFactory())
    client.force_login(analyst)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'name="act_remove_content"' not in html
    assert 'name="act_warn" id="id_act_warn" checked' in html
    assert '<option value="warned" data-actions="warn" selected>' in html
    assert "A warning about your account.</textarea>" in html


def test_removing_content_from_an_account_is_refused_with_the_message(client, analyst, claimed, policy):
    case = claimed(AccountFactory())
    client.force_login(analyst)
    response = client.post(reverse("enforcement-decide", args=[case.pk]), _form(act_remove_content="on"))
    assert response.status_code == 400
    assert "acts on content, not on an account" in response.content.decode()
    assert not EnforcementAction.objects.exists()


def test_macro_preview_leaves_decision_time_placeholders_to_the_decision(client, analyst, claimed, policy):
    MacroFactory(slug="suspended", action_types=["suspension"], body="Suspended until {end_date} for {why}.")
    case = claimed()
    client.force_login(analyst)
    html = client.get(reverse("enforcement-macro-preview", args=[case.pk]), {"macro": "suspended"}).content.decode()
    assert 'data-testid="later-placeholders"' in html and "{end_date}" in html
    assert 'data-testid="placeholders"' in html and "{why}" in html.split('data-testid="placeholders"')[1]
