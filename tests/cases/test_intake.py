"""The intake service: subjects and signals, dedup into open cases, priority and SLA, trusted flaggers."""

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, Queue, QueueSla, Report, Signal, Subject, SubjectSignal
from cases.services.events import case_lock, case_transition
from cases.services.intake import Outcome, ReportIn, SubjectIn, intake_context, reports_ingest, signal_hash
from tests.factories import (
    AccountFactory,
    CategoryFactory,
    ContentFactory,
    TrustedFlaggerFactory,
    user_with_role,
)
from tsconsole import roles
from tsconsole.errors import InvalidInput

pytestmark = pytest.mark.django_db


def account(external_id="acct-1", **fields):
    return SubjectIn(kind="account", external_id=external_id, **fields)


def rep(external_id, subject=None, **fields):
    fields.setdefault("source", "user_report")
    fields.setdefault("category", "spam")
    return ReportIn(external_id=external_id, subject=subject or account(), **fields)


@pytest.fixture
def platform(db):
    return user_with_role(roles.INTEGRATION, username="platform")


def ingest(platform, *reports):
    return reports_ingest(list(reports), actor=platform)


def resolve(case):
    """Resolve a case the way the console does: a locked transition that records its event."""
    from django.db import transaction

    with transaction.atomic():
        locked = case_lock(case.pk)
        locked.resolution, locked.resolved_at = Case.Resolution.NO_VIOLATION, timezone.now()
        case_transition(locked, CaseStatus.RESOLVED, verb="resolved", update_fields=["resolution", "resolved_at"])


# --------------------------------------------------------------------------- subjects and signals


def test_subject_upsert_keeps_what_a_later_report_does_not_send(platform):
    ingest(platform, rep("r1", account(handle="first", follower_count=10, verified=True, account_type="business")))
    ingest(platform, rep("r2", account(follower_count=99)))
    subject = Subject.objects.get(kind="account", external_id="acct-1")
    assert (subject.handle, subject.follower_count, subject.verified, subject.account_type) == (
        "first", 99, True, "business")
    ingest(platform, rep("r3", account(handle="renamed", verified=False)))
    subject.refresh_from_db()
    assert (subject.handle, subject.follower_count, subject.verified) == ("renamed", 99, False)


def test_within_a_batch_later_mentions_win(platform):
    ingest(platform, rep("r1", account(handle="old", follower_count=1)), rep("r2", account(handle="new")))
    subject = Subject.objects.get(kind="account")
    assert (subject.handle, subject.follower_count) == ("new", 1)


def test_unchanged_subject_is_not_rewritten(platform):
    ingest(platform, rep("r1", account(handle="same")))
    stamp = Subject.objects.get().updated_at
    ingest(platform, rep("r2", account(handle="same")))
    assert Subject.objects.get().updated_at == stamp


def test_content_author_is_upserted_as_an_account(platform):
    post = SubjectIn(kind="content", external_id="post-1", content_type="listing", text="Cheap bags",
                     url="https://platform.example/l/1", author=account("seller-1", handle="seller", follower_count=5))
    ingest(platform, rep("r1", post, category="counterfeit"))
    content = Subject.objects.get(kind="content")
    assert content.author.kind == "account" and content.author.handle == "seller"
    assert (content.content_type, content.text) == ("listing", "Cheap bags")
    # a later report naming only the post keeps its author and text
    ingest(platform, rep("r2", SubjectIn(kind="content", external_id="post-1"), category="counterfeit"))
    content.refresh_from_db()
    assert content.author.external_id == "seller-1" and content.text == "Cheap bags"


def test_account_and_content_with_the_same_external_id_are_different_subjects(platform):
    ingest(platform, rep("r1", account("x-1")), rep("r2", SubjectIn(kind="content", external_id="x-1")))
    assert Subject.objects.filter(external_id="x-1").count() == 2
    assert Case.objects.count() == 2


def test_raw_signals_are_hashed_with_the_key_and_hashes_kept(platform, settings):
    settings.SIGNAL_HASH_KEY = "k"
    digest = hashlib.sha256(b"someone@example.com").hexdigest().upper()
    ingest(platform, rep("r1", account(signals=[("email_hash", "Someone@Example.com "), ("device_id", digest),
                                                ("ip", "2001:db8:0:0::1")])))
    stored = dict(Signal.objects.values_list("kind", "value_hash"))
    assert stored["email_hash"] == hmac.new(b"k", b"email_hash:someone@example.com", hashlib.sha256).hexdigest()
    assert stored["device_id"] == digest.lower()
    assert stored["ip"] == hmac.new(b"k", b"ip:2001:db8::1", hashlib.sha256).hexdigest()
    assert "someone" not in str(list(Signal.objects.values_list("value_hash", flat=True)))
    assert SubjectSignal.objects.count() == 3


def test_accounts_sharing_a_signal_are_linked_through_one_signal(platform):
    ingest(platform, rep("r1", account("a", signals=[("device_id", "dev-42")])),
           rep("r2", account("b", signals=[("device_id", "dev-42")])))
    ingest(platform, rep("r3", account("c", signals=[("device_id", "dev-42"), ("device_id", "dev-42")])))
    signal = Signal.objects.get()
    assert sorted(signal.accounts.values_list("external_id", flat=True)) == ["a", "b", "c"]


def test_signal_hash_is_stable_and_keyed(settings):
    settings.SIGNAL_HASH_KEY = "one"
    first = signal_hash("email_hash", "a@b.example")
    assert signal_hash("email_hash", "A@B.example") == first
    settings.SIGNAL_HASH_KEY = "two"
    assert signal_hash("email_hash", "a@b.example") != first
    assert signal_hash("device_id", "a@b.example") != signal_hash("email_hash", "a@b.example")


# --------------------------------------------------------------------------- dedup into cases


def test_report_about_a_subject_with_an_open_case_joins_it(platform):
    [first] = ingest(platform, rep("r1", reporter_ref="u1"))
    [second] = ingest(platform, rep("r2", reporter_ref="u2"))
    [third] = ingest(platform, rep("r3", reporter_ref="u2"))
    assert first.case["id"] == second.case["id"] == third.case["id"]
    case = Case.objects.get()
    assert (case.report_count, case.reporter_count) == (3, 2)
    assert set(Report.objects.values_list("case_id", flat=True)) == {case.pk}
    events = list(case.events.order_by("id").values_list("verb", "data"))
    assert [verb for verb, _ in events] == ["opened", "report_added", "report_added"]
    assert events[1][1]["report_id"] == second.report_id


def test_a_subject_stored_for_the_first_time_gets_its_case_without_a_lookup(platform, monkeypatch):
    from cases.services import intake_store

    looked_up = []
    lock_open_cases = intake_store.lock_open_cases

    def spy(subject_ids):
        looked_up.extend(subject_ids)
        return lock_open_cases(subject_ids)

    monkeypatch.setattr(intake_store, "lock_open_cases", spy)
    [first] = ingest(platform, rep("r1", subject=account("brand-new")))
    assert first.status == "created" and first.case["status"] == "open" and looked_up == []
    # a known subject's open case is looked up (and joined); a new one in the same batch is not
    outcomes = ingest(platform, rep("r2", subject=account("brand-new")), rep("r3", subject=account("newer")))
    assert outcomes[0].case["id"] == first.case["id"] and outcomes[1].case["id"] != first.case["id"]
    assert looked_up == [Subject.objects.get(external_id="brand-new").pk]
    assert Case.objects.filter(subject__external_id__in=["brand-new", "newer"]).count() == 2


def test_resolved_case_means_a_new_case(platform):
    [first] = ingest(platform, rep("r1"))
    resolve(Case.objects.get(pk=first.case["id"]))
    [second] = ingest(platform, rep("r2"))
    assert second.case["id"] != first.case["id"] and second.case["status"] == "open"
    assert Case.objects.filter(status=CaseStatus.OPEN).count() == 1


def test_report_joins_a_case_in_review(platform, analyst):
    [first] = ingest(platform, rep("r1"))
    Case.objects.filter(pk=first.case["id"]).update(status=CaseStatus.IN_REVIEW, assignee=analyst)
    [second] = ingest(platform, rep("r2"))
    assert second.case == {**first.case, "status": "in_review"}
    case = Case.objects.get()
    assert case.assignee == analyst and case.report_count == 2


def test_priority_rises_with_reporters_and_moves_the_due_times(platform):
    reports = [rep(f"r{i}", reporter_ref=f"u{i}", category="targeted-harassment") for i in range(4)]
    ingest(platform, *reports)
    case = Case.objects.get()
    assert case.priority == 2
    due_before = case.resolution_due_at
    [fifth] = ingest(platform, rep("r5", reporter_ref="u5", category="targeted-harassment"))
    case.refresh_from_db()
    assert case.priority == 1 and fifth.case["priority"] == 1
    assert "5 distinct reporters (at least 5): ranked up to P1" in case.priority_reasons
    sla = QueueSla.objects.get(queue=case.queue, priority=1)
    assert case.resolution_due_at == case.opened_at + timedelta(minutes=sla.resolution_minutes)
    assert case.resolution_due_at < due_before
    change = case.events.get(verb="priority_changed")
    assert (change.data["from"], change.data["to"]) == (2, 1) and change.data["reasons"] == case.priority_reasons
    # the priority change follows the report that caused it on the timeline
    assert list(case.events.order_by("id").values_list("verb", flat=True))[-2:] == ["report_added", "priority_changed"]


def test_a_report_joining_a_case_folds_into_its_kept_facts_without_reading_its_reports(platform, monkeypatch):
    """A case keeps what priority needs of its reports; the next reports fold into it, and its
    distinct reporters grow by the ones never seen on it (one index probe each), however many
    reports it already holds."""
    from cases.services import intake_store

    ingest(platform, rep("r1", reporter_ref="u1", category="targeted-harassment"),
           rep("r2", reporter_ref="u2", category="targeted-harassment"))
    case = Case.objects.get()
    assert case.report_facts["category"] == "Targeted harassment" and case.report_facts["sources"] == ["user_report"]

    def every_report_read(case_ids):
        raise AssertionError(f"read every report of {case_ids}")

    monkeypatch.setattr(intake_store, "case_report_facts", every_report_read)
    ingest(platform, rep("r3", reporter_ref="u1", category="targeted-harassment"),  # seen before
           rep("r4", reporter_ref="", category="targeted-harassment"),             # no reporter
           rep("r5", reporter_ref="u3", category="targeted-harassment"),
           rep("r6", reporter_ref="u3", category="targeted-harassment"))           # twice in one batch
    case.refresh_from_db()
    assert (case.report_count, case.reporter_count) == (6, 3) == (
        Report.objects.filter(case=case).count(),
        Report.objects.filter(case=case).exclude(reporter_ref="").values("reporter_ref").distinct().count())
    ingest(platform, rep("r7", reporter_ref="u4", category="targeted-harassment", classifier_score=0.97),
           rep("r8", reporter_ref="u5", source="legal_request", category="credible-threat"))
    case.refresh_from_db()
    assert (case.report_count, case.reporter_count) == (8, 5)
    assert case.report_facts["category"] == "Credible threat of violence" and case.report_facts["max_score"] == 0.97
    assert set(case.report_facts["sources"]) == {"user_report", "legal_request"}
    assert case.priority == 0 and "5 distinct reporters" in " ".join(case.priority_reasons)


def test_a_case_stored_before_it_kept_facts_has_them_read_from_its_reports_once(platform):
    ingest(platform, rep("r1", reporter_ref="u1", category="spam"), rep("r2", reporter_ref="u2", category="spam"))
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(report_facts=None)  # as cases were before they kept them
    ingest(platform, rep("r3", reporter_ref="u2", category="targeted-harassment"))
    case.refresh_from_db()
    assert (case.report_count, case.reporter_count) == (3, 2)
    assert case.report_facts["category"] == "Targeted harassment" and case.priority == 2
    ingest(platform, rep("r4", reporter_ref="u3", category="spam"))
    case.refresh_from_db()
    assert (case.report_count, case.reporter_count) == (4, 3)


def test_a_more_severe_category_raises_the_case(platform):
    ingest(platform, rep("r1", category="spam"))
    ingest(platform, rep("r2", category="credible-threat"))
    case = Case.objects.get()
    assert case.priority == 0 and case.priority_reasons[0].startswith("Critical severity category “Credible threat")


def test_intake_never_lowers_a_priority(platform):
    [first] = ingest(platform, rep("r1", category="spam"))
    Case.objects.filter(pk=first.case["id"]).update(priority=0, priority_reasons=["Set to P0 by lee: press"])
    ingest(platform, rep("r2", category="spam"))
    case = Case.objects.get()
    assert case.priority == 0 and case.priority_reasons == ["Set to P0 by lee: press"]
    assert not case.events.filter(verb="priority_changed").exists()


def test_new_case_due_times_come_from_the_queue_targets(platform):
    before = timezone.now()
    [outcome] = ingest(platform, rep("r1", category="phishing"))
    case = Case.objects.get(pk=outcome.case["id"])
    sla = QueueSla.objects.get(queue__slug="fraud-marketplace", priority=case.priority)
    assert case.opened_at >= before
    assert case.first_touch_due_at == case.opened_at + timedelta(minutes=sla.first_touch_minutes)
    assert case.resolution_due_at == case.opened_at + timedelta(minutes=sla.resolution_minutes)


def test_queue_without_target_has_no_clock(platform):
    queue = Queue.objects.create(slug="no-clock", name="No clock")
    from tests.factories import RoutingRuleFactory

    RoutingRuleFactory(position=1, queue=queue, source="support_escalation")
    [outcome] = ingest(platform, rep("r1", source="support_escalation"))
    case = Case.objects.get(pk=outcome.case["id"])
    assert case.queue == queue and case.resolution_due_at is None


def test_received_at_and_dsa_notice_fields_are_stored(platform):
    received = timezone.now() - timedelta(hours=3)
    ingest(platform, rep("r1", received_at=received, explanation="Illegal under §130", notifier_name="N. Otifier",
                         notifier_email="n@example.org", exact_location="https://platform.example/p/1",
                         good_faith_statement=True, language="de", territory="DE"))
    stored = Report.objects.get()
    assert stored.received_at == received
    assert (stored.explanation, stored.notifier_name, stored.notifier_email, stored.good_faith_statement) == (
        "Illegal under §130", "N. Otifier", "n@example.org", True)
    assert (stored.language, stored.territory) == ("de", "DE")


def test_unknown_category_is_an_error_outcome_and_the_rest_is_stored(platform):
    outcomes = ingest(platform, rep("r1", category="nope"), rep("r2"))
    assert outcomes[0].status == Outcome.ERROR and "category" in outcomes[0].errors
    assert outcomes[1].status == Outcome.CREATED
    assert Report.objects.count() == 1


def test_single_report_error_raises_invalid_input(platform):
    from cases.services.intake import report_ingest

    with pytest.raises(InvalidInput) as caught:
        report_ingest(rep("r1", category="nope"), actor=platform)
    assert "category" in caught.value.field_errors


def test_more_than_1000_is_refused(platform):
    with pytest.raises(InvalidInput):
        reports_ingest([rep(f"r{i}") for i in range(1001)], actor=platform)


def test_reports_by_a_person_are_recorded_as_theirs(analyst):
    reports_ingest([rep("r1")], actor=analyst)
    event = CaseEvent.objects.get()
    assert (event.actor, event.actor_kind) == (analyst, "user")
    assert Report.objects.get().submitted_by == analyst


# --------------------------------------------------------------------------- trusted flaggers


@pytest.fixture
def flagger(platform):
    from cases.models import Category

    entity = TrustedFlaggerFactory(name="Hotline e.V.", user=platform)
    entity.areas.set([Category.objects.get(slug="child-safety"), Category.objects.get(slug="hate-speech")])
    return entity


def test_trusted_flagger_ranks_up_within_its_areas(platform, flagger):
    [outcome] = ingest(platform, rep("r1", source="trusted_flagger", category="hate-speech"))
    case = Case.objects.get(pk=outcome.case["id"])
    assert case.priority == 1
    assert any("Trusted flagger “Hotline e.V.” reporting within its area" in r for r in case.priority_reasons)
    assert Report.objects.get().trusted_flagger == flagger


def test_trusted_flagger_area_covers_subcategories(platform, flagger):
    [outcome] = ingest(platform, rep("r1", source="trusted_flagger", category="underage-user"))
    case = Case.objects.get(pk=outcome.case["id"])
    assert case.priority == 1 and case.queue.slug == "child-safety"


def test_trusted_flagger_outside_its_areas_counts_as_an_ordinary_notice(platform, flagger):
    [outcome] = ingest(platform, rep("r1", source="trusted_flagger", category="spam"))
    case = Case.objects.get(pk=outcome.case["id"])
    assert case.priority == 3
    assert any("outside its areas" in r for r in case.priority_reasons)
    assert Report.objects.get().trusted_flagger == flagger


def test_flagger_areas_count_again_when_the_case_is_recomputed(platform, flagger):
    other = user_with_role(roles.INTEGRATION, username="other-platform")
    reports_ingest([rep("r1", category="hate-speech")], actor=other)
    assert Case.objects.get().priority == 2
    ingest(platform, rep("r2", source="trusted_flagger", category="hate-speech"))
    assert Case.objects.get().priority == 1


def test_trusted_flagger_source_without_a_register_entry_is_not_ranked_up(platform):
    [outcome] = ingest(platform, rep("r1", source="trusted_flagger", category="hate-speech"))
    assert Case.objects.get(pk=outcome.case["id"]).priority == 2
    assert Report.objects.get().trusted_flagger is None


def test_legal_request_goes_to_legal_and_ranks_up(platform):
    [outcome] = ingest(platform, rep("r1", source="legal_request", category="private-information"))
    case = Case.objects.get(pk=outcome.case["id"])
    assert case.queue.slug == "legal" and case.priority == 1
    assert "Legal request from an authority: ranked up to P1" in case.priority_reasons


def test_reach_ranks_up(platform):
    [outcome] = ingest(platform, rep("r1", account(follower_count=2_000_000), category="spam"))
    case = Case.objects.get(pk=outcome.case["id"])
    assert case.priority == 2 and any("2,000,000 followers" in r for r in case.priority_reasons)


def test_reach_of_content_is_its_authors(platform):
    post = SubjectIn(kind="content", external_id="p", author=account("star", follower_count=500_000))
    [outcome] = ingest(platform, rep("r1", post, category="spam"))
    assert Case.objects.get(pk=outcome.case["id"]).priority == 2


# --------------------------------------------------------------------------- context


def test_context_follows_configuration_changes(platform):
    from tests.factories import QueueFactory, RoutingRuleFactory

    intake_context()
    queue = QueueFactory(slug="spam-desk")
    from cases.models import Category

    RoutingRuleFactory(position=1, queue=queue, category=Category.objects.get(slug="spam-manipulation"))
    [outcome] = ingest(platform, rep("r1", category="fake-engagement"))
    assert outcome.case["queue"] == "spam-desk"


def test_new_category_is_known_at_once(platform):
    intake_context()
    CategoryFactory(slug="brand-new", default_severity=0)
    [outcome] = ingest(platform, rep("r1", category="brand-new"))
    assert outcome.status == Outcome.CREATED and outcome.case["priority"] == 0


def test_existing_subjects_and_history_are_used(platform):
    author = AccountFactory(external_id="known", follower_count=300_000)
    ContentFactory(external_id="known-post", author=author)
    [outcome] = ingest(platform, rep("r1", SubjectIn(kind="content", external_id="known-post")))
    assert Case.objects.get(pk=outcome.case["id"]).subject.author == author
    assert outcome.case["priority"] == 2  # spam P3, ranked up by the author's reach


# --------------------------------------------------------------------------- lost races, made to happen


def test_a_case_opened_meanwhile_is_joined(platform, monkeypatch):
    """The subject had no open case when we looked, but one exists when we insert: the partial unique
    index refuses the second open case and the report joins the one that won."""
    from cases.services import intake_store

    [first] = ingest(platform, rep("r1"))
    real = intake_store.lock_open_cases
    calls = []

    def blind_first_look(subject_ids):
        calls.append(subject_ids)
        return {} if len(calls) == 1 else real(subject_ids)

    monkeypatch.setattr(intake_store, "lock_open_cases", blind_first_look)
    [second] = ingest(platform, rep("r2"))
    assert len(calls) == 2
    assert second.status == Outcome.CREATED and second.case["id"] == first.case["id"]
    assert Case.objects.count() == 1 and Case.objects.get().report_count == 2
    assert list(CaseEvent.objects.order_by("id").values_list("verb", flat=True)) == ["opened", "report_added"]


def test_a_report_stored_meanwhile_is_a_duplicate_and_its_new_case_goes_away(platform, monkeypatch):
    """Another request stored the same report (and its case) between our replay check and our insert."""
    from cases.services import intake_store

    [first] = ingest(platform, rep("r1", account("x")))
    resolve(Case.objects.get(pk=first.case["id"]))
    real = intake_store.stored_reports
    calls = []

    def blind_first_look(keys):
        calls.append(keys)
        return {} if len(calls) == 1 else real(keys)

    monkeypatch.setattr(intake_store, "stored_reports", blind_first_look)
    [again] = ingest(platform, rep("r1", account("x")))
    assert again.status == Outcome.DUPLICATE and again.report_id == first.report_id
    # the case opened for it (the old one is resolved) held no report and was removed again
    assert Case.objects.count() == 1 and not Case.objects.filter(status=CaseStatus.OPEN).exists()
    assert CaseEvent.objects.filter(verb="opened").count() == 1


def test_a_raced_duplicate_in_a_batch_leaves_the_others_counted(platform, monkeypatch):
    from cases.services import intake_store

    [stored] = ingest(platform, rep("r1", account("y")))
    real = intake_store.stored_reports
    calls = []

    def blind_first_look(keys):
        calls.append(keys)
        return {} if len(calls) == 1 else real(keys)

    monkeypatch.setattr(intake_store, "stored_reports", blind_first_look)
    outcomes = ingest(platform, rep("r1", account("z"), reporter_ref="a"), rep("r2", account("z"), reporter_ref="b"))
    assert [o.status for o in outcomes] == [Outcome.DUPLICATE, Outcome.CREATED]
    assert outcomes[0].report_id == stored.report_id
    case = Case.objects.get(subject__external_id="z")
    assert (case.report_count, case.reporter_count) == (1, 1)
    opened = case.events.get(verb="opened")
    assert opened.data["report_id"] == outcomes[1].report_id
