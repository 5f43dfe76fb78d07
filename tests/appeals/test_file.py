"""Filing an appeal: standing, the window, idempotency, one open appeal per decision and appellant,
and the appeal's own case in the appeals queue."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import IntegrityError
from django.test import override_settings
from django.utils import timezone

from appeals.models import Appeal
from cases.models import Case, CaseEvent, CaseKind, CaseStatus
from enforcement.models import EnforcementAction
from tests.factories import AccountFactory, ContentFactory
from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound

pytestmark = pytest.mark.django_db


def test_affected_user_files_an_appeal_that_opens_a_case_in_the_appeals_queue(decided, file_appeal, integration):
    decision = decided()
    filed = file_appeal(decision)
    appeal = filed.appeal
    assert filed.created
    case = appeal.case
    assert case.kind == CaseKind.APPEAL and case.queue.slug == "appeals" and case.status == CaseStatus.OPEN
    assert case.subject_id == decision.case.subject_id
    assert case.resolution_due_at is not None  # the appeals queue's SLA target
    assert case.priority == 1  # a suspension
    opened = CaseEvent.objects.get(case=case, verb="opened")
    assert opened.actor == integration and opened.data["appeal_of"] == decision.ref
    filed_event = CaseEvent.objects.get(case=decision.case, verb="appeal_filed")
    assert filed_event.data["appeal"] == appeal.pk
    assert appeal.original_decider == decision.actions[0].proposer
    assert appeal.action_type == "suspension"


def test_the_appeal_case_sits_beside_an_open_report_case_of_the_same_subject(decided, file_appeal, category):
    from tests.factories import CaseFactory

    decision = decided()
    CaseFactory(subject=decision.case.subject, category=category)  # new reports meanwhile: an open report case
    appeal = file_appeal(decision).appeal
    assert Case.objects.filter(subject=decision.case.subject).exclude(status="resolved").count() == 2
    assert appeal.case.kind == CaseKind.APPEAL
    with pytest.raises(IntegrityError):  # but still one open report case per subject
        CaseFactory(subject=decision.case.subject, category=category)


def test_the_author_of_removed_content_may_appeal(decided, file_appeal):
    author = AccountFactory()
    decision = decided(ContentFactory(author=author), actions=[{"type": "remove_content"}])
    assert file_appeal(decision, appellant=author.external_id).created


def test_a_notifier_may_appeal_a_decision_not_to_act(decided, file_appeal):
    decision = decided(actions=[{"type": "no_violation"}])
    appeal = file_appeal(decision, kind="notifier", appellant="reporter-a").appeal
    assert appeal.appellant_kind == "notifier"


def test_an_appellant_without_standing_is_refused(decided, file_appeal):
    decision = decided()
    with pytest.raises(InvalidInput, match="not affected"):
        file_appeal(decision, appellant="someone-else")
    with pytest.raises(InvalidInput, match="did not report"):
        file_appeal(decision, kind="notifier", appellant="someone-else")
    no_action = decided(actions=[{"type": "no_violation"}])
    with pytest.raises(InvalidInput, match="restricted nobody"):
        file_appeal(no_action, appellant=no_action.case.subject.external_id)
    assert not Appeal.objects.exists() and not Case.objects.filter(kind="appeal").exists()


def test_unknown_decision_is_not_found(file_appeal, db):
    with pytest.raises(NotFound):
        file_appeal("4c9a4a1e-0000-4000-8000-000000000000", appellant="x")
    with pytest.raises(NotFound):
        file_appeal("not-a-reference", appellant="x")


def test_a_reversed_decision_cannot_be_appealed(decided, file_appeal, lead):
    from enforcement.services import action_reverse

    decision = decided()
    action_reverse(action=decision.actions[0].pk, reason="Quoted a film.", actor=lead)
    with pytest.raises(Conflict, match="reversed"):
        file_appeal(decision)


def test_a_decision_awaiting_approval_cannot_be_appealed_yet(decided, file_appeal):
    decision = decided(AccountFactory(verified=True))
    assert decision.requires_approval
    with pytest.raises(Conflict, match="awaiting"):
        file_appeal(decision)


def test_an_over_long_statement_is_refused(decided, file_appeal):
    with pytest.raises(InvalidInput, match="too long"):
        file_appeal(decided(), statement="x" * 5001)


def test_window_edges_with_a_frozen_clock(decided, file_appeal, freeze):
    decision = decided()
    applied = EnforcementAction.objects.get(pk=decision.actions[0].pk).applied_at
    closes = applied + relativedelta(months=6)
    freeze(closes)
    assert file_appeal(decision).created  # the last moment is still inside
    freeze(closes + timedelta(seconds=1))
    with pytest.raises(InvalidInput) as refused:
        file_appeal(decision, kind="notifier", appellant="reporter-a")
    assert f"closed on {closes:%Y-%m-%d}" in refused.value.message


@override_settings(APPEAL_WINDOW_MONTHS=12)
def test_a_longer_window_is_honoured(decided, file_appeal, freeze):
    decision = decided()
    freeze(timezone.now() + timedelta(days=300))
    assert file_appeal(decision).created


@override_settings(APPEAL_WINDOW_MONTHS=3)
def test_the_window_is_never_shorter_than_six_months(decided, file_appeal, freeze, monkeypatch):
    from tsconsole.env import SettingsError, env_int

    decision = decided()
    freeze(timezone.now() + timedelta(days=150))  # five months on: inside six, outside three
    assert file_appeal(decision).created
    monkeypatch.setenv("APPEAL_WINDOW_MONTHS", "3")  # and the setting itself refuses less at start
    with pytest.raises(SettingsError):
        env_int("APPEAL_WINDOW_MONTHS", 6, minimum=6, maximum=120)


def test_the_same_request_again_changes_nothing(decided, file_appeal):
    decision = decided()
    first = file_appeal(decision, external_id="in-app-1")
    again = file_appeal(decision, external_id="in-app-1", statement="different words")
    assert first.created and not again.created
    assert again.appeal.pk == first.appeal.pk and again.appeal.statement == first.appeal.statement
    assert Appeal.objects.count() == 1 and Case.objects.filter(kind="appeal").count() == 1


def test_one_open_appeal_per_decision_and_appellant(decided, file_appeal):
    decision = decided()
    first = file_appeal(decision).appeal
    with pytest.raises(Conflict, match=f"#{first.pk}"):
        file_appeal(decision)
    # a notifier of the same decision has an appeal of their own
    assert file_appeal(decision, kind="notifier", appellant="reporter-a").created
    assert Case.objects.filter(kind="appeal").count() == 2


def test_support_cannot_file_without_the_capability(decided, file_appeal, qa_reviewer):
    with pytest.raises(NotAllowed):
        file_appeal(decided(), actor=qa_reviewer)
