"""Workspace services: each rule, and the one CaseEvent each change writes."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseStatus, Evidence, Note
from cases.services import workflow
from cases.sla import apply_due_times
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    QueueFactory,
    QueueSlaFactory,
    ReportFactory,
    TeamFactory,
    TeamMembershipFactory,
    WebhookEndpointFactory,
)
from tsconsole.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tsconsole.models import AuditEntry, Notification, OutboxMessage
from tsconsole.roles import ANALYST

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def events(case, verb=None):
    qs = CaseEvent.objects.filter(case_id=case.pk).order_by("id")
    return list(qs.filter(verb=verb) if verb else qs)


@pytest.fixture
def claimed(analyst):
    queue = QueueFactory()
    QueueSlaFactory(queue=queue, priority=2, first_touch_minutes=60, resolution_minutes=240)
    case = CaseFactory(queue=queue, status=CaseStatus.OPEN, priority=2)
    case.save(update_fields=apply_due_times(case))
    return workflow.case_claim(case=case, actor=analyst)


@pytest.fixture
def helper(make_user):
    return make_user(ANALYST, username="helen")


# --------------------------------------------------------------------------- claim and release


def test_claim_sets_assignee_first_touch_status_and_one_event(analyst):
    case = CaseFactory()
    claimed = workflow.case_claim(case=case, actor=analyst)
    assert (claimed.status, claimed.assignee, claimed.first_touched_at is not None) == (
        CaseStatus.IN_REVIEW, analyst, True)
    assert claimed.claimed_at == claimed.first_touched_at
    [event] = events(case)
    assert (event.verb, event.from_status, event.to_status, event.actor) == ("claimed", "open", "in_review", analyst)


def test_claim_keeps_an_earlier_first_touch(analyst):
    earlier = timezone.now() - timedelta(hours=3)
    case = CaseFactory(first_touched_at=earlier)
    assert workflow.case_claim(case=case, actor=analyst).first_touched_at == earlier


def test_claiming_a_claimed_case_is_a_conflict_naming_the_holder(analyst, helper):
    case = CaseFactory()
    workflow.case_claim(case=case, actor=helper)
    with pytest.raises(Conflict, match="already claimed by helen"):
        workflow.case_claim(case=case, actor=analyst)
    assert len(events(case)) == 1


def test_release_returns_the_case_to_the_queue_with_an_event(claimed, analyst):
    released = workflow.case_release(case=claimed, actor=analyst, reason="Need a break")
    assert (released.status, released.assignee, released.claimed_at) == (CaseStatus.OPEN, None, None)
    event = events(claimed, "released")[0]
    assert event.data == {"previous_assignee": "ana", "reason": "Need a break"}
    assert (event.from_status, event.to_status) == ("in_review", "open")


def test_only_the_assignee_or_a_lead_releases(claimed, helper, lead):
    with pytest.raises(Conflict, match="assigned to ana"):
        workflow.case_release(case=claimed, actor=helper)
    workflow.case_release(case=claimed, actor=lead)
    assert Case.objects.get(pk=claimed.pk).status == CaseStatus.OPEN


def test_release_of_an_unclaimed_case_is_a_conflict(analyst):
    case = CaseFactory()
    with pytest.raises(Conflict, match="not claimed"):
        workflow.case_release(case=case, actor=analyst)


def test_release_of_a_held_case_ends_the_hold_and_restarts_clocks(claimed, analyst, helper):
    workflow.case_hold(case=claimed, reason="second opinion", helper=helper, actor=analyst)
    released = workflow.case_release(case=claimed, actor=analyst)
    assert (released.held_for, released.hold_reason, released.sla_paused_at) == (None, "", None)


# --------------------------------------------------------------------------- team access


def test_restricted_queue_refuses_outsiders_and_admits_members(analyst, helper):
    team = TeamFactory(slug="legal-team")
    queue = QueueFactory(slug="legal-only")
    queue.allowed_teams.add(team)
    case = CaseFactory(queue=queue)
    with pytest.raises(NotAllowed):
        workflow.case_claim_next(queue="legal-only", actor=analyst)
    # A case in a queue the actor may not work answers like a missing one (no existence oracle).
    with pytest.raises(NotFound):
        workflow.note_add(case=case, body="x", actor=analyst)
    TeamMembershipFactory(team=team, user=helper)
    assert workflow.case_claim_next(queue="legal-only", actor=helper).pk == case.pk


def test_leads_work_every_queue(lead):
    queue = QueueFactory(slug="restricted")
    queue.allowed_teams.add(TeamFactory())
    case = CaseFactory(queue=queue)
    assert workflow.case_claim_next(queue="restricted", actor=lead).pk == case.pk


# --------------------------------------------------------------------------- idle claims


def test_idle_claims_go_back_with_a_system_event_and_a_notice(claimed, analyst):
    later = timezone.now() + timedelta(minutes=31)
    assert workflow.release_idle_claims(now=later) == [claimed.pk]
    case = Case.objects.get(pk=claimed.pk)
    assert (case.status, case.assignee_id, case.claimed_at) == (CaseStatus.OPEN, None, None)
    event = events(case, "claim_expired")[0]
    assert (event.actor, event.actor_kind, event.from_status, event.to_status) == (
        None, CaseEvent.ActorKind.SYSTEM, "in_review", "open")
    assert event.data == {"previous_assignee_id": analyst.pk, "timeout_minutes": 30}
    assert Notification.objects.filter(user=analyst, kind="case.claim_expired").count() == 1


def test_idle_sweep_is_safe_to_run_twice(claimed):
    later = timezone.now() + timedelta(minutes=31)
    assert workflow.release_idle_claims(now=later) == [claimed.pk]
    assert workflow.release_idle_claims(now=later) == []
    assert len(events(claimed, "claim_expired")) == 1


def test_activity_keeps_a_claim_alive(claimed, analyst):
    workflow.note_add(case=claimed, body="still on it", actor=analyst)
    note_time = Case.objects.get(pk=claimed.pk).last_activity_at
    assert workflow.release_idle_claims(now=note_time + timedelta(minutes=29)) == []
    assert workflow.release_idle_claims(now=note_time + timedelta(minutes=31)) == [claimed.pk]


def test_queue_timeout_is_per_queue_and_zero_never_releases(analyst):
    quick = QueueFactory(claim_timeout_minutes=5)
    never = QueueFactory(claim_timeout_minutes=0)
    a = workflow.case_claim(case=CaseFactory(queue=quick), actor=analyst)
    b = workflow.case_claim(case=CaseFactory(queue=never), actor=analyst)
    released = workflow.release_idle_claims(now=timezone.now() + timedelta(days=3))
    assert a.pk in released and b.pk not in released


def test_the_sweep_runs_as_a_beat_task(claimed):
    from cases import tasks
    from tsconsole.celery import beat_schedule

    entry = beat_schedule(5)["release-idle-claims"]
    assert entry["task"] == tasks.release_idle_claims.name
    assert tasks.release_idle_claims() == 0  # nothing idle yet
    Case.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now() - timedelta(hours=1),
                                              last_activity_at=timezone.now() - timedelta(hours=1))
    assert tasks.release_idle_claims() == 1


def test_held_cases_are_not_idle(claimed, analyst, helper):
    workflow.case_hold(case=claimed, reason="ask", helper=helper, actor=analyst)
    assert workflow.release_idle_claims(now=timezone.now() + timedelta(hours=5)) == []


# --------------------------------------------------------------------------- notes and evidence


def test_note_add_writes_the_note_and_one_event(claimed, analyst):
    note = workflow.note_add(case=claimed, body="  Checked the account.  ", actor=analyst)
    assert (note.body, note.author) == ("Checked the account.", analyst)
    assert events(claimed, "note_added")[0].data == {"note_id": note.pk}


def test_note_needs_a_body_and_an_unresolved_case(claimed, analyst):
    with pytest.raises(InvalidInput):
        workflow.note_add(case=claimed, body="   ", actor=analyst)
    workflow.case_resolve_no_violation(case=claimed, reason="fine", actor=analyst)
    with pytest.raises(Conflict, match="resolved"):
        workflow.note_add(case=claimed, body="late", actor=analyst)
    assert not Note.objects.exists()


def test_text_evidence_is_hashed_and_evented(claimed, analyst):
    evidence = workflow.evidence_add(case=claimed, actor=analyst, text="the message said hi", description="DM")
    assert evidence.kind == Evidence.Kind.TEXT
    assert evidence.sha256 == hashlib.sha256(b"the message said hi").hexdigest()
    assert (evidence.size, evidence.content_type, evidence.sensitive) == (19, "text/plain", False)
    event = events(claimed, "evidence_added")[0]
    assert event.data["evidence_id"] == evidence.pk and event.data["sha256"] == evidence.sha256


def test_file_evidence_is_sniffed_hashed_and_stored(claimed, analyst, settings):
    upload = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    evidence = workflow.evidence_add(case=claimed, actor=analyst, upload=upload)
    assert (evidence.content_type, evidence.size, evidence.original_name) == ("image/png", len(PNG), "shot.png")
    assert evidence.sha256 == hashlib.sha256(PNG).hexdigest()
    with evidence.file.open("rb") as handle:
        assert handle.read() == PNG
    assert evidence.file.name.endswith(evidence.sha256)


def test_a_browser_claim_is_not_trusted(claimed, analyst):
    # octet-stream says nothing: the bytes decide
    evidence = workflow.evidence_add(case=claimed, actor=analyst, upload=SimpleUploadedFile(
        "doc", PDF, content_type="application/octet-stream"))
    assert evidence.content_type == "application/pdf"
    # a specific claim contradicted by the bytes is refused
    with pytest.raises(InvalidInput, match="claims to be image/png but its content is application/pdf"):
        workflow.evidence_add(case=claimed, actor=analyst, upload=SimpleUploadedFile(
            "photo.png", PDF, content_type="image/png"))


@pytest.mark.parametrize("content", [b"MZ\x90\x00\x03\x00\x00\x00binary", b"<svg xmlns='http://www.w3.org/2000/svg'>\x00"])
def test_types_outside_the_allow_list_are_refused(claimed, analyst, content):
    with pytest.raises(InvalidInput, match="not accepted"):
        workflow.evidence_add(case=claimed, actor=analyst, upload=SimpleUploadedFile(
            "x.png", content, content_type="image/png"))
    assert not Evidence.objects.exists()


def test_allow_list_comes_from_settings(claimed, analyst, settings):
    settings.EVIDENCE_ALLOWED_TYPES = ["application/pdf"]
    with pytest.raises(InvalidInput, match="not accepted"):
        workflow.evidence_add(case=claimed, actor=analyst, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"))


def test_size_limit_comes_from_settings(claimed, analyst, settings):
    settings.EVIDENCE_MAX_BYTES = 20
    with pytest.raises(InvalidInput, match="larger than the evidence limit"):
        workflow.evidence_add(case=claimed, actor=analyst, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"))
    with pytest.raises(InvalidInput, match="larger than the evidence limit"):
        workflow.evidence_add(case=claimed, actor=analyst, text="x" * 21)
    assert not Evidence.objects.exists()


def test_evidence_needs_exactly_one_of_file_or_text(claimed, analyst):
    with pytest.raises(InvalidInput):
        workflow.evidence_add(case=claimed, actor=analyst)
    with pytest.raises(InvalidInput):
        workflow.evidence_add(case=claimed, actor=analyst, text="x", upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"))


def test_evidence_of_a_sensitive_category_is_sensitive_and_reveal_is_logged(analyst):
    case = workflow.case_claim(case=CaseFactory(category=CategoryFactory(sensitive=True)), actor=analyst)
    evidence = workflow.evidence_add(case=case, actor=analyst, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"))
    assert evidence.sensitive
    workflow.evidence_reveal(evidence_id=evidence.pk, actor=analyst)
    event = events(case, "evidence_revealed")[0]
    assert event.data == {"evidence_id": evidence.pk, "sha256": evidence.sha256} and event.actor == analyst


def test_evidence_access_is_audited(claimed, analyst):
    evidence = workflow.evidence_add(case=claimed, actor=analyst, text="x")
    workflow.evidence_access_log(evidence=evidence, actor=analyst, purpose="download")
    entry = AuditEntry.objects.get(verb="evidence.download")
    assert (entry.actor, entry.object_ref, entry.data["case"]) == (analyst, str(evidence.pk), claimed.pk)


# --------------------------------------------------------------------------- triage changes


def test_priority_change_recomputes_due_times_and_explains(claimed, analyst):
    QueueSlaFactory(queue=claimed.queue, priority=0, first_touch_minutes=5, resolution_minutes=30)
    before = Case.objects.get(pk=claimed.pk)
    changed = workflow.case_change_priority(case=claimed, priority=0, reason="credible threat", actor=analyst)
    assert changed.priority == 0
    assert changed.resolution_due_at == before.opened_at + timedelta(minutes=30)
    assert changed.resolution_due_at < before.resolution_due_at
    assert changed.priority_reasons[-1] == "Set to P0 by ana: credible threat"
    event = events(claimed, "priority_changed")[0]
    assert (event.data["from"], event.data["to"], event.data["reason"]) == (2, 0, "credible threat")


@pytest.mark.parametrize("priority,reason", [(7, "x"), ("high", "x"), (1, "  ")])
def test_priority_change_validates(claimed, analyst, priority, reason):
    with pytest.raises(InvalidInput):
        workflow.case_change_priority(case=claimed, priority=priority, reason=reason, actor=analyst)
    assert not events(claimed, "priority_changed")


def test_category_change_needs_a_reason_and_a_different_category(claimed, analyst):
    target = CategoryFactory(slug="spam-x")
    with pytest.raises(InvalidInput):
        workflow.case_change_category(case=claimed, category="spam-x", reason="", actor=analyst)
    with pytest.raises(InvalidInput, match="already"):
        workflow.case_change_category(case=claimed, category=claimed.category.slug, reason="same", actor=analyst)
    changed = workflow.case_change_category(case=claimed, category="spam-x", reason="It is spam", actor=analyst)
    assert changed.category == target
    assert events(claimed, "category_changed")[0].data["to"] == "spam-x"


def test_tags_are_replaced_with_one_event_listing_changes(claimed, analyst):
    workflow.case_tags_set(case=claimed, names="ring, #Repeat  repeat", actor=analyst)
    assert set(claimed.tags.values_list("name", flat=True)) == {"ring", "repeat"}
    workflow.case_tags_set(case=claimed, names=["ring", "scam"], actor=analyst)
    assert set(claimed.tags.values_list("name", flat=True)) == {"ring", "scam"}
    workflow.case_tags_set(case=claimed, names=["scam", "ring"], actor=analyst)  # no change, no event
    data = [e.data for e in events(claimed, "tags_changed")]
    assert data == [{"added": ["ring", "repeat"], "removed": []}, {"added": ["scam"], "removed": ["repeat"]}]
    with pytest.raises(InvalidInput):
        workflow.case_tags_set(case=claimed, names=["no spaces allowed!"], actor=analyst)


# --------------------------------------------------------------------------- hold, resume, hand off, resolve


def test_hold_for_a_person_pauses_clocks_and_notifies(claimed, analyst, helper):
    held = workflow.case_hold(case=claimed, reason="Is this slur in context?", helper="helen", actor=analyst)
    assert (held.status, held.held_for, held.hold_reason, held.assignee) == (
        CaseStatus.ON_HOLD, helper, "Is this slur in context?", analyst)
    assert held.sla_paused_at is not None
    event = events(claimed, "held")[0]
    assert (event.from_status, event.to_status, event.data["helper"], event.data["sla_paused"]) == (
        "in_review", "on_hold", "helen", True)
    assert Notification.objects.get(user=helper, kind="case.help").url == f"/cases/{claimed.pk}/"


def test_hold_for_a_team_notifies_its_members(claimed, analyst, helper):
    team = TeamFactory(slug="policy-x")
    TeamMembershipFactory(team=team, user=helper)
    TeamMembershipFactory(team=team, user=analyst)
    workflow.case_hold(case=claimed, reason="policy question", team="policy-x", actor=analyst)
    assert list(Notification.objects.filter(kind="case.help").values_list("user__username", flat=True)) == ["helen"]


def test_hold_rules(claimed, analyst, helper, support_agent):
    with pytest.raises(InvalidInput):
        workflow.case_hold(case=claimed, reason="x", actor=analyst)  # nobody asked
    with pytest.raises(InvalidInput):
        workflow.case_hold(case=claimed, reason="x", helper=analyst, actor=analyst)  # yourself
    with pytest.raises(InvalidInput):
        workflow.case_hold(case=claimed, reason="x", helper=support_agent, actor=analyst)  # cannot work cases
    with pytest.raises(Conflict, match="assigned to ana"):
        workflow.case_hold(case=claimed, reason="x", helper=analyst, actor=helper)
    assert not events(claimed, "held")


def test_queue_that_does_not_pause_keeps_clocks_running(analyst, helper):
    case = workflow.case_claim(case=CaseFactory(queue=QueueFactory(pause_sla_on_hold=False)), actor=analyst)
    held = workflow.case_hold(case=case, reason="x", helper=helper, actor=analyst)
    assert held.sla_paused_at is None


def test_helper_resumes_by_taking_over_and_clocks_move_by_the_pause(claimed, analyst, helper):
    before = Case.objects.get(pk=claimed.pk).resolution_due_at
    workflow.case_hold(case=claimed, reason="x", helper=helper, actor=analyst)
    Case.objects.filter(pk=claimed.pk).update(sla_paused_at=timezone.now() - timedelta(minutes=10))
    resumed = workflow.case_resume(case=claimed, actor=helper)
    assert (resumed.status, resumed.assignee, resumed.held_for, resumed.sla_paused_at) == (
        CaseStatus.IN_REVIEW, helper, None, None)
    assert resumed.sla_paused_seconds >= 600
    assert resumed.resolution_due_at - before >= timedelta(minutes=10)
    event = events(claimed, "resumed")[0]
    assert event.data == {"taken_over": True, "previous_assignee": "ana"} and event.actor == helper


def test_assignee_resumes_own_case_and_strangers_cannot(claimed, analyst, helper, make_user):
    workflow.case_hold(case=claimed, reason="x", helper=helper, actor=analyst)
    with pytest.raises(Conflict, match="Only ana or the helper"):
        workflow.case_resume(case=claimed, actor=make_user(ANALYST, username="stranger"))
    resumed = workflow.case_resume(case=claimed, actor=analyst)
    assert resumed.assignee == analyst and events(claimed, "resumed")[0].data["taken_over"] is False
    with pytest.raises(Conflict, match="not on hold"):
        workflow.case_resume(case=claimed, actor=analyst)


def test_team_member_may_resume_a_team_hold(claimed, analyst, helper):
    team = TeamFactory(slug="helpers")
    TeamMembershipFactory(team=team, user=helper)
    workflow.case_hold(case=claimed, reason="x", team=team, actor=analyst)
    assert workflow.case_resume(case=claimed, actor=helper).assignee == helper


def test_handoff_to_a_named_analyst(claimed, analyst, helper):
    moved = workflow.case_handoff(case=claimed, to_user="helen", actor=analyst, reason="Your language")
    assert (moved.assignee, moved.status) == (helper, CaseStatus.IN_REVIEW)
    event = events(claimed, "handed_off")[0]
    assert event.data == {"from": "ana", "to": "helen", "reason": "Your language"}
    assert (event.from_status, event.to_status) == ("", "")
    assert Notification.objects.filter(user=helper, kind="case.handoff").exists()


def test_handoff_rules(claimed, analyst, helper, support_agent):
    with pytest.raises(InvalidInput):
        workflow.case_handoff(case=claimed, to_user="ana", actor=analyst)  # already holds it
    with pytest.raises(InvalidInput, match="may not work"):
        workflow.case_handoff(case=claimed, to_user=support_agent, actor=analyst)
    with pytest.raises(InvalidInput, match="no active user"):
        workflow.case_handoff(case=claimed, to_user="ghost", actor=analyst)
    with pytest.raises(Conflict):
        workflow.case_handoff(case=claimed, to_user="ana", actor=helper)  # not the assignee
    restricted = QueueFactory()
    restricted.allowed_teams.add(TeamFactory())
    Case.objects.filter(pk=claimed.pk).update(queue=restricted)
    with pytest.raises(InvalidInput, match="helen may not work"):
        workflow.case_handoff(case=claimed, to_user="helen", actor=analyst)  # not one of the queue's teams


def test_resolve_no_violation_closes_and_tells_each_reporter_once(claimed, analyst):
    WebhookEndpointFactory()
    for ref in ("r1", "r1", "r2"):
        ReportFactory(case=claimed, reporter_ref=ref)
    resolved = workflow.case_resolve_no_violation(case=claimed, reason="Satire, within policy", actor=analyst)
    assert (resolved.status, resolved.resolution, resolved.resolution_reason, resolved.resolved_by) == (
        CaseStatus.RESOLVED, "no_violation", "Satire, within policy", analyst)
    event = events(claimed, "resolved")[0]
    assert event.data == {"resolution": "no_violation", "reason": "Satire, within policy"}
    outcomes = OutboxMessage.objects.filter(topic="report.outcome")
    assert outcomes.count() == 2
    assert {m.payload["outcome"] for m in outcomes} == {"no_action"}
    assert all(f"case{claimed.pk}:resolved" in m.idempotency_key for m in outcomes)


def test_resolving_someone_elses_case_is_a_conflict(claimed, helper):
    with pytest.raises(Conflict, match="assigned to ana"):
        workflow.case_resolve_no_violation(case=claimed, reason="x", actor=helper)


def test_resolve_rules(analyst):
    case = CaseFactory()
    with pytest.raises(Conflict, match="claim it before"):
        workflow.case_resolve_no_violation(case=case, reason="x", actor=analyst)
    workflow.case_claim(case=case, actor=analyst)
    with pytest.raises(InvalidInput):
        workflow.case_resolve_no_violation(case=case, reason="", actor=analyst)
    workflow.case_resolve_no_violation(case=case, reason="ok", actor=analyst)
    with pytest.raises(Conflict, match="already resolved"):
        workflow.case_resolve_no_violation(case=case, reason="again", actor=analyst)
    assert len(events(case, "resolved")) == 1


def test_resolving_from_hold_ends_the_hold(claimed, analyst, helper):
    workflow.case_hold(case=claimed, reason="x", helper=helper, actor=analyst)
    resolved = workflow.case_resolve_no_violation(case=claimed, reason="answered elsewhere", actor=analyst)
    assert (resolved.status, resolved.held_for, resolved.sla_paused_at) == (CaseStatus.RESOLVED, None, None)
