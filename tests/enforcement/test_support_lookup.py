"""The support lookup shows outcomes and what the user was told, never anything private; every
lookup is logged."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from enforcement import selectors, services
from tests.factories import (
    AccountFactory,
    ContentFactory,
    EvidenceFactory,
    NoteFactory,
    ReportFactory,
    SignalFactory,
    SubjectSignalFactory,
)
from tsconsole.models import AuditEntry
from tsconsole.roles import ANALYST, LEAD

pytestmark = pytest.mark.django_db

SECRETS = {
    "note": "NOTE-Zq81 the reporter is his ex",
    "evidence": "EVIDENCE-Kp22 screenshot text",
    "evidence_description": "EVIDDESC-Jm31",
    "rationale": "RATIONALE-Wx45 matches the ring on device graph",
    "reporter": "REPORTER-Rf67",
    "notifier_name": "Notifier Nina Vossberg",
    "notifier_email": "nina.vossberg@example.test",
    "report_text": "REPORTTEXT-Hh90",
    "signal": "5f1ce0a3bb9d4e0f8a7f7c3c9d2b1a0e5f1ce0a3bb9d4e0f8a7f7c3c9d2b1a0e",
    "analyst_username": "analyst-quintessa",
    "analyst_name": "Quintessa",
    "lead_username": "lead-barnaby",
    "lead_name": "Barnaby",
    "guidance": "GUIDANCE-Tt12",
    "review_comment": "REVIEW-Yy34",
    "reversal_reason": "REVERSAL-Uu56",
    "departure": "DEPARTURE-Oo78",
}


@pytest.fixture
def decided(make_user, claimed, policy, endpoint):
    """An account with a case full of private material, decided, approved, and partly reversed."""
    policy.guidance = SECRETS["guidance"]
    policy.save()
    analyst = make_user(ANALYST, username=SECRETS["analyst_username"], first_name=SECRETS["analyst_name"])
    lead = make_user(LEAD, username=SECRETS["lead_username"], first_name=SECRETS["lead_name"])
    account = AccountFactory(external_id="acct-7781", handle="Gizmo_77", verified=True)
    SubjectSignalFactory(subject=account, signal=SignalFactory(value_hash=SECRETS["signal"]))
    case = claimed(account, assignee=analyst)
    ReportFactory(case=case, reporter_ref=SECRETS["reporter"], notifier_name=SECRETS["notifier_name"],
                  notifier_email=SECRETS["notifier_email"], description=SECRETS["report_text"])
    NoteFactory(case=case, author=analyst, body=SECRETS["note"])
    EvidenceFactory(case=case, captured_by=analyst, text_extract=SECRETS["evidence"],
                    description=SECRETS["evidence_description"])
    decision = services.case_decide(
        case=case, actor=analyst, rationale=SECRETS["rationale"], departure_reason=SECRETS["departure"],
        statement="Your account is suspended for 3 days because you threatened another user.",
        actions=[{"type": "suspension", "duration_hours": 72}, {"type": "transaction_hold", "duration_hours": 72}],
    )
    services.decision_approve(action=decision.actions[0], actor=lead, comment=SECRETS["review_comment"])
    services.action_reverse(action=decision.actions[1].pk, reason=SECRETS["reversal_reason"], actor=lead)
    # And a post of theirs, removed in another case.
    post = ContentFactory(external_id="post-5521", author=account)
    removal = services.case_decide(case=claimed(post, assignee=analyst), actor=analyst, rationale=SECRETS["rationale"],
                         statement="We removed your post: it threatened someone.", departure_reason=SECRETS["departure"],
                         actions=[{"type": "remove_content"}])
    services.decision_approve(action=removal.actions[0], actor=lead)  # a verified author: two-person rule
    return account


@pytest.mark.parametrize("query", ["acct-7781", "@Gizmo_77", "Gizmo_77"])
def test_lookup_shows_outcomes_and_leaks_nothing(client, support_agent, decided, query,
                                                 django_assert_max_num_queries):
    client.force_login(support_agent)
    with django_assert_max_num_queries(9):  # + the appeals of the outcomes shown (appeals' lookup panel)
        response = client.get(reverse("support-lookup"), {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    # What support may tell the user
    assert "Your account is suspended for 3 days because you threatened another user." in html
    assert "We removed your post: it threatened someone." in html
    assert "Suspension" in html and "Transaction hold" in html and "Remove content" in html
    assert "Reversed" in html and "Active" in html
    assert "3 days" in html and "Appealable until" in html
    assert "post 5521" in html or "post post-5521" in html
    # What it must never show
    for name, secret in SECRETS.items():
        assert secret not in html, f"the support lookup leaks {name}"
        assert secret.lower() not in html.lower(), f"the support lookup leaks {name}"


def test_outcome_rows_say_duration_reversal_and_appeal_and_escape_the_statement(client, support_agent, decided):
    from enforcement.models import EnforcementAction

    EnforcementAction.objects.filter(target=decided, action_type="suspension").update(
        statement="Line one <b>bold</b>\r\nLine & two")
    client.force_login(support_agent)
    html = client.get(reverse("support-lookup"), {"q": "acct-7781"}).content.decode()
    rows = {row.split("</td>")[0].removeprefix("<td>"): row
            for row in html.split('<tr data-testid="outcome">')[1:]}
    suspension, hold = rows["Suspension"], rows["Transaction hold"]
    assert "3 days, until <time datetime=" in suspension
    assert "Line one &lt;b&gt;bold&lt;/b&gt;<br>Line &amp; two" in suspension
    assert '<span class="pill bad">Active</span>' in suspension and "Appealable until 20" in suspension
    assert '<span class="pill ok">Reversed</span> 20' in hold and "Reversed: nothing to appeal" in hold
    # the appeal form offers the decision still appealable, with its dates
    assert "(appealable until 20" in html.split('data-testid="appeal-file-decision"')[1].split("</select>")[0]


def test_each_lookup_is_logged(client, support_agent, decided):
    client.force_login(support_agent)
    client.get(reverse("support-lookup"), {"q": "acct-7781"})
    client.get(reverse("support-lookup"), {"q": "nobody-here"})
    entries = list(AuditEntry.objects.filter(verb="support.lookup").order_by("id"))
    assert [(e.actor, e.object_ref) for e in entries] == [(support_agent, "acct-7781"), (support_agent, "nobody-here")]
    assert entries[0].data["matches"] == ["account:acct-7781"] and entries[0].data["outcomes"] == 3
    assert entries[1].data["matches"] == []


def test_an_empty_search_is_not_a_lookup(client, support_agent):
    client.force_login(support_agent)
    response = client.get(reverse("support-lookup"))
    assert response.status_code == 200 and not AuditEntry.objects.exists()


def test_lookup_of_content_shows_its_outcomes_only(client, support_agent, decided):
    client.force_login(support_agent)
    html = client.get(reverse("support-lookup"), {"q": "post-5521", "kind": "content"}).content.decode()
    assert "We removed your post" in html and "suspended for 3 days" not in html


def test_appeal_window_and_status(decided, settings):
    results = selectors.support_lookup("acct-7781")
    outcomes = {o["action_type"]: o for o in results[0]["outcomes"]}
    suspension = outcomes["suspension"]
    assert suspension["appealable"] and suspension["status"] == "active"
    assert suspension["appeal_until"] == suspension["date"] + relativedelta(months=6)
    assert not outcomes["transaction_hold"]["appealable"]  # reversed: nothing left to appeal
    assert results[0]["strikes"] == 2
    # Past the window, not appealable any more.
    late = selectors.support_lookup("acct-7781", now=timezone.now() + timedelta(days=200))
    assert not any(o["appealable"] for o in late[0]["outcomes"])
    settings.APPEAL_WINDOW_MONTHS = 12
    later = selectors.support_lookup("acct-7781", now=timezone.now() + timedelta(days=200))
    assert {o["action_type"] for o in later[0]["outcomes"] if o["appealable"]} == {"suspension", "remove_content"}


def test_pending_and_rejected_proposals_are_not_outcomes(claimed, analyst, policy):
    account = AccountFactory(external_id="acct-pend", verified=True)
    services.case_decide(case=claimed(account), actor=analyst, rationale="r", statement="Pending statement",
                         actions=[{"type": "warn"}])
    assert selectors.support_lookup("acct-pend")[0]["outcomes"] == []


def test_other_roles_cannot_open_the_lookup(client, make_user):
    for role in ("analyst", "qa_reviewer", "integration"):
        client.force_login(make_user(role, username=f"{role}-x"))
        assert client.get(reverse("support-lookup"), {"q": "x"}).status_code == 403


def test_an_account_with_many_outcomes_shows_the_newest_of_its_own_and_its_contents_merged(monkeypatch):
    """Each subject's outcomes and its accounts' content outcomes are read newest first, a page each,
    and merged by date: the page holds the newest across all of them."""
    from enforcement.models import EnforcementAction
    from tests.factories import EnforcementActionFactory

    monkeypatch.setattr(selectors, "LOOKUP_MAX_OUTCOMES", 3)
    account = AccountFactory(external_id="acct-busy")
    post = ContentFactory(external_id="post-busy", author=account)
    now = timezone.now()
    own = [EnforcementActionFactory(target=account, case__subject=account, applied_at=now - timedelta(hours=h))
           for h in (1, 3, 5, 7, 9)]
    on_post = [EnforcementActionFactory(target=post, case__subject=post, action_type="remove_content",
                                        applied_at=now - timedelta(hours=h)) for h in (2, 4)]
    EnforcementActionFactory(target=AccountFactory(external_id="acct-other"), applied_at=now)  # someone else's
    found = selectors.support_lookup("acct-busy", now=now)
    assert len(found) == 1
    dates = [o["date"] for o in found[0]["outcomes"]]
    newest = sorted([*own, *on_post], key=lambda a: a.applied_at, reverse=True)[:3]
    assert dates == [a.applied_at for a in newest]
    assert [o["target"] for o in found[0]["outcomes"]] == ["the account", "post post-busy", "the account"]
    assert EnforcementAction.objects.count() == 8
