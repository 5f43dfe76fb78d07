"""The people who made the decision never get its appeal: claim next skips it for them, a direct
claim is refused, and it cannot be handed to them."""

import pytest

from cases.models import CaseEvent, CaseRecusal
from cases.services.workflow import case_claim, case_claim_next, case_handoff
from enforcement.services import decision_approve
from tests.factories import AccountFactory
from tsconsole.errors import InvalidInput, NotAllowed
from tsconsole.roles import LEAD

pytestmark = pytest.mark.django_db


def test_the_decider_and_approver_are_recused_from_the_appeal(decided, file_appeal, analyst, make_user):
    decision = decided(AccountFactory(verified=True))
    approver = make_user(LEAD, username="approver")
    decision_approve(action=decision.actions[0].pk, actor=approver)
    appeal = file_appeal(decision).appeal
    assert set(CaseRecusal.objects.filter(case_id=appeal.case_id).values_list("user__username", flat=True)) == {
        "ana", "approver"}


def test_claim_next_skips_an_appeal_of_your_own_decision(decided, file_appeal, analyst, reviewer):
    appeal = file_appeal(decided()).appeal
    assert case_claim_next(queue="appeals", actor=analyst) is None
    assert not CaseEvent.objects.filter(case_id=appeal.case_id, verb="claimed").exists()
    assert case_claim_next(queue="appeals", actor=reviewer).pk == appeal.case_id


def test_a_direct_claim_of_your_own_decisions_appeal_is_refused(decided, file_appeal, analyst):
    appeal = file_appeal(decided()).appeal
    with pytest.raises(NotAllowed, match="you made the decision under appeal"):
        case_claim(case=appeal.case_id, actor=analyst)


def test_an_appeal_cannot_be_handed_to_the_decider(decided, claimed_appeal, analyst, reviewer):
    appeal = claimed_appeal(decided())
    with pytest.raises(InvalidInput, match="you made the decision"):
        case_handoff(case=appeal.case_id, to_user=analyst, actor=reviewer)


def test_an_appeal_is_worked_like_any_case(decided, claimed_appeal, reviewer, make_user):
    from appeals import services
    from cases.models import CaseStatus
    from cases.services.workflow import case_resume, note_add
    from tsconsole.roles import ANALYST

    appeal = claimed_appeal(decided())
    note_add(case=appeal.case_id, body="Asked the platform for the full thread.", actor=reviewer)
    helper = make_user(ANALYST, username="helper")
    from cases.services.workflow import case_hold

    held = case_hold(case=appeal.case_id, reason="Need a second reading of the film quote.", actor=reviewer,
                     helper=helper)
    assert held.status == CaseStatus.ON_HOLD and held.sla_paused_at is not None
    with pytest.raises(Exception, match="on hold"):
        services.appeal_decide(appeal=appeal, outcome="upheld", rationale="r", statement="s", actor=reviewer)
    case_resume(case=appeal.case_id, actor=reviewer)
    other = make_user(ANALYST, username="other-reviewer")
    case_handoff(case=appeal.case_id, to_user=other, actor=reviewer)
    services.appeal_decide(appeal=appeal, outcome="upheld", rationale="r", statement="s", actor=other)
    verbs = list(CaseEvent.objects.filter(case_id=appeal.case_id).values_list("verb", flat=True))
    assert verbs == ["opened", "claimed", "note_added", "held", "resumed", "handed_off", "appeal_decided"]
