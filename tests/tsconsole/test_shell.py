"""The console shell: login, rate limiting, home per role, the token API, schema and docs."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import CaseFactory, NotificationFactory, QueueFactory, TeamFactory, TeamMembershipFactory
from tsconsole import roles

pytestmark = pytest.mark.django_db


def test_login_page_renders_without_any_external_asset(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


def test_demo_user_can_sign_in(client, make_user):
    make_user(roles.ANALYST, username="analyst")
    response = client.post(reverse("login"), {"username": "analyst", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_login_is_rate_limited(client, make_user, settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = 3
    make_user(roles.ANALYST, username="target")
    for _ in range(3):
        client.post(reverse("login"), {"username": "target", "password": "nope"})
    response = client.post(reverse("login"), {"username": "target", "password": "pw"})
    assert response.status_code == 200
    assert "Too many sign-in attempts" in response.content.decode()


def test_navigation_shows_only_what_the_role_may_use(client, support_agent, lead):
    client.force_login(support_agent)
    html = client.get(reverse("home")).content.decode()
    assert 'data-nav="system-health"' not in html
    client.force_login(lead)
    html = client.get(reverse("home")).content.decode()
    assert 'data-nav="system-health"' in html


def test_home_shows_open_case_counts_to_case_workers_only(client, analyst, support_agent):
    queue = QueueFactory(name="Harassment review")
    CaseFactory.create_batch(3, queue=queue)
    client.force_login(analyst)
    assert "Harassment review" in client.get(reverse("home")).content.decode()
    client.force_login(support_agent)
    assert "Harassment review" not in client.get(reverse("home")).content.decode()


def test_unread_notifications_show_a_badge_until_read(client, analyst):
    NotificationFactory(user=analyst, title="Escalation needs you")
    client.force_login(analyst)
    assert 'data-testid="unread-badge"' in client.get(reverse("home")).content.decode()
    client.post(reverse("notifications-read"))
    assert 'data-testid="unread-badge"' not in client.get(reverse("home")).content.decode()


def test_the_unread_badge_counts_to_99_then_says_99_plus(client, analyst):
    from tsconsole.models import Notification

    NotificationFactory.create_batch(99, user=analyst)
    client.force_login(analyst)
    assert '<span class="badge" data-testid="unread-badge">99</span>' in client.get(reverse("home")).content.decode()
    NotificationFactory(user=analyst)
    assert '<span class="badge" data-testid="unread-badge">99+</span>' in client.get(reverse("home")).content.decode()
    assert Notification.objects.filter(user=analyst, read_at__isnull=True).count() == 100


def test_token_endpoint_exchanges_credentials(api_client, make_user):
    user = make_user(roles.INTEGRATION, username="platform-bot")
    response = api_client.post(reverse("api-token"), {"username": "platform-bot", "password": "pw"}, format="json")
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key
    again = api_client.post(reverse("api-token"), {"username": "platform-bot", "password": "pw"}, format="json")
    assert again.json()["token"] == response.json()["token"]


def test_token_endpoint_refuses_bad_credentials_with_a_message(api_client):
    response = api_client.post(reverse("api-token"), {"username": "x", "password": "y"}, format="json")
    assert response.status_code == 400
    assert "wrong password" in response.json()["detail"]
    missing = api_client.post(reverse("api-token"), {}, format="json")
    assert missing.status_code == 400 and "username" in missing.json()["errors"]


def test_token_authenticates_api_calls(api_client, make_user):
    user = make_user(roles.INTEGRATION, username="bot")
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.get(reverse("api-categories"))
    assert response.status_code == 200
    assert any(row["slug"] == "csam" for row in response.json())


def test_openapi_schema_and_local_swagger_ui(client, analyst):
    client.force_login(analyst)
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()


def test_healthz_answers_ok(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.content == b"ok"


def test_home_counts_only_the_queues_the_user_may_work(client, analyst, lead):
    legal = TeamFactory(slug="legal-team")
    child_safety = QueueFactory(name="Child safety review")
    child_safety.allowed_teams.add(legal)
    CaseFactory.create_batch(2, queue=child_safety)
    CaseFactory(queue=QueueFactory(name="Spam review"))
    client.force_login(analyst)
    html = client.get(reverse("home")).content.decode()
    assert "Spam review" in html
    assert "Child safety review" not in html
    # A member of the allowed team, and a lead (who works every queue), see it.
    TeamMembershipFactory(team=legal, user=analyst)
    assert "Child safety review" in client.get(reverse("home")).content.decode()
    client.force_login(lead)
    assert "Child safety review" in client.get(reverse("home")).content.decode()
