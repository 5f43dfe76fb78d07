"""The OpenAPI schema tells the truth, and Schemathesis holds the server to it.

Schemathesis generates requests for every operation of the schema the server publishes and sends
each one with every role's token (analyst, lead, QA reviewer, support agent, admin, integration)
through the WSGI application. A run fails on any server error, any status the operation does not
document, and any response (body or content type) that does not match its documented schema.

Requests are both valid (the server must accept or refuse them with a documented status) and
invalid (the server must refuse them with a documented 4xx). The run is bounded so that it fits
`make test`: a fixed seed (derandomized Hypothesis) and SCHEMATHESIS_MAX_EXAMPLES examples per
operation (default 8), each sent six times, once per role: 41 operations, 328 cases, 1,968
requests, about two minutes on two busy cores.
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases.models import CaseStatus
from cases.services import workflow
from tests.factories import (
    CaseFactory,
    EscalationFactory,
    QueueFactory,
    QueueSlaFactory,
    RoutingRuleFactory,
    TeamFactory,
    TeamMembershipFactory,
    TrustedFlaggerFactory,
    user_with_role,
)
from tsconsole import roles

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def published_schema() -> dict:
    """The schema exactly as GET /api/v1/schema/ serves it, as plain JSON."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


@pytest.fixture
def wsgi_app():
    """The WSGI application, minus what only a server wants: closing the database connection at the
    end of each request would close the test's transaction (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def role_tokens(db):
    """One user and token per role, and a small world for ids to hit: queues with SLA targets, cases
    in several states, an escalation, a routing rule and a trusted flagger."""
    users = {role: user_with_role(role, username=f"contract-{role}") for role in roles.ROLES}
    team = TeamFactory(slug="contract-team")
    TeamMembershipFactory(team=team, user=users[roles.ANALYST], oncall_order=1)
    queue = QueueFactory(slug="contract-q")
    QueueSlaFactory(queue=queue, priority=2, first_touch_minutes=60, resolution_minutes=240)
    for _ in range(3):
        CaseFactory(queue=queue)
    workflow.case_claim(case=CaseFactory(queue=queue), actor=users[roles.ANALYST])
    EscalationFactory(team=team, case=CaseFactory(queue=queue, status=CaseStatus.ESCALATED))
    RoutingRuleFactory(queue=queue, name="contract rule")
    TrustedFlaggerFactory(name="Contract flagger")
    return {role: Token.objects.create(user=user).key for role, user in users.items()}


# Fuzzing only (positive and negative), deterministic: the coverage phase's boundary cases per parameter, times six roles,
# would take many minutes on two cores; the stateful phase needs links the schema does not declare.
CONFIG = SchemathesisConfig.from_dict({
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all"},
})
# Built at collection (pytest-django has set Django up by then).
schema = schemathesis.openapi.from_dict(published_schema(), config=CONFIG)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract_for_every_role(case, role_tokens, wsgi_app):
    for role, token in role_tokens.items():
        try:
            case.call_and_validate(app=wsgi_app, headers={"Authorization": f"Token {token}"}, checks=CHECKS)
        except Exception as exc:
            exc.add_note(f"Sent with the {role} role's token.")
            raise


def test_the_schema_states_the_servers_rules():
    """Spot checks of what Schemathesis cannot see for itself: errors, nullability, strict requests."""
    spec = published_schema()
    components = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "503" in responses, (method, path)
            if operation.get("security") and {} not in operation["security"]:
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= set(responses), (method, path)
    assert components["Error"]["required"] == ["detail", "errors"]
    for component, field in [("Case", "held_for"), ("Case", "resolved_by"), ("Case", "assignee"),
                             ("Action", "reviewer"), ("Category", "parent"), ("Escalation", "acknowledged_by")]:
        assert components[component]["properties"][field].get("nullable") is True, (component, field)
    assert components["DecideRequest"]["properties"]["actions"]["minItems"] == 1
    # The control-character rule is in the schema as a pattern.
    assert "pattern" in components["CaseNoteInputRequest"]["properties"]["body"]
    assert "pattern" in components["CaseHandoffInputRequest"]["properties"]["to"]
