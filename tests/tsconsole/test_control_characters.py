"""Control characters in page input (NUL above all, which PostgreSQL cannot store) answer 400
with a message naming the field, never a 500, and nothing is written."""

import pytest
from django.urls import reverse

from cases.models import CaseEvent, CaseStatus, Escalation, Note
from tests.factories import CaseFactory, QueueFactory, TeamFactory
from tsconsole import roles
from tsconsole.validators import NoControlCharacters, control_character

pytestmark = pytest.mark.django_db

NUL = "a\x00b"


@pytest.fixture
def worked_case(analyst):
    return CaseFactory(queue=QueueFactory(slug="general"), status=CaseStatus.IN_REVIEW, assignee=analyst)


POSTS = {
    "note": ("case-note-add", {"body": NUL}),
    "release": ("case-release", {"reason": NUL}),
    "priority": ("case-priority", {"priority": "1", "reason": NUL}),
    "category": ("case-category", {"category": "spam", "reason": NUL}),
    "tags": ("case-tags", {"tags": NUL}),
    "hold": ("case-hold", {"helper": NUL, "reason": "need help"}),
    "hold-reason": ("case-hold", {"helper": "helen", "reason": NUL}),
    "handoff": ("case-handoff", {"to": NUL, "reason": "shift end"}),
    "handoff-reason": ("case-handoff", {"to": "helen", "reason": NUL}),
    "resolve": ("case-resolve", {"reason": NUL}),
    "escalate": ("case-escalate", {"severity": "sev2", "team": "legal", "summary": NUL}),
    "escalate-ids": ("case-escalate", {"severity": "sev2", "team": NUL, "summary": "x", "impacted_ids": NUL}),
    "decide": ("enforcement-decide", {"act_warn": "on", "rationale": NUL, "statement": "x"}),
    "evidence-text": ("case-evidence-add", {"text": NUL, "description": "d"}),
}


@pytest.mark.parametrize("name", POSTS)
@pytest.mark.parametrize("htmx", [False, True])
def test_case_page_forms_refuse_nul_with_400(client, analyst, worked_case, make_user, name, htmx):
    make_user(roles.ANALYST, username="helen")
    TeamFactory(slug="legal")
    client.force_login(analyst)
    url_name, data = POSTS[name]
    events = CaseEvent.objects.count()
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(reverse(url_name, args=[worked_case.pk]), data, **extra)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert CaseEvent.objects.count() == events
    assert not Note.objects.exists() and not Escalation.objects.exists()
    worked_case.refresh_from_db()
    assert worked_case.status == CaseStatus.IN_REVIEW and worked_case.assignee_id == analyst.pk


@pytest.mark.parametrize(
    ("user_fixture", "url"),
    [
        ("analyst", "/search/?q=a%00b"),
        ("analyst", "/cases/?assignee=a%00b"),
        ("analyst", "/cases/?tag%00=1&tag=a%00b"),
        ("analyst", "/escalations/?after=a%00b"),
        ("lead", "/support/lookup/?q=a%00b"),
        ("admin_user", "/deliveries/?topic=a%00b"),
        ("admin_user", "/admin/cases/case/?q=a%00b"),
        ("admin_user", "/admin/auth/user/?q=a%1bb"),
        ("analyst", "/cases/1%00/"),
    ],
)
def test_free_text_query_parameters_refuse_control_characters(client, request, user_fixture, url):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get(url)
    assert response.status_code == 400
    assert "Remove it and try again" in response.content.decode()


def test_login_form_refuses_nul_in_the_username(client):
    response = client.post(reverse("login"), {"username": NUL, "password": "x"})
    assert response.status_code == 400


def test_tab_and_line_breaks_stay_allowed_in_free_text(client, analyst, worked_case):
    client.force_login(analyst)
    response = client.post(reverse("case-note-add", args=[worked_case.pk]), {"body": "line one\r\n\tline two"})
    assert response.status_code == 302
    assert Note.objects.get().body == "line one\r\n\tline two"


def test_the_shared_rule():
    assert control_character("tab\tnew\nline\r") is None
    assert control_character("tab\t", multiline=False) == "\t"
    assert control_character("esc\x1b") == "\x1b"
    assert control_character("c1\x85") == "\x85"
    assert control_character("emoji 🙂 and ünïcode") is None
    with pytest.raises(Exception, match="NUL"):
        NoControlCharacters()("a\x00")
