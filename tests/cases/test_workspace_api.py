"""Workspace API: queues with counts, claim 200/204, queue configuration, the case list and detail,
and each case action with its 409 for the wrong state."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token

from cases.models import Case, CaseEvent, CaseStatus, Evidence, Queue, QueueSla
from cases.services import workflow
from tests.factories import CaseFactory, QueueFactory, TeamFactory, TeamMembershipFactory
from tsconsole.models import AuditEntry
from tsconsole.roles import ANALYST

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


@pytest.fixture
def helper(make_user):
    return make_user(ANALYST, username="helen")


# --------------------------------------------------------------------------- queues


def test_queues_lists_only_workable_queues_with_counts(api_as, analyst):
    open_queue = QueueFactory(slug="open-q")
    CaseFactory.create_batch(2, queue=open_queue)
    locked = QueueFactory(slug="locked-q")
    locked.allowed_teams.add(TeamFactory())
    response = api_as(analyst).get(reverse("api-queues"))
    assert response.status_code == 200
    by_slug = {row["slug"]: row for row in response.json()}
    assert "locked-q" not in by_slug
    assert by_slug["open-q"]["unassigned"] == 2 and by_slug["open-q"]["open_count"] == 2
    assert set(by_slug["open-q"]) >= {"at_risk", "breached", "oldest_unassigned", "claim_timeout_minutes",
                                      "counted_at"}


def test_claim_returns_the_case_then_204_when_empty(api_client, analyst):
    queue = QueueFactory(slug="claimable")
    case = CaseFactory(queue=queue)
    # over a real token, as integrations and benchmark clients do
    token = Token.objects.create(user=analyst)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.post(reverse("api-queue-claim", args=["claimable"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["assignee"], body["queue"]) == (case.pk, "in_review", "ana", "claimable")
    assert body["url"] == f"/cases/{case.pk}/"
    assert api_client.post(reverse("api-queue-claim", args=["claimable"])).status_code == 204


def test_claim_from_a_foreign_or_unknown_queue(api_as, analyst):
    locked = QueueFactory(slug="team-only")
    locked.allowed_teams.add(TeamFactory())
    client = api_as(analyst)
    assert client.post(reverse("api-queue-claim", args=["team-only"])).status_code == 403
    response = client.post(reverse("api-queue-claim", args=["no-such"]))
    assert response.status_code == 404 and "no active queue" in response.json()["detail"]


def test_leads_create_and_update_queues_with_sla_targets(api_as, lead):
    team = TeamFactory(slug="fraud-team")
    client = api_as(lead)
    response = client.post(reverse("api-queues"), {
        "slug": "fraud-2", "name": "Fraud 2", "allowed_teams": ["fraud-team"], "claim_timeout_minutes": 15,
        "sla_targets": [{"priority": 0, "first_touch_minutes": 5, "resolution_minutes": 60},
                        {"priority": 2, "first_touch_minutes": 60, "resolution_minutes": 480}],
    }, format="json")
    assert response.status_code == 201, response.json()
    queue = Queue.objects.get(slug="fraud-2")
    assert list(queue.allowed_teams.all()) == [team] and queue.claim_timeout_minutes == 15
    assert sorted(queue.sla_targets.values_list("priority", "resolution_minutes")) == [(0, 60), (2, 480)]
    response = client.patch(reverse("api-queue-detail", args=["fraud-2"]), {
        "claim_timeout_minutes": 45, "sla_targets": [{"priority": 1, "first_touch_minutes": 10, "resolution_minutes": 90}],
    }, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["sla_targets"] == [{"priority": 1, "first_touch_minutes": 10, "resolution_minutes": 90}]
    assert Queue.objects.get(slug="fraud-2").claim_timeout_minutes == 45
    assert list(QueueSla.objects.filter(queue=queue).values_list("priority", flat=True)) == [1]
    assert AuditEntry.objects.filter(verb__in=["queue.created", "queue.updated"], object_ref="fraud-2").count() == 2


def test_queue_configuration_errors(api_as, lead, analyst):
    QueueFactory(slug="taken")
    client = api_as(lead)
    assert client.post(reverse("api-queues"), {"slug": "taken", "name": "x"}, format="json").status_code == 409
    response = client.post(reverse("api-queues"), {"slug": "bad", "name": "x", "sla_targets": [
        {"priority": 1, "first_touch_minutes": 90, "resolution_minutes": 30}]}, format="json")
    assert response.status_code == 400 and "sla_targets" in response.json()["errors"]
    response = client.post(reverse("api-queues"), {"slug": "twice", "name": "x", "sla_targets": [
        {"priority": 1, "first_touch_minutes": 1, "resolution_minutes": 3},
        {"priority": 1, "first_touch_minutes": 2, "resolution_minutes": 4}]}, format="json")
    assert response.status_code == 400
    assert client.post(reverse("api-queues"), {"name": "no slug"}, format="json").status_code == 400
    assert not Queue.objects.filter(slug__in=["bad", "twice"]).exists()
    assert api_as(analyst).post(reverse("api-queues"), {"slug": "mine", "name": "x"}, format="json").status_code == 403
    assert api_as(analyst).patch(reverse("api-queue-detail", args=["taken"]), {"name": "y"},
                                 format="json").status_code == 403


# --------------------------------------------------------------------------- list and detail


def test_case_list_filters_and_cursor_pages(api_as, analyst):
    queue = QueueFactory(slug="apiq")
    cases = CaseFactory.create_batch(7, queue=queue, priority=1)
    CaseFactory(queue=queue, priority=3)
    workflow.case_claim(case=cases[0], actor=analyst)
    client = api_as(analyst)
    page = client.get(reverse("api-cases"), {"queue": "apiq", "priority": 1, "page_size": 4}).json()
    assert [c["id"] for c in page["results"]] == [c.pk for c in reversed(cases)][:4]
    rest = client.get(page["next"]).json()
    assert [c["id"] for c in rest["results"]] == [c.pk for c in reversed(cases)][4:] and rest["next"] is None
    mine = client.get(reverse("api-cases"), {"assignee": "me"}).json()["results"]
    assert [c["id"] for c in mine] == [cases[0].pk]
    assert len(client.get(reverse("api-cases"), {"status": "in_review"}).json()["results"]) == 1
    assert client.get(reverse("api-cases"), {"status": "bogus"}).status_code == 400
    assert client.get(reverse("api-cases"), {"created_after": "not a date"}).status_code == 400


def test_case_list_and_detail_respect_team_access(api_as, analyst):
    locked = QueueFactory()
    locked.allowed_teams.add(TeamFactory())
    hidden = CaseFactory(queue=locked)
    visible = CaseFactory()
    client = api_as(analyst)
    ids = [c["id"] for c in client.get(reverse("api-cases")).json()["results"]]
    assert visible.pk in ids and hidden.pk not in ids
    assert client.get(reverse("api-case-detail", args=[hidden.pk])).status_code == 404


def test_case_detail_has_notes_evidence_and_events(api_as, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    workflow.note_add(case=case, body="seen", actor=analyst)
    workflow.evidence_add(case=case, actor=analyst, text="extract")
    body = api_as(analyst).get(reverse("api-case-detail", args=[case.pk])).json()
    assert [n["body"] for n in body["notes"]] == ["seen"]
    assert body["evidence"][0]["download_url"] == reverse("evidence-download", args=[body["evidence"][0]["id"]])
    assert [e["verb"] for e in body["events"]] == ["evidence_added", "note_added", "claimed"]


@pytest.mark.parametrize("role", ["support_agent", "integration", "qa_reviewer"])
def test_other_roles_cannot_read_or_work_cases(api_as, request, role):
    user = request.getfixturevalue(role)
    case = CaseFactory()
    client = api_as(user)
    assert client.get(reverse("api-cases")).status_code == 403
    assert client.get(reverse("api-case-detail", args=[case.pk])).status_code == 403
    assert client.post(reverse("api-case-notes", args=[case.pk]), {"body": "x"}, format="json").status_code == 403
    assert client.post(reverse("api-queue-claim", args=[case.queue.slug])).status_code == 403


# --------------------------------------------------------------------------- actions


def test_notes_and_evidence(api_as, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    client = api_as(analyst)
    response = client.post(reverse("api-case-notes", args=[case.pk]), {"body": "Noted"}, format="json")
    assert response.status_code == 201 and response.json()["author"] == "ana"
    assert client.post(reverse("api-case-notes", args=[case.pk]), {}, format="json").status_code == 400
    response = client.post(reverse("api-case-evidence", args=[case.pk]), {"text": "pasted", "description": "DM"},
                           format="json")
    assert response.status_code == 201 and response.json()["kind"] == "text"
    upload = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    response = client.post(reverse("api-case-evidence", args=[case.pk]), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "image/png" and len(response.json()["sha256"]) == 64
    bad = SimpleUploadedFile("x.png", b"GIF89a-but-claims-png", content_type="image/png")
    response = client.post(reverse("api-case-evidence", args=[case.pk]), {"file": bad}, format="multipart")
    assert response.status_code == 400 and "claims to be image/png" in response.json()["detail"]
    assert client.post(reverse("api-case-evidence", args=[case.pk]), {}, format="json").status_code == 400
    assert Evidence.objects.filter(case=case).count() == 2


def test_hold_resume_handoff_resolve(api_as, analyst, helper, make_user):
    otto = make_user(ANALYST, username="otto")
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    ana, helen = api_as(analyst), None
    response = ana.post(reverse("api-case-hold", args=[case.pk]), {"reason": "second opinion", "helper": "helen"},
                        format="json")
    assert response.status_code == 200 and response.json()["status"] == "on_hold"
    assert response.json()["held_for"] == "helen"
    helen = api_as(helper)
    response = helen.post(reverse("api-case-resume", args=[case.pk]))
    assert response.status_code == 200 and response.json()["assignee"] == "helen"
    response = helen.post(reverse("api-case-handoff", args=[case.pk]), {"to": "otto", "reason": "yours"},
                          format="json")
    assert response.status_code == 200 and response.json()["assignee"] == "otto"
    otto_client = api_as(otto)
    response = otto_client.post(reverse("api-case-resolve", args=[case.pk]), {"reason": "Fine"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution"]) == ("resolved", "no_violation")
    verbs = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("verb", flat=True))
    assert verbs == ["claimed", "held", "resumed", "handed_off", "resolved"]


def test_wrong_state_is_409_with_a_clear_message(api_as, analyst, helper):
    case = workflow.case_claim(case=CaseFactory(), actor=helper)
    client = api_as(analyst)
    response = client.post(reverse("api-case-resolve", args=[case.pk]), {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == f"Case {case.pk} is assigned to helen; only they can resolve it."
    assert client.post(reverse("api-case-resume", args=[case.pk])).status_code == 409
    assert client.post(reverse("api-case-release", args=[case.pk])).status_code == 409
    assert client.post(reverse("api-case-handoff", args=[case.pk]), {"to": "ana"}, format="json").status_code == 409
    assert client.post(reverse("api-case-hold", args=[case.pk]), {"reason": "x", "helper": "helen"},
                       format="json").status_code == 409
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


def test_action_input_errors_are_400_with_field_errors(api_as, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    client = api_as(analyst)
    response = client.post(reverse("api-case-hold", args=[case.pk]), {"reason": "x"}, format="json")
    assert response.status_code == 400 and "helper" in response.json()["errors"]
    response = client.post(reverse("api-case-resolve", args=[case.pk]), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = client.post(reverse("api-case-handoff", args=[case.pk]), {"to": "ghost"}, format="json")
    assert response.status_code == 400 and "to" in response.json()["errors"]


def test_release_by_a_lead_and_team_holds(api_as, analyst, lead, helper):
    team = TeamFactory(slug="t-help")
    TeamMembershipFactory(team=team, user=helper)
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    response = api_as(analyst).post(reverse("api-case-hold", args=[case.pk]), {"reason": "x", "team": "t-help"},
                                    format="json")
    assert response.json()["held_for_team"] == "t-help"
    response = api_as(lead).post(reverse("api-case-release", args=[case.pk]), {"reason": "rebalancing"}, format="json")
    assert response.status_code == 200 and (response.json()["status"], response.json()["assignee"]) == ("open", None)


def test_schema_documents_the_workspace_endpoints(api_as, analyst):
    schema = api_as(analyst).get(reverse("api-schema"), {"format": "json"}).json()
    for path in ("/api/v1/queues/", "/api/v1/queues/{slug}/claim/", "/api/v1/cases/", "/api/v1/cases/{id}/",
                 "/api/v1/cases/{id}/notes/", "/api/v1/cases/{id}/evidence/", "/api/v1/cases/{id}/release/",
                 "/api/v1/cases/{id}/hold/", "/api/v1/cases/{id}/resume/", "/api/v1/cases/{id}/handoff/",
                 "/api/v1/cases/{id}/resolve/"):
        assert path in schema["paths"], path
    assert "204" in schema["paths"]["/api/v1/queues/{slug}/claim/"]["post"]["responses"]


def test_the_written_out_case_body_matches_the_declared_fields(analyst, helper):
    from rest_framework import serializers

    from cases.api.cases import CaseDetailSerializer, CaseSerializer

    case = workflow.case_claim(case=CaseFactory(priority_reasons=["High severity"]), actor=analyst)
    workflow.case_tags_set(case=case, names="ring", actor=analyst)
    workflow.case_hold(case=case, reason="help", helper=helper, actor=analyst)
    workflow.note_add(case=case, body="n", actor=analyst)
    case = Case.objects.get(pk=case.pk)
    for serializer_class in (CaseSerializer, CaseDetailSerializer):
        fast = serializer_class(case)
        generic = serializers.ModelSerializer.to_representation(serializer_class(case), case)
        assert fast.data == generic
