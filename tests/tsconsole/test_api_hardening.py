"""Issue 11, the API half: each request an attacker or a careless client sent now gets a 4xx in the
API's one error shape, nothing half-written, and a bad configuration row never stops a sweep."""

import base64
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled

from cases.models import (
    CaseStatus,
    Escalation,
    EscalationNotification,
    Note,
    QueueSla,
    SlaCrossing,
    TrustedFlagger,
)
from cases.services import workflow
from cases.services.escalations import case_escalate, escalation_sweep
from cases.services.sla import sla_sweep
from cases.sla import MAX_SLA_MINUTES, apply_due_times
from tests.factories import (
    CaseFactory,
    EscalationFactory,
    QueueFactory,
    QueueSlaFactory,
    TeamFactory,
    TeamMembershipFactory,
    TrustedFlaggerFactory,
    UserFactory,
    user_with_role,
)
from tsconsole import roles
from tsconsole.api_errors import exception_handler

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def assert_error(response, status: int, *fields: str) -> dict:
    """The one error shape: JSON with a sentence in `detail` and field messages in `errors`."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    for field in fields:
        assert field in body["errors"], body
    return body


# --------------------------------------------------------------------------- SLA targets: bounds


@pytest.fixture
def ops():
    queue = QueueFactory(slug="ops-q")
    QueueSlaFactory(queue=queue, priority=0, first_touch_minutes=5, resolution_minutes=60)
    return queue


@pytest.mark.parametrize("targets,field", [
    ([{"priority": 0, "first_touch_minutes": 10**12, "resolution_minutes": 10**12}], "sla_targets"),
    ([{"priority": 0, "first_touch_minutes": 5, "resolution_minutes": MAX_SLA_MINUTES + 1}], "sla_targets"),
    ([{"priority": 0, "first_touch_minutes": 5}], "sla_targets"),  # a key left out in a PATCH
    ([{"priority": 9, "first_touch_minutes": 5, "resolution_minutes": 10}], "sla_targets"),
], ids=["absurd", "over-a-year", "missing-key", "unknown-priority"])
def test_patch_refuses_sla_targets_out_of_bounds(api_as, lead, ops, targets, field):
    response = api_as(lead).patch(reverse("api-queue-detail", args=["ops-q"]), {"sla_targets": targets},
                                  format="json")
    assert_error(response, 400, field)
    assert list(QueueSla.objects.filter(queue=ops).values_list("priority", "first_touch_minutes",
                                                                    "resolution_minutes")) == [(0, 5, 60)]


def test_post_refuses_sla_targets_out_of_bounds(api_as, lead):
    response = api_as(lead).post(reverse("api-queues"), {
        "slug": "huge", "name": "Huge",
        "sla_targets": [{"priority": 1, "first_touch_minutes": 10**12, "resolution_minutes": 10**12}]},
        format="json")
    assert_error(response, 400, "sla_targets")
    response = api_as(lead).post(reverse("api-queues"), {
        "slug": "year", "name": "Year",
        "sla_targets": [{"priority": 1, "first_touch_minutes": 60, "resolution_minutes": MAX_SLA_MINUTES}]},
        format="json")
    assert response.status_code == 201


def test_a_target_row_out_of_bounds_is_skipped_by_intake_pages_and_the_sweep(api_as, lead, caplog):
    """A row saved before the bounds existed: logged, treated as no target, and every other queue's
    clocks run as before."""
    t0 = timezone.now() - timedelta(days=1)
    good = QueueFactory(slug="good")
    QueueSlaFactory(queue=good, priority=2, first_touch_minutes=60, resolution_minutes=240)
    bad = QueueFactory(slug="bad")
    QueueSlaFactory(queue=bad, priority=2, first_touch_minutes=60, resolution_minutes=240)
    QueueSla.objects.filter(queue=bad).update(first_touch_minutes=2_000_000_000, resolution_minutes=2_000_000_000)
    timed = CaseFactory(queue=good, opened_at=t0)
    timed.save(update_fields=apply_due_times(timed))
    untimed = CaseFactory(queue=bad, opened_at=t0)
    with caplog.at_level(logging.ERROR, logger="cases.sla"):
        untimed.save(update_fields=apply_due_times(untimed))
        result = sla_sweep(now=timezone.now())
    assert (untimed.first_touch_due_at, untimed.resolution_due_at) == (None, None)
    assert result.breached == 2  # both clocks of the timed case
    assert SlaCrossing.objects.filter(case=timed, level=SlaCrossing.Level.BREACHED).count() == 2
    assert not SlaCrossing.objects.filter(case=untimed).exists()
    assert "out of bounds" in caplog.text
    assert api_as(lead).get(reverse("api-queues")).status_code == 200


# --------------------------------------------------------------------------- escalation sweep


def test_the_escalation_sweep_skips_a_row_it_cannot_handle_and_pages_the_others(caplog):
    team = TeamFactory(slug="policy")
    TeamMembershipFactory(team=team, user=UserFactory(username="oncall"), oncall_order=1)
    analyst = user_with_role(roles.ANALYST, username="esc-analyst")
    now = timezone.now()
    good = case_escalate(case=CaseFactory(status=CaseStatus.IN_REVIEW, assignee=analyst), actor=analyst,
                         severity="sev2", team="policy", summary="Ring", now=now - timedelta(hours=2))
    broken = EscalationFactory(team=team, next_notify_at=now - timedelta(hours=3))
    Escalation.objects.filter(pk=broken.pk).update(severity="sev9")  # written behind the services
    with caplog.at_level(logging.ERROR, logger="cases.services.escalations"):
        result = escalation_sweep(now=now)
    assert result["failed"] == 1 and result["escalations"] == 1
    assert list(EscalationNotification.objects.filter(escalation=good).order_by("step")
                .values_list("step", "recipient__username")) == [(1, "oncall"), (2, "oncall")]
    broken.refresh_from_db()
    assert broken.next_notify_at > now  # put off, not retried in a tight loop
    assert f"escalation {broken.pk} could not be handled" in caplog.text


# --------------------------------------------------------------------------- parser limits


@pytest.mark.parametrize("url_name,auth", [
    ("api-token", False),
    ("api-reports", True),
    ("api-queues", True),
    ("api-case-notes", True),
    ("api-case-evidence", True),
    ("api-case-decide", True),
])
def test_deeply_nested_json_is_400_everywhere(api_client, lead, url_name, auth):
    if auth:
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=lead).key}")
    args = [CaseFactory().pk] if url_name.startswith("api-case-") else []
    body = "[" * 1000 + "]" * 1000
    response = api_client.post(reverse(url_name, args=args), body, content_type="application/json")
    assert "deeper than" in assert_error(response, 400)["detail"]


def test_nesting_within_the_limit_is_read(api_as, lead):
    nested = {"a": {"b": {"c": [[["deep enough"]]]}}}
    response = api_as(lead).post(reverse("api-queues"), {"slug": "nest", "name": "Nest", "x": nested},
                                 format="json")
    assert response.status_code == 201


def test_an_oversized_body_is_413_json(api_as, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    response = api_as(analyst).post(reverse("api-case-notes", args=[case.pk]), {"body": "x" * 3_000_000},
                                    format="json")
    assert "MB" in assert_error(response, 413)["detail"]
    as_form = api_as(analyst).post(reverse("api-case-evidence", args=[case.pk]), {"text": "x" * 3_000_000})
    assert_error(as_form, 413)
    assert not Note.objects.exists() and not case.evidence.exists()


# --------------------------------------------------------------------------- query values


@pytest.mark.parametrize("cursor", [
    "cD1hYmM=",  # p=abc
    "!!!not-base64",
    base64.b64encode(b"p=99999999999999999999999").decode(),
    base64.b64encode(b"p=1\x00").decode(),
])
def test_a_garbage_cursor_is_400(api_as, analyst, cursor):
    assert_error(api_as(analyst).get(reverse("api-cases"), {"cursor": cursor}), 400, "cursor")


@pytest.mark.parametrize("value", ["-1.79e308", "99999999999999999999999", "1e308", "abc", "0"])
def test_escalation_case_filter_takes_only_ids(api_as, lead, value):
    assert_error(api_as(lead).get(reverse("api-escalations"), {"case": value}), 400, "case")


@pytest.mark.parametrize("param", ["queue", "tag", "assignee", "category"])
def test_control_characters_in_list_filters_are_400(api_as, analyst, param):
    assert_error(api_as(analyst).get(reverse("api-cases"), {param: "a\x00b"}), 400, param)


# --------------------------------------------------------------------------- trusted flaggers


def test_a_user_already_linked_to_a_flagger_is_400(api_as, admin_user, integration):
    TrustedFlaggerFactory(name="First", user=integration)
    other = TrustedFlaggerFactory(name="Second")
    client = api_as(admin_user)
    response = client.post(reverse("api-trusted-flaggers"), {
        "name": "Third", "awarding_authority": "DSC", "user": integration.username}, format="json")
    assert_error(response, 400, "user")
    response = client.patch(reverse("api-trusted-flagger-detail", args=[other.pk]), {"user": integration.username},
                            format="json")
    assert_error(response, 400, "user")
    assert TrustedFlagger.objects.filter(user=integration).count() == 1


# --------------------------------------------------------------------------- no existence oracle


@pytest.mark.parametrize("url_name,data", [
    ("api-case-notes", {"body": "hello"}),
    ("api-case-evidence", {"text": "pasted"}),
    ("api-case-hold", {"reason": "help", "team": "t"}),
    ("api-case-resolve", {"reason": "fine"}),
    ("api-case-release", {}),
    ("api-case-resume", {}),
    ("api-case-handoff", {"to": "lee"}),
    ("api-case-escalate", {"severity": "sev2", "team": "leads", "summary": "x"}),
    ("api-case-decide", {"actions": [{"type": "warn"}], "rationale": "r"}),
])
def test_another_teams_case_answers_exactly_like_a_missing_one(api_as, analyst, url_name, data):
    reserved = QueueFactory(slug="legal-only")
    reserved.allowed_teams.add(TeamFactory(slug="legal-team"))
    hidden = CaseFactory(queue=reserved, status=CaseStatus.IN_REVIEW, assignee=UserFactory())
    missing_id = hidden.pk + 1000
    client = api_as(analyst)
    hidden_answer = client.post(reverse(url_name, args=[hidden.pk]), data, format="json")
    missing_answer = client.post(reverse(url_name, args=[missing_id]), data, format="json")
    assert_error(hidden_answer, 404)
    assert_error(missing_answer, 404)
    assert hidden_answer.json()["detail"].replace(str(hidden.pk), "N") == \
        missing_answer.json()["detail"].replace(str(missing_id), "N")
    assert client.get(reverse("api-case-detail", args=[hidden.pk])).json()["detail"].replace(str(hidden.pk), "N") \
        == hidden_answer.json()["detail"].replace(str(hidden.pk), "N")


# --------------------------------------------------------------------------- control characters


def test_nul_in_a_subject_path_is_400(api_as, integration):
    response = api_as(integration).get("/api/v1/subjects/account/a%00b/")
    assert_error(response, 400, "external_id")


def test_control_characters_are_refused_in_lines_and_free_text_keeps_tabs_and_newlines(api_as, analyst):
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    client = api_as(analyst)
    notes = reverse("api-case-notes", args=[case.pk])
    assert_error(client.post(notes, {"body": "bell \x07 here"}, format="json"), 400, "body")
    assert_error(client.post(notes, {"body": "nul \x00 here"}, format="json"), 400, "body")
    assert client.post(notes, {"body": "line one\n\tline two\r\n"}, format="json").status_code == 201
    handoff = reverse("api-case-handoff", args=[case.pk])
    assert_error(client.post(handoff, {"to": "a\tb"}, format="json"), 400, "to")


def test_control_characters_in_configuration_fields(api_as, lead, admin_user):
    assert_error(api_as(lead).post(reverse("api-queues"), {"slug": "q", "name": "Q\x1b[31m"}, format="json"),
                 400, "name")
    assert_error(api_as(admin_user).post(reverse("api-trusted-flaggers"), {
        "name": "F\x00", "awarding_authority": "DSC"}, format="json"), 400, "name")


# --------------------------------------------------------------------------- one error shape


def test_missing_or_bad_token_is_401_with_www_authenticate(api_client):
    response = api_client.get(reverse("api-cases"))
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api_client.get(reverse("api-cases"))
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_every_error_status_has_the_one_shape(api_as, api_client, analyst, support_agent):
    client = api_as(analyst)
    assert_error(client.get("/api/v1/cases/-1/"), 404)  # Django's 404: the path converter refuses -1
    assert_error(client.get("/api/v1/no-such-endpoint/"), 404)
    assert_error(client.get(reverse("api-case-detail", args=[10**6])), 404)
    assert_error(client.delete(reverse("api-cases")), 405)
    assert_error(client.post(reverse("api-reports"), {"source": "user_report"}), 415)
    case = workflow.case_claim(case=CaseFactory(), actor=analyst)
    assert_error(client.post(reverse("api-case-resume", args=[case.pk]), {}, format="json"), 409)
    body = assert_error(client.post(reverse("api-case-hold", args=[case.pk]), {"reason": "x"}, format="json"),
                        400, "helper")
    assert "helper" in body["detail"]
    assert_error(api_as(support_agent).get(reverse("api-cases")), 403)


def test_throttled_answers_have_the_shape():
    response = exception_handler(Throttled(wait=30), {})
    assert response.status_code == 429 and response["Retry-After"] == "30"
    assert set(response.data) == {"detail", "errors"} and "30 seconds" in response.data["detail"]


# --------------------------------------------------------------------------- deployment check


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # The suite's own environment relaxes the HTTPS-only settings; production leaves them at their defaults.
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECRET_KEY", "DEBUG", "TSCONSOLE_DEMO", "DJANGO_ALLOW_ASYNC_UNSAFE"}
           and not k.startswith("SECURE_")}
    env.update({"SECRET_KEY": "k" * 40 + "-production-like-secret-%$#@!", "DEBUG": "0",
                "ALLOWED_HOSTS": "tsconsole.example.com", "SITE_URL": "https://tsconsole.example.com",
                "TSCONSOLE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tsconsole.settings"})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("path", [
    "/api/v1/cases/99999999999999999999999/",
    "/api/v1/escalations/99999999999999999999999/",
    "/api/v1/routing-rules/99999999999999999999999/",
])
def test_ids_beyond_the_id_column_are_404(api_as, admin_user, path):
    assert_error(api_as(admin_user).get(path), 404)


@pytest.mark.parametrize("url_name", ["api-case-notes", "api-case-decide", "api-case-escalate"])
def test_posting_to_an_id_beyond_the_id_column_is_404(api_as, lead, url_name):
    assert_error(api_as(lead).post(reverse(url_name, args=[10**22]), {"body": "x"}, format="json"), 404)
