"""Deciding a case: policies and versions, ladder suggestions and departures, several actions at
once, statements from text or macros, DSA fields, events, strikes and outward effects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseEvent, CaseStatus
from enforcement import selectors, services
from enforcement.models import ActionStatus, EnforcementAction, Strike
from tests.factories import (
    AccountFactory,
    ContentFactory,
    EnforcementActionFactory,
    MacroFactory,
    PolicyFactory,
    ReportFactory,
    StrikeFactory,
)
from tsconsole.errors import Conflict, InvalidInput, NotAllowed
from tsconsole.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _strike(account, policy, *, days_left=100, status=ActionStatus.ACTIVE):
    action = EnforcementActionFactory(target=account, policy=policy, status=status,
                                      case__subject=account)
    return StrikeFactory(action=action, expires_at=timezone.now() + timedelta(days=days_left))


# --------------------------------------------------------------------------- ladder


def test_ladder_suggests_the_step_after_the_counting_strikes(policy):
    account = AccountFactory()
    assert selectors.ladder_suggestion(account, policy)["action"] == "warn"
    _strike(account, policy)
    suggestion = selectors.ladder_suggestion(account, policy)
    assert (suggestion["strikes"], suggestion["step"], suggestion["action"], suggestion["duration_hours"]) == (
        1, 2, "feature_restriction", 24)
    _strike(account, policy)
    assert selectors.ladder_suggestion(account, policy)["action"] == "suspension"


def test_ladder_stays_on_its_last_step(policy):
    account = AccountFactory()
    for _ in range(6):
        _strike(account, policy)
    suggestion = selectors.ladder_suggestion(account, policy)
    assert suggestion["strikes"] == 6 and suggestion["step"] == 4 and suggestion["action"] == "termination"


def test_only_strikes_in_force_count(policy):
    account = AccountFactory()
    _strike(account, policy, days_left=-1)  # past the policy window
    _strike(account, policy, status=ActionStatus.REVERSED)
    _strike(account, policy, status=ActionStatus.EXPIRED)  # the restriction ended; the strike stays
    other_policy = PolicyFactory()
    _strike(account, other_policy)
    suggestion = selectors.ladder_suggestion(account, policy)
    assert suggestion["strikes"] == 1 and suggestion["action"] == "feature_restriction"
    assert selectors.strike_summary(account) == {"total": 2, "by_policy": {policy.slug: 1, other_policy.slug: 1}}


def test_following_the_ladder_needs_no_reason_and_records_the_suggestion(claimed, analyst, policy):
    case = claimed()
    decision = services.case_decide(case=case, actions=[{"type": "warn"}], rationale="Rude reply.",
                                    statement="Please be kind.", actor=analyst)
    action = decision.actions[0]
    assert action.ladder_suggestion["action"] == "warn" and action.ladder_suggestion["strikes"] == 0
    assert action.departure_reason == ""


def test_departing_from_the_ladder_needs_a_reason_which_is_recorded(claimed, analyst, policy):
    case = claimed()
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=case, actions=[{"type": "suspension", "duration_hours": 72}],
                             rationale="Threats.", statement="Suspended.", actor=analyst)
    assert "departure_reason" in exc.value.field_errors
    assert "Warning" in exc.value.message
    assert not EnforcementAction.objects.exists()

    decision = services.case_decide(
        case=case, actions=[{"type": "suspension", "duration_hours": 72}], rationale="Threats.",
        statement="Suspended.", departure_reason="Credible threat: a warning is not enough.", actor=analyst,
    )
    assert decision.actions[0].departure_reason == "Credible threat: a warning is not enough."
    event = CaseEvent.objects.get(case=case, verb="decided")
    assert event.data["departed"] is True and event.data["ladder_suggestion"]["action"] == "warn"


def test_same_action_with_another_duration_is_a_departure(claimed, analyst, policy):
    account = AccountFactory()
    _strike(account, policy)  # next step: feature_restriction 24 h
    case = claimed(account)
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=case, actions=[{"type": "feature_restriction", "duration_hours": 48}],
                             rationale="r", statement="s", actor=analyst)
    assert "departure_reason" in exc.value.field_errors
    decision = services.case_decide(case=case, actions=[{"type": "feature_restriction", "duration_hours": 24}],
                                    rationale="r", statement="s", actor=analyst)
    assert decision.actions[0].departure_reason == ""


# --------------------------------------------------------------------------- multi-action decisions


def test_content_decision_removes_the_post_and_restricts_the_author(content_case, analyst, policy, endpoint):
    ReportFactory(case=content_case, reporter_ref="r-1")
    ReportFactory(case=content_case, reporter_ref="r-1")
    ReportFactory(case=content_case, reporter_ref="r-2")
    decision = services.case_decide(
        case=content_case, actor=analyst, rationale="Slur in the post; author has no history.",
        statement="We removed your post.",
        actions=[{"type": "remove_content"}, {"type": "warn"}],
    )
    content_case.refresh_from_db()
    assert not decision.requires_approval
    assert content_case.status == CaseStatus.RESOLVED and content_case.resolution == "actioned"
    assert content_case.resolved_by == analyst and content_case.resolved_at is not None
    remove, warn = decision.actions
    assert remove.target == content_case.subject and warn.target == content_case.subject.author
    assert {a.status for a in decision.actions} == {ActionStatus.ACTIVE}
    assert remove.decision_ref == warn.decision_ref
    assert remove.decision_visibility == "DECISION_VISIBILITY_CONTENT_REMOVED"
    assert warn.decision_visibility == warn.decision_account == ""
    assert remove.policy == policy and remove.policy_version.version == 1
    # One strike for the decision, on the author, carried by the most severe action.
    strike = Strike.objects.get()
    assert strike.account == content_case.subject.author and strike.action == warn
    assert strike.expires_at - strike.issued_at == timedelta(days=policy.strike_window_days)
    # Exactly one state-change event.
    events = CaseEvent.objects.filter(case=content_case, verb="decided")
    assert events.count() == 1 and events[0].to_status == CaseStatus.RESOLVED
    assert [a["type"] for a in events[0].data["actions"]] == ["remove_content", "warn"]
    # One enforcement.applied per action, one report.outcome per distinct reporter.
    applied = OutboxMessage.objects.filter(topic="enforcement.applied")
    assert sorted(m.payload["type"] for m in applied) == ["remove_content", "warn"]
    outcomes = OutboxMessage.objects.filter(topic="report.outcome")
    assert sorted(m.payload["reporter"]["external_id"] for m in outcomes) == ["r-1", "r-2"]
    assert {m.payload["outcome"] for m in outcomes} == {"action_taken"}
    payload = applied.get(payload__type="remove_content").payload
    assert payload["statement"] == "We removed your post."
    assert "rationale" not in str(payload) and "Slur" not in str(payload) and analyst.username not in str(payload)


def test_temporary_actions_get_their_end(content_case, analyst, policy):
    decision = services.case_decide(
        case=content_case, actor=analyst, rationale="r", statement="s", departure_reason="Repeat spam burst.",
        actions=[{"type": "restrict_visibility", "duration_hours": 48, "visibility": "age_restricted"},
                 {"type": "suspension", "duration_hours": 24}],
    )
    restrict, suspend = decision.actions
    assert restrict.ends_at - restrict.applied_at == timedelta(hours=48)
    assert restrict.decision_visibility == "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
    assert suspend.ends_at - suspend.applied_at == timedelta(hours=24)
    assert suspend.decision_account == "DECISION_ACCOUNT_SUSPENDED"
    assert suspend.decision_provision == "DECISION_PROVISION_TOTAL_SUSPENSION"
    assert Strike.objects.get().action == suspend


def test_no_violation_resolves_and_tells_reporters_no_action(claimed, analyst, endpoint):
    case = claimed()
    ReportFactory(case=case, reporter_ref="r-9")
    decision = services.case_decide(case=case, actions=[{"type": "no_violation"}], rationale="Satire.", actor=analyst)
    case.refresh_from_db()
    assert case.resolution == "no_violation" and case.status == CaseStatus.RESOLVED
    assert decision.actions[0].ladder_suggestion is None
    assert not Strike.objects.exists()
    assert not OutboxMessage.objects.filter(topic="enforcement.applied").exists()
    assert OutboxMessage.objects.get(topic="report.outcome").payload["outcome"] == "no_action"
    assert decision.actions[0].status_label == "Decided: no violation"


@pytest.mark.parametrize("actions, field", [
    ([], "actions"),
    ([{"type": "ban"}], "actions"),
    ([{"type": "suspension"}], "actions"),  # needs a duration
    ([{"type": "warn", "duration_hours": 5}], "actions"),  # has none
    ([{"type": "no_violation"}, {"type": "warn"}], "actions"),
    ([{"type": "remove_content"}], "actions"),  # the subject is an account
    ([{"type": "warn", "target": "author"}], "actions"),  # an account has no author
    ([{"type": "warn"}, {"type": "warn"}], "actions"),
])
def test_invalid_actions_are_refused_with_field_errors(claimed, analyst, policy, actions, field):
    case = claimed()
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=case, actions=actions, rationale="r", statement="s", actor=analyst)
    assert field in exc.value.field_errors
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and not EnforcementAction.objects.exists()


def test_rationale_is_required(claimed, analyst, policy):
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="  ", statement="s", actor=analyst)
    assert "rationale" in exc.value.field_errors


def test_a_restriction_needs_a_statement(claimed, analyst, policy):
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", actor=analyst)
    assert "statement" in exc.value.field_errors


# --------------------------------------------------------------------------- statements and macros


def test_macro_fills_known_values_and_the_ones_given(claimed, analyst, policy):
    MacroFactory(slug="removal", body="Your {subject} ({handle}) broke {policy}: {rule} Because {reason}.")
    case = claimed(AccountFactory(handle="zed"))
    decision = services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", actor=analyst,
                                    macro="removal", macro_values={"reason": "you insulted someone"})
    action = decision.actions[0]
    assert action.statement == "Your account (@zed) broke Test policy: Be kind to each other. Because you insulted someone."
    assert action.macro.slug == "removal"


def test_macro_with_an_unfilled_placeholder_is_refused(claimed, analyst, policy):
    MacroFactory(slug="removal", body="Removed because {reason}; see {link}.")
    case = claimed()
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", actor=analyst,
                             macro="removal", macro_values={"reason": "spam", "link": "  "})
    assert exc.value.field_errors["macro_values"] == {"link": ["Required."]}
    assert not EnforcementAction.objects.exists()


def test_end_date_of_a_single_temporary_action_fills_the_macro(claimed, analyst, policy):
    MacroFactory(slug="until", body="Suspended until {end_date}.")
    decision = services.case_decide(
        case=claimed(), actions=[{"type": "suspension", "duration_hours": 24}], rationale="r", actor=analyst,
        macro="until", departure_reason="Severe.",
    )
    action = decision.actions[0]
    assert action.statement == f"Suspended until {action.ends_at:%Y-%m-%d %H:%M} UTC."


def test_typed_statement_with_a_leftover_placeholder_is_refused(claimed, analyst, policy):
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", actor=analyst,
                             statement="We removed it because {reason}.")
    assert "{reason}" in exc.value.message and "statement" in exc.value.field_errors


def test_macro_placeholders_cannot_reach_attributes(claimed, analyst, policy):
    # Only plain {names} are placeholders; anything else (attribute access, format specs) stays text.
    MacroFactory(slug="sneaky", body="{subject.__class__} {rule!r:>99} {reason}")
    action = services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", actor=analyst,
                                  macro="sneaky", macro_values={"reason": "x"}).actions[0]
    assert action.statement == "{subject.__class__} {rule!r:>99} x"


# --------------------------------------------------------------------------- policies and versions


def test_policy_defaults_from_the_case_category_and_an_explicit_one_wins(claimed, analyst, policy):
    other = PolicyFactory(slug="other-policy")
    decision = services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", statement="s",
                                    actor=analyst)
    assert decision.actions[0].policy == policy
    decision = services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", statement="s",
                                    actor=analyst, policy="other-policy")
    assert decision.actions[0].policy == other
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", statement="s",
                             actor=analyst, policy="nope")
    assert "policy" in exc.value.field_errors


def test_editing_a_policy_makes_a_new_version_and_old_actions_keep_theirs(claimed, analyst, policy, admin_user):
    first = services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", statement="s",
                                 actor=analyst).actions[0]
    policy.rule_text = "Be kind, always."
    services.policy_save(policy=policy, actor=admin_user)
    assert policy.version == 2
    policy.name = "Renamed only"  # not a versioned field
    services.policy_save(policy=policy, actor=admin_user)
    assert policy.version == 2 and policy.versions.count() == 2
    second = services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", statement="s",
                                  actor=analyst).actions[0]
    first.refresh_from_db()
    assert first.policy_version.version == 1 and first.policy_version.rule_text == "Be kind to each other."
    assert second.policy_version.version == 2 and second.policy_version.rule_text == "Be kind, always."


def test_default_policies_ship_for_every_top_level_category():
    from cases.models import Category
    from enforcement.models import Policy

    groups = set(Category.objects.filter(parent__isnull=True).values_list("slug", flat=True))
    covered = set(Policy.objects.filter(is_active=True, category__parent__isnull=True).values_list("category__slug", flat=True))
    assert groups and groups <= covered
    for policy in Policy.objects.all():
        assert policy.versions.filter(version=policy.version).exists()
    leaf = Category.objects.get(slug="phishing")
    assert selectors.policy_for_category(leaf).slug == "scams-fraud"


# --------------------------------------------------------------------------- who and when


def test_only_the_assignee_or_a_lead_decides(claimed, analyst, lead, make_user, policy):
    other = make_user("analyst", username="other-analyst")
    case = claimed()
    with pytest.raises(Conflict):
        services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", statement="s", actor=other)
    decision = services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", statement="s", actor=lead)
    assert decision.actions[0].proposer == lead


def test_roles_without_case_work_cannot_decide(claimed, support_agent, policy):
    with pytest.raises(NotAllowed):
        services.case_decide(case=claimed(), actions=[{"type": "warn"}], rationale="r", statement="s",
                             actor=support_agent)


@pytest.mark.parametrize("status", [CaseStatus.OPEN, CaseStatus.ON_HOLD, CaseStatus.RESOLVED, CaseStatus.AWAITING_APPROVAL])
def test_wrong_case_state_is_a_conflict(claimed, analyst, policy, status):
    case = claimed(status=status)
    with pytest.raises(Conflict):
        services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", statement="s", actor=analyst)
    assert not CaseEvent.objects.filter(case=case).exists()


def test_escalated_case_can_be_decided_by_a_lead(claimed, lead, policy):
    case = claimed(status=CaseStatus.ESCALATED)
    services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", statement="s", actor=lead)
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_automated_detection_is_recorded_from_the_reports(claimed, analyst, policy):
    case = claimed()
    ReportFactory(case=case, source="automated")
    action = services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", statement="s",
                                  actor=analyst).actions[0]
    assert action.automated_detection is True
    assert action.automated_decision == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert action.category == case.category.dsa_category
    assert action.decision_ground == policy.decision_ground


def test_a_macro_written_for_other_actions_is_refused(claimed, analyst, policy):
    MacroFactory(slug="suspended", name="Account suspended", action_types=["suspension"],
                 body="Your account is suspended.")
    case = claimed()
    with pytest.raises(InvalidInput) as exc:
        services.case_decide(case=case, actions=[{"type": "warn"}], rationale="r", actor=analyst, macro="suspended")
    assert "written for a suspension" in exc.value.message and "warning" in exc.value.message
    assert "macro" in exc.value.field_errors
    assert not EnforcementAction.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_a_macro_fits_when_one_of_the_actions_is_its_own(claimed, analyst, policy):
    MacroFactory(slug="warned", action_types=["warn"], body="A warning about your {subject}.")
    decision = services.case_decide(
        case=claimed(), actions=[{"type": "warn"}, {"type": "restrict_visibility"}], rationale="r", actor=analyst,
        macro="warned")
    assert {a.statement for a in decision.actions} == {"A warning about your account."}


def test_decision_time_placeholders_are_filled_in_typed_text_too(claimed, analyst, policy):
    decision = services.case_decide(
        case=claimed(), actions=[{"type": "suspension", "duration_hours": 72}], rationale="r", actor=analyst,
        statement="Suspended until {end_date}; appeal until {appeal_deadline}.", departure_reason="Severe.")
    action = decision.actions[0]
    deadline = selectors.appeal_deadline(action.applied_at)
    assert action.statement == f"Suspended until {action.ends_at:%Y-%m-%d %H:%M} UTC; appeal until {deadline:%Y-%m-%d}."


def test_actions_offered_fit_the_subject(db):
    account = AccountFactory()
    post = ContentFactory(author=account)
    orphan = ContentFactory(author=None)
    assert "remove_content" not in selectors.actions_offered(account, account)
    assert {"warn", "remove_content"} <= set(selectors.actions_offered(post, account))
    assert "warn" not in selectors.actions_offered(orphan, None)
