"""The API's per-request plumbing: token authentication in one prepared query (with the roles), the
orjson renderer writing DRF's bytes, and the orjson parser deferring to the json module."""

import datetime as dt
import decimal
import json
import uuid

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from tsconsole import roles
from tsconsole.api_parsers import JSONParser
from tsconsole.api_renderers import JSONRenderer

pytestmark = pytest.mark.django_db
CATEGORIES = "/api/v1/categories/"


def token_client(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api_client


def test_token_user_and_roles_are_one_query(api_client, integration):
    client = token_client(api_client, integration)
    client.get(CATEGORIES)  # the statement is prepared on the connection's first use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CATEGORIES)
    assert response.status_code == 200
    # the token with its user and roles, then the list itself
    assert len(queries.captured_queries) == 2, [q["sql"][:80] for q in queries.captured_queries]
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE tsconsole_api_token")


def test_a_role_taken_away_counts_on_the_next_request(api_client, integration):
    client = token_client(api_client, integration)
    assert client.get(CATEGORIES).status_code == 200
    integration.groups.remove(Group.objects.get(name=roles.INTEGRATION))
    response = client.get(CATEGORIES)
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role does not allow this (taxonomy.view)."


def test_bad_tokens_and_inactive_users_get_drfs_401(api_client, integration):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api_client.get(CATEGORIES)
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token.", "errors": {}})
    assert response["WWW-Authenticate"] == "Token"
    client = token_client(api_client, integration)
    integration.is_active = False
    integration.save()
    response = client.get(CATEGORIES)
    assert (response.status_code, response.json()["detail"]) == (401, "User inactive or deleted.")


def test_the_authenticated_request_carries_the_user_and_the_token(api_client, lead):
    token = Token.objects.create(user=lead)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/queues/")
    assert response.status_code == 200
    assert not any("auth_user_groups" in q["sql"] and "EXECUTE" not in q["sql"] and "PREPARE" not in q["sql"]
                   for q in queries.captured_queries), "roles were read again"


@pytest.mark.parametrize("data", [
    {"at": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), "day": dt.date(2026, 1, 2),
     "time": dt.time(3, 4, 5, 600000), "span": dt.timedelta(hours=1)},
    {"amount": decimal.Decimal("1.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
     "lazy": gettext_lazy("Invalid token."), "nested": [{"a": None, "b": True, "c": 1.25}], 3: "int key"},
    {"text": "line\u2028separator\u2029and “quotes” é", "empty": [], "big": 2**70},
    [1, "two", None], None,
])
def test_the_renderer_writes_drfs_bytes(data):
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_the_renderer_honours_an_indent_asked_for():
    data = {"a": [1, 2]}
    media = "application/json; indent=2"
    assert JSONRenderer().render(data, media, {}) == DrfJSONRenderer().render(data, media, {})


class _Stream:
    def __init__(self, raw: bytes):
        self.raw = raw

    def read(self, size=-1):
        return self.raw


@pytest.mark.parametrize("raw", [
    b'{"a": [1, 2.5, "x"], "b": null}', b'{"big": 123456789012345678901234567890}', b'"\\ud800"',
    b'\xef\xbb\xbf{"bom": true}', b'{"e": 1e400}', b' 12345678901234567890123', b'[-9223372036854775809]',
])
def test_the_parser_reads_what_the_json_module_reads(raw):
    expected = json.loads(raw)
    assert JSONParser().parse(_Stream(raw)) == expected


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not json", "JSON parse error - Expecting property name enclosed in double quotes"),
    (b'{"score": NaN}', "NaN is not valid JSON"),
    (b"[" * 40 + b"]" * 40, "nests deeper than 32 levels"),
])
def test_the_parser_refuses_with_the_json_modules_messages(raw, message):
    with pytest.raises(ParseError) as refused:
        JSONParser().parse(_Stream(raw))
    assert message in str(refused.value.detail)
