"""The Deliveries page: filtered keyset list, detail, and retrying dead letters (admins only, audited)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import OutboxMessageFactory, WebhookEndpointFactory
from tsconsole import outbox, roles
from tsconsole.models import AuditEntry, OutboxMessage

from .outbox_receiver import Receiver

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/deliveries/(\d+)/"', html)]


def _bulk(n, **kwargs):
    endpoint = kwargs.pop("endpoint", None) or WebhookEndpointFactory()
    now = timezone.now()
    OutboxMessage.objects.bulk_create([
        OutboxMessage(topic=kwargs.get("topic", "enforcement.applied"), channel=kwargs.get("channel", "webhook"),
                      endpoint=endpoint, payload={"n": i}, idempotency_key=f"bulk-{kwargs.get('topic', '')}-{i}",
                      status=kwargs.get("status", Status.DELIVERED), next_attempt_at=now, attempts=1)
        for i in range(n)
    ])
    return list(OutboxMessage.objects.order_by("-id").values_list("id", flat=True))


def test_the_list_shows_deliveries_newest_first_with_their_state(admin_client):
    dead = OutboxMessageFactory(topic="enforcement.applied", status=Status.DEAD, attempts=8,
                                last_error="Gave up after 8 attempts. Last error: HTTP 500")
    pending = OutboxMessageFactory(topic="report.outcome", attempts=2, last_error="HTTP 502")
    response = admin_client.get(reverse("outbox-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert _ids(html) == [pending.pk, dead.pk]
    assert "Gave up after 8 attempts" in html and "1 dead" in html and "1 pending" in html
    assert 'data-nav="outbox-list"' in html


@pytest.mark.parametrize("query,expected", [
    ({"status": "dead"}, {"dead-applied", "dead-slack"}),
    ({"status": "pending"}, {"pending-outcome"}),
    ({"topic": "report.outcome"}, {"pending-outcome", "delivered-outcome"}),
    ({"channel": "slack"}, {"dead-slack"}),
    ({"status": "dead", "channel": "webhook", "topic": "enforcement.applied"}, {"dead-applied"}),
])
def test_filters(admin_client, query, expected):
    OutboxMessageFactory(idempotency_key="dead-applied", topic="enforcement.applied", status=Status.DEAD)
    OutboxMessageFactory(idempotency_key="dead-slack", topic="sla.breach", status=Status.DEAD, channel="slack",
                         endpoint=None, recipient="https://hooks.example.org/services/T000/SECRET")
    OutboxMessageFactory(idempotency_key="pending-outcome", topic="report.outcome")
    OutboxMessageFactory(idempotency_key="delivered-outcome", topic="report.outcome", status=Status.DELIVERED)
    html = admin_client.get(reverse("outbox-list"), query).content.decode()
    shown = set(OutboxMessage.objects.filter(pk__in=_ids(html)).values_list("idempotency_key", flat=True))
    assert shown == expected
    assert "SECRET" not in html  # chat webhook URLs carry their token: only the host is shown


def test_keyset_pages_are_disjoint_complete_and_cost_the_same(admin_client, django_assert_max_num_queries):
    ids = _bulk(120)
    with django_assert_max_num_queries(7):
        first = admin_client.get(reverse("outbox-list")).content.decode()
    assert _ids(first) == ids[:50]
    older = re.search(r'href="(\?before=\d+)"', first).group(1)
    second = admin_client.get(reverse("outbox-list") + older).content.decode()
    assert _ids(second) == ids[50:100]
    older = re.search(r'href="(\?before=\d+)"', second).group(1)
    with django_assert_max_num_queries(7):
        third = admin_client.get(reverse("outbox-list") + older).content.decode()
    assert _ids(third) == ids[100:]
    assert 'data-testid="older"' not in third and "Newest" in third


def test_paging_keeps_the_filters(admin_client):
    _bulk(60, status=Status.DEAD, topic="a")
    _bulk(5, status=Status.DEAD, topic="b")
    first = admin_client.get(reverse("outbox-list"), {"status": "dead", "topic": "a"}).content.decode()
    older = re.search(r'href="(\?[^"]*before=\d+)"', first).group(1).replace("&amp;", "&")
    assert "status=dead" in older and "topic=a" in older
    second = admin_client.get(reverse("outbox-list") + older).content.decode()
    assert len(_ids(first)) == 50 and len(_ids(second)) == 10
    assert set(OutboxMessage.objects.filter(pk__in=_ids(second)).values_list("topic", flat=True)) == {"a"}


def test_an_htmx_request_gets_only_the_table(admin_client):
    OutboxMessageFactory()
    html = admin_client.get(reverse("outbox-list"), HTTP_HX_REQUEST="true").content.decode()
    assert "<table" in html and "<html" not in html


def test_bad_filters_are_a_400_with_the_reason(admin_client):
    response = admin_client.get(reverse("outbox-list"), {"status": "lost", "before": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html and "Enter a whole number" in html


def test_the_detail_shows_payload_body_attempts_and_last_error(admin_client):
    endpoint = WebhookEndpointFactory(name="Platform prod", url="https://platform.example.org/tsc", secret="never-shown")
    message = OutboxMessageFactory(endpoint=endpoint, topic="enforcement.applied", payload={"action": {"type": "warn"}},
                                   status=Status.DEAD, attempts=8, last_error="Gave up after 8 attempts. Last error: HTTP 500")
    html = admin_client.get(reverse("outbox-detail", args=[message.pk])).content.decode()
    assert "Platform prod" in html and "https://platform.example.org/tsc" in html
    assert "&quot;type&quot;: &quot;warn&quot;" in html  # pretty payload
    assert outbox.webhook_body(message).decode().replace('"', "&quot;") in html  # the exact body sent
    assert 'data-testid="attempts">8<' in html and "Gave up after 8 attempts" in html
    assert message.idempotency_key in html
    assert "never-shown" not in html
    assert f'action="/deliveries/{message.pk}/retry/"' in html


def test_no_retry_button_unless_dead(admin_client):
    message = OutboxMessageFactory(status=Status.DELIVERED, delivered_at=timezone.now())
    html = admin_client.get(reverse("outbox-detail", args=[message.pk])).content.decode()
    assert "/retry/" not in html


def test_retrying_a_dead_delivery_resets_it_audits_it_and_the_relay_then_delivers(admin_client, admin_user, settings):
    settings.OUTBOX_TIMEOUT_SECONDS = 5
    with Receiver() as receiver:
        message = OutboxMessageFactory(endpoint=WebhookEndpointFactory(url=receiver.url), status=Status.DEAD,
                                       attempts=8, last_error="Gave up after 8 attempts. Last error: HTTP 500",
                                       next_attempt_at=timezone.now() + timedelta(days=1))
        response = admin_client.post(reverse("outbox-retry", args=[message.pk]), follow=True)
        assert "queued again; the relay sends it on its next run" in response.content.decode()
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.PENDING, 0)
        assert message.next_attempt_at <= timezone.now()
        [entry] = AuditEntry.objects.filter(verb="outbox.retry")
        assert entry.actor == admin_user and entry.object_ref == str(message.pk)
        assert entry.data["previous_attempts"] == 8 and "HTTP 500" in entry.data["last_error"]
        assert outbox.outbox_relay() == {"delivered": 1}
    assert receiver.keys() == [message.idempotency_key]


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != roles.ADMIN])
def test_only_admins_may_retry(client, make_user, role):
    message = OutboxMessageFactory(status=Status.DEAD, attempts=8)
    client.force_login(make_user(role))
    assert client.post(reverse("outbox-retry", args=[message.pk])).status_code == 403
    assert client.post(reverse("outbox-retry-dead")).status_code == 403
    message.refresh_from_db()
    assert message.status == Status.DEAD and not AuditEntry.objects.exists()


def test_retrying_a_message_that_is_not_dead_is_refused(admin_client):
    message = OutboxMessageFactory(attempts=3)
    response = admin_client.post(reverse("outbox-retry", args=[message.pk]), follow=True)
    assert "Only dead deliveries can be retried; this one is pending." in response.content.decode()
    message.refresh_from_db()
    assert message.attempts == 3 and not AuditEntry.objects.exists()


def test_retrying_toward_an_inactive_endpoint_is_refused_with_the_fix(admin_client):
    message = OutboxMessageFactory(endpoint=WebhookEndpointFactory(name="Old hook", is_active=False),
                                   status=Status.DEAD, attempts=1)
    detail = admin_client.get(reverse("outbox-detail", args=[message.pk])).content.decode()
    assert "is inactive; activate it in the admin first" in detail and "/retry/" not in detail
    response = admin_client.post(reverse("outbox-retry", args=[message.pk]), follow=True)
    assert "Retrying would fail again" in response.content.decode()
    message.refresh_from_db()
    assert message.status == Status.DEAD


def test_retrying_an_unknown_delivery_is_a_404(admin_client):
    assert admin_client.post(reverse("outbox-retry", args=[999999])).status_code == 404


def test_retry_all_dead_of_a_topic(admin_client, admin_user):
    a1 = OutboxMessageFactory(topic="a", status=Status.DEAD, attempts=8)
    a2 = OutboxMessageFactory(topic="a", status=Status.DEAD, attempts=8, channel="email", endpoint=None,
                              recipient="x@example.org")
    stuck = OutboxMessageFactory(topic="a", status=Status.DEAD, endpoint=WebhookEndpointFactory(is_active=False))
    other = OutboxMessageFactory(topic="b", status=Status.DEAD)
    delivered = OutboxMessageFactory(topic="a", status=Status.DELIVERED)
    response = admin_client.post(reverse("outbox-retry-dead"), {"topic": "a"})
    assert response.status_code == 302 and "status=dead" in response["Location"] and "topic=a" in response["Location"]
    status = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert [status[m.pk] for m in (a1, a2, stuck, other, delivered)] == [
        Status.PENDING, Status.PENDING, Status.DEAD, Status.DEAD, Status.DELIVERED]
    [entry] = AuditEntry.objects.filter(verb="outbox.retry_dead")
    assert entry.actor == admin_user and entry.data == {"topic": "a", "channel": "", "count": 2}


def test_the_deliveries_nav_item_is_for_admins_only(client, lead, admin_user):
    client.force_login(lead)
    assert 'data-nav="outbox-list"' not in client.get(reverse("home")).content.decode()
    client.force_login(admin_user)
    assert 'data-nav="outbox-list"' in client.get(reverse("home")).content.decode()
