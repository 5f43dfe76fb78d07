"""Every URL, every role, and anonymous: the server refuses what the role may not use."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access_map import CHECKS
from tests.appeals.access_world import AppealWorld
from tests.cases.workspace_world import WorkspaceWorld
from tests.enforcement.access_world import EnforcementWorld
from tests.factories import CaseFactory, EscalationFactory, OutboxMessageFactory, TeamFactory, user_with_role
from tests.qa.access_world import QaWorld
from tsconsole.roles import ROLES

pytestmark = pytest.mark.django_db


def _named_patterns(patterns=None, namespace=None):
    names = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            names |= _named_patterns(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
    return names


def test_every_named_url_is_in_the_access_map():
    missing = _named_patterns() - {check.name for check in CHECKS}
    assert not missing, f"URLs without an access rule in tests/access_map.py: {sorted(missing)}"


@pytest.fixture
def world(db):
    """Objects that URLs with arguments point at."""

    class World:
        case = CaseFactory()
        outbox_message = OutboxMessageFactory()
        workspace = WorkspaceWorld(case)
        escalation = EscalationFactory()
        enforcement = EnforcementWorld()
        qa = QaWorld()
        leads_team = TeamFactory(slug="leads")  # api-case-escalate sends to it
        appeals = AppealWorld()

    return World


def _request(client, check, path):
    method = getattr(client, check.method)
    if check.method == "post" and check.api:
        return method(path, check.data, format="json") if hasattr(client, "force_authenticate") else method(
            path, check.data, content_type="application/json")
    return method(path, check.data)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_anonymous_is_sent_to_login_or_refused(client, world, check):
    response = _request(client, check, check.path(world))
    if check.public:
        assert response.status_code < 500
    elif check.api:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_role_access(client, world, check, role):
    user = user_with_role(role, username=f"{role}-walker")
    client.force_login(user)
    response = _request(client, check, check.path(world))
    if role in check.allowed:
        assert response.status_code < 400 or (check.name == "api-token" and response.status_code == 400), (
            f"{role} should reach {check.name}, got {response.status_code}"
        )
    else:
        assert response.status_code in (403, 404), f"{role} must not reach {check.name}, got {response.status_code}"
