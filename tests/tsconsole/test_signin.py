"""Sign-in throttling: per account and per client address, on the login form and the token endpoint."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tsconsole import roles, signin

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = 3
    settings.LOGIN_ADDRESS_RATE_LIMIT = 5
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


def token(api_client, username, password, **extra):
    return api_client.post(reverse("api-token"), {"username": username, "password": password}, format="json", **extra)


def login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_token_endpoint_is_not_escaped_by_a_new_forwarded_for_each_try(api_client, make_user, limits):
    make_user(roles.INTEGRATION, username="platform-bot")
    for i in range(3):
        response = token(api_client, "platform-bot", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        assert response.status_code == 400
    response = token(api_client, "platform-bot", "pw", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.json()["detail"]
    assert "Retry-After" in response


def test_token_endpoint_locks_the_account_whatever_the_address(api_client, make_user, limits):
    make_user(roles.INTEGRATION, username="platform-bot")
    for i in range(3):
        token(api_client, "platform-bot", "wrong", REMOTE_ADDR=f"203.0.113.{i}")
    assert token(api_client, "platform-bot", "pw", REMOTE_ADDR="203.0.113.200").status_code == 429


def test_token_endpoint_throttles_an_address_spraying_many_accounts(api_client, make_user, limits):
    make_user(roles.INTEGRATION, username="platform-bot")
    for i in range(5):
        assert token(api_client, f"guess{i}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code == 400
    assert token(api_client, "platform-bot", "pw").status_code == 429
    # Another address is not affected.
    assert token(api_client, "platform-bot", "pw", REMOTE_ADDR="192.0.2.10").status_code == 200


def test_login_form_counts_a_full_width_username_as_the_same_account(client, make_user, limits):
    make_user(roles.ANALYST, username="analyst2")
    for _ in range(3):
        login(client, "analyst2", "wrong")
    for name in ("\uff41nalyst2", "ANALYST2"):  # full-width a; another case
        response = login(client, name, "pw", REMOTE_ADDR="192.0.2.77")
        assert response.status_code == 200, name
        assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_form_and_token_endpoint_share_one_budget(client, api_client, make_user, limits):
    make_user(roles.ANALYST, username="analyst2")
    for _ in range(3):
        token(api_client, "analyst2", "wrong")
    response = login(client, "analyst2", "pw")
    assert response.status_code == 200 and "Too many sign-in attempts" in response.content.decode()


def test_login_form_throttles_per_address_with_new_forwarded_for(client, make_user, limits):
    make_user(roles.ANALYST, username="analyst2")
    for i in range(5):
        login(client, f"nobody{i}", "wrong", HTTP_X_FORWARDED_FOR=f"10.1.0.{i}")
    response = login(client, "analyst2", "pw", HTTP_X_FORWARDED_FOR="10.1.0.99")
    assert response.status_code == 200 and "Too many sign-in attempts" in response.content.decode()


def test_lockout_message_does_not_reveal_whether_the_account_exists(client, make_user, limits):
    make_user(roles.ANALYST, username="real-user")
    pages = {}
    for username in ("real-user", "ghost-user"):
        for _ in range(3):
            login(client, username, "wrong", REMOTE_ADDR=f"192.0.2.{len(pages) + 1}")
        pages[username] = login(client, username, "wrong", REMOTE_ADDR=f"192.0.2.{len(pages) + 1}")
    real, ghost = (
        re.sub(r"[A-Za-z0-9]{64}", "CSRF", pages[u].content.decode().replace(u, "USER")) for u in ("real-user", "ghost-user")
    )
    assert "Too many sign-in attempts" in real
    assert real == ghost


def test_success_clears_the_account_count(client, make_user, limits):
    make_user(roles.ANALYST, username="analyst2")
    for _ in range(2):
        login(client, "analyst2", "wrong")
    assert login(client, "analyst2", "pw").status_code == 302
    client.logout()
    for _ in range(2):
        login(client, "analyst2", "wrong")
    assert login(client, "analyst2", "pw").status_code == 302


def test_behind_trusted_proxies_the_client_is_the_nth_entry_from_the_right(api_client, make_user, limits):
    limits.TRUSTED_PROXY_COUNT = 1
    make_user(roles.INTEGRATION, username="platform-bot")
    # The client writes anything it likes on the left; the proxy appends the real address.
    for i in range(5):
        token(api_client, f"guess{i}", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 198.51.100.7")
    assert token(api_client, "platform-bot", "pw", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7").status_code == 429
    assert token(api_client, "platform-bot", "pw", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_ipv6_addresses_count_per_64(api_client, make_user, limits):
    make_user(roles.INTEGRATION, username="platform-bot")
    for i in range(5):
        token(api_client, f"guess{i}", "wrong", REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}")
    assert token(api_client, "platform-bot", "pw", REMOTE_ADDR="2001:db8:1:2:ffff::1").status_code == 429
    assert token(api_client, "platform-bot", "pw", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.1", "192.0.2.1"),
        (1, "192.0.2.1", "10.0.0.1, 198.51.100.2", "198.51.100.2"),
        (2, "192.0.2.1", "10.0.0.1, 198.51.100.2, 203.0.113.3", "198.51.100.2"),
        (2, "192.0.2.1", "198.51.100.2", "192.0.2.1"),  # fewer hops than proxies: the socket
        (1, "192.0.2.1", "not-an-ip", "192.0.2.1"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert signin.client_address(request) == expected


def test_address_key_and_username_normalisation():
    assert signin.address_key("2001:db8::1") == signin.address_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert signin.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert signin.normalise_username("\uff41nalyst2") == signin.normalise_username("Analyst2 ") == "analyst2"


def test_the_admin_login_shares_the_budget(client, make_user, limits):
    """Anonymous visitors are sent to the console's login, but a signed-in analyst reaches the
    admin's own form and could try an admin's password there: it spends the same budget."""
    root = make_user(roles.ADMIN, username="root", is_staff=True, is_superuser=True)
    client.force_login(make_user(roles.ANALYST, username="curious"))
    for _ in range(3):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "root", "password": "pw"})
    assert response.status_code == 200 and "Too many sign-in attempts" in response.content.decode()
    assert client.session["_auth_user_id"] != str(root.pk)


def test_a_lockout_is_audited_once(client, make_user, limits):
    from tsconsole.models import AuditEntry

    make_user(roles.ANALYST, username="analyst2")
    for _ in range(6):
        login(client, "\uff41nalyst2", "wrong")
    entry = AuditEntry.objects.get(verb="signin.locked_account")
    assert entry.object_ref == "analyst2" and entry.data["address"] == "127.0.0.1" and entry.actor is None
    assert AuditEntry.objects.filter(verb="signin.locked_address").count() == 1  # 6th try passed the address limit


def test_slash_login_leads_to_the_sign_in_form_and_then_home(client, make_user):
    make_user(roles.ANALYST, username="typed-login")
    response = client.get("/login/")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    response = client.post(reverse("login"), {"username": "typed-login", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get("/login/", follow=True).redirect_chain[-1][0] == reverse("home")
    assert client.get("/login/?next=/cases/")["Location"] == reverse("login") + "?next=/cases/"


def test_the_icon_is_found_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
