"""The outbox relay: signatures, delivery over real HTTP, retries with backoff, dead letters,
the email / chat / in-app channels, and claims that concurrent relays never share."""

import json
import random
import re
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import OutboxMessageFactory, UserFactory, WebhookEndpointFactory
from tsconsole import outbox, services, tasks
from tsconsole.celery import beat_schedule
from tsconsole.models import Notification, OutboxMessage

from .outbox_receiver import Receiver

Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _relay_settings(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 8
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 60
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 3600
    settings.OUTBOX_TIMEOUT_SECONDS = 5
    settings.OUTBOX_BATCH_SIZE = 5
    settings.OUTBOX_LEASE_SECONDS = 60


def _webhook(url, *, topic="enforcement.applied", payload=None, key=None, **endpoint_kwargs):
    endpoint = WebhookEndpointFactory(url=url, secret="s3cret", **endpoint_kwargs)
    return services.outbox_enqueue(
        topic=topic, channel=OutboxMessage.Channel.WEBHOOK, endpoint=endpoint,
        payload=payload if payload is not None else {"action": {"id": 7, "type": "warn"}},
        idempotency_key=key or f"{topic}:7:ep{endpoint.pk}",
    )


def _make_due(message):
    """Stand-in for waiting out the backoff: the retry becomes due now."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


# --- signatures -------------------------------------------------------------------------------

def test_a_signature_verifies_and_any_change_breaks_it():
    body = b'{"data":{"a":1},"id":1,"topic":"t"}'
    now = time.time()
    ts = str(int(now))
    signature = outbox.signature_for("s3cret", ts, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert outbox.verify_signature(secret="s3cret", body=body, timestamp=ts, signature=signature, now=now)
    assert not outbox.verify_signature(secret="s3cret", body=body.replace(b"1", b"2"), timestamp=ts,
                                       signature=signature, now=now)
    assert not outbox.verify_signature(secret="other", body=body, timestamp=ts, signature=signature, now=now)
    # The timestamp is part of what is signed: replaying the body under a fresh timestamp fails.
    assert not outbox.verify_signature(secret="s3cret", body=body, timestamp=str(int(now) + 1),
                                       signature=signature, now=now)
    assert not outbox.verify_signature(secret="s3cret", body=body, timestamp=ts, signature="", now=now)
    assert not outbox.verify_signature(secret="s3cret", body=body, timestamp="yesterday", signature=signature)


def test_a_stale_or_future_timestamp_is_refused_even_with_a_valid_signature():
    body = b"{}"
    sent_at = 1_700_000_000
    signature = outbox.signature_for("k", sent_at, body)
    check = lambda now: outbox.verify_signature(  # noqa: E731
        secret="k", body=body, timestamp=str(sent_at), signature=signature, now=now)
    assert check(sent_at + outbox.SIGNATURE_TOLERANCE_SECONDS)
    assert not check(sent_at + outbox.SIGNATURE_TOLERANCE_SECONDS + 1)
    assert not check(sent_at - outbox.SIGNATURE_TOLERANCE_SECONDS - 1)


@pytest.mark.django_db
def test_the_webhook_body_is_compact_sorted_and_the_same_on_every_attempt():
    message = OutboxMessageFactory(payload={"z": 1, "a": {"y": "é", "b": 2}})
    body = outbox.webhook_body(message)
    assert body == outbox.webhook_body(OutboxMessage.objects.get(pk=message.pk))
    assert b" " not in body and "é".encode() in body
    assert json.loads(body) == {"id": message.pk, "topic": "test.event",
                                "created_at": message.created_at.isoformat(), "data": {"a": {"b": 2, "y": "é"}, "z": 1}}
    assert body.index(b'"created_at"') < body.index(b'"data"') < body.index(b'"id"') < body.index(b'"topic"')


# --- backoff ----------------------------------------------------------------------------------

def test_backoff_doubles_per_attempt_is_capped_and_jittered(settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 100
    rng = random.Random(5)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (6, 100), (60, 100)]:
        delays = [outbox.backoff_seconds(attempts, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempts, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 4  # really spread, not a fixed delay


# --- webhook delivery over real HTTP ------------------------------------------------------------

@pytest.mark.django_db
def test_a_webhook_is_delivered_signed_with_its_idempotency_key():
    with Receiver() as receiver:
        message = _webhook(receiver.url, payload={"action": {"id": 7, "type": "suspension"}})
        assert outbox.outbox_relay() == {"delivered": 1}
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.attempts == 1 and message.delivered_at
    [request] = receiver.requests
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"] == message.idempotency_key
    assert headers["x-tsconsole-topic"] == "enforcement.applied"
    assert headers["x-tsconsole-attempt"] == "1"
    assert abs(int(headers["x-tsconsole-timestamp"]) - time.time()) < 10
    assert outbox.verify_signature(secret="s3cret", body=request.body, timestamp=headers["x-tsconsole-timestamp"],
                                   signature=headers["x-tsconsole-signature"])
    assert request.body == outbox.webhook_body(message)
    assert json.loads(request.body)["data"] == {"action": {"id": 7, "type": "suspension"}}


@pytest.mark.django_db
def test_server_errors_are_retried_with_growing_backoff_then_the_message_goes_dead(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    with Receiver(default=500) as receiver:
        message = _webhook(receiver.url)
        before = timezone.now()
        assert outbox.outbox_relay() == {"retrying": 1}
        message.refresh_from_db()
        assert message.status == Status.PENDING and message.attempts == 1
        assert "HTTP 500" in message.last_error
        assert before + timedelta(seconds=30) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=60)

        assert outbox.outbox_relay() == {}  # not due yet: nothing is sent early
        assert len(receiver.requests) == 1

        _make_due(message)
        before = timezone.now()
        assert outbox.outbox_relay() == {"retrying": 1}
        message.refresh_from_db()
        assert message.attempts == 2
        assert before + timedelta(seconds=60) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=120)

        _make_due(message)
        assert outbox.outbox_relay() == {"dead": 1}
    message.refresh_from_db()
    assert message.status == Status.DEAD and message.attempts == 3 and message.delivered_at is None
    assert message.last_error.startswith("Gave up after 3 attempts. Last error: HTTP 500")
    assert len(receiver.requests) == 3
    assert set(receiver.keys()) == {message.idempotency_key}
    assert len({r.body for r in receiver.requests}) == 1  # byte-identical body on every attempt
    assert [r.headers["x-tsconsole-attempt"] for r in receiver.requests] == ["1", "2", "3"]


@pytest.mark.django_db
def test_a_message_that_failed_is_delivered_once_the_endpoint_recovers():
    with Receiver([500, 503]) as receiver:
        message = _webhook(receiver.url)
        for _ in range(3):
            outbox.outbox_relay()
            _make_due(message)
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.attempts == 3
    assert "HTTP 503" in message.last_error  # the history of the last failure stays visible
    assert len(receiver.requests) == 3


@pytest.mark.django_db
def test_a_client_error_is_still_retried_and_explained():
    with Receiver(default=401) as receiver:
        message = _webhook(receiver.url)
        outbox.outbox_relay()
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 1
    assert "HTTP 401" in message.last_error and "secret" in message.last_error


@pytest.mark.django_db
def test_rate_limiting_honours_retry_after():
    with Receiver(default=(429, {"Retry-After": "900"})) as receiver:
        message = _webhook(receiver.url)
        before = timezone.now()
        outbox.outbox_relay()
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert "HTTP 429" in message.last_error
    assert message.next_attempt_at >= before + timedelta(seconds=900)


@pytest.mark.django_db
def test_a_redirect_is_not_followed_but_reported():
    with Receiver(default=(301, {"Location": "http://elsewhere.invalid/hook"})) as receiver:
        message = _webhook(receiver.url)
        outbox.outbox_relay()
    message.refresh_from_db()
    assert message.status == Status.PENDING and len(receiver.requests) == 1
    assert "redirect to http://elsewhere.invalid/hook" in message.last_error


@pytest.mark.django_db
def test_a_timeout_is_retried(settings):
    settings.OUTBOX_TIMEOUT_SECONDS = 1
    with Receiver(stall_first=2.5) as receiver:
        message = _webhook(receiver.url)
        outbox.outbox_relay()
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 1
    assert message.last_error == "No answer within 1 s."


@pytest.mark.django_db
def test_an_unreachable_endpoint_is_retried():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = _webhook(f"http://127.0.0.1:{port}/hook")
    outbox.outbox_relay()
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.last_error.startswith("Could not connect")


@pytest.mark.django_db
def test_an_inactive_endpoint_sends_the_message_dead_at_once():
    with Receiver() as receiver:
        message = _webhook(receiver.url, is_active=False, name="Platform prod")
        assert outbox.outbox_relay() == {"dead": 1}
    message.refresh_from_db()
    assert message.status == Status.DEAD and message.attempts == 1
    assert message.last_error == "Webhook endpoint “Platform prod” is inactive; activate it, then retry."
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_webhook_without_its_endpoint_goes_dead_with_a_clear_error():
    message = OutboxMessageFactory(endpoint=None)
    assert outbox.outbox_relay() == {"dead": 1}
    message.refresh_from_db()
    assert message.status == Status.DEAD
    assert message.last_error == "The webhook endpoint of this delivery no longer exists."


# --- other channels -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_in_app_creates_one_notification_even_when_delivered_twice():
    user = UserFactory()
    message = services.outbox_enqueue(
        topic="sla.breach", channel=OutboxMessage.Channel.IN_APP, idempotency_key="sla.breach:case9:first_touch",
        payload={"user_id": user.pk, "title": "Case 9 breached first touch", "body": "P1 in general", "url": "/cases/9/"},
    )
    assert outbox.outbox_relay() == {"delivered": 1}
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    # A redelivery (a worker killed after delivering, before recording) adds nothing.
    assert outbox.outbox_deliver(message) == "delivered"
    [notification] = Notification.objects.filter(user=user)
    assert (notification.title, notification.body, notification.url, notification.kind) == (
        "Case 9 breached first touch", "P1 in general", "/cases/9/", "sla.breach")
    assert notification.dedupe_key == f"{message.idempotency_key}:in_app"


@pytest.mark.django_db
def test_in_app_for_a_missing_user_goes_dead():
    services.outbox_enqueue(topic="sla.breach", channel=OutboxMessage.Channel.IN_APP, payload={"user_id": 999999})
    assert outbox.outbox_relay() == {"dead": 1}
    assert OutboxMessage.objects.get().last_error == "User 999999 does not exist."


@pytest.mark.django_db
def test_email_is_sent_with_a_stable_message_id(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = services.outbox_enqueue(
        topic="escalation.page", channel=OutboxMessage.Channel.EMAIL, recipient="oncall@example.org",
        payload={"subject": "Sev1 escalation\nneeds you", "body": "Case 12 was escalated."},
    )
    assert outbox.outbox_relay() == {"delivered": 1}
    outbox.outbox_deliver(message)  # a redelivery
    first, second = mail.outbox
    assert first.to == ["oncall@example.org"]
    assert first.subject == "Sev1 escalation needs you"  # a header cannot carry a line break
    assert first.body == "Case 12 was escalated."
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["X-Tsconsole-Idempotency-Key"] == message.idempotency_key


@pytest.mark.django_db
def test_email_without_a_recipient_goes_dead(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.outbox_enqueue(topic="x", channel=OutboxMessage.Channel.EMAIL, payload={"subject": "s", "body": "b"})
    assert outbox.outbox_relay() == {"dead": 1}
    assert mail.outbox == []


@pytest.mark.django_db
def test_slack_posts_the_text_to_the_chat_webhook():
    with Receiver() as receiver:
        message = services.outbox_enqueue(
            topic="escalation.page", channel=OutboxMessage.Channel.SLACK, recipient=receiver.url,
            payload={"text": "Sev2 escalation on case 4"},
        )
        assert outbox.outbox_relay() == {"delivered": 1}
    [request] = receiver.requests
    assert json.loads(request.body) == {"text": "Sev2 escalation on case 4"}
    assert request.headers["content-type"] == "application/json"
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


@pytest.mark.django_db
def test_a_non_http_chat_url_goes_dead():
    services.outbox_enqueue(topic="x", channel=OutboxMessage.Channel.SLACK, recipient="file:///etc/passwd",
                            payload={"text": "hi"})
    assert outbox.outbox_relay() == {"dead": 1}
    assert "is not an http(s) URL" in OutboxMessage.objects.get().last_error


# --- claims, leases and concurrency ---------------------------------------------------------------

@pytest.mark.django_db
def test_a_claim_counts_the_attempt_and_leases_the_row_until_the_lease_runs_out(settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    message = OutboxMessageFactory()
    now = timezone.now()
    [claimed] = outbox.outbox_claim(now=now)
    assert claimed.pk == message.pk and claimed.attempts == 1
    assert claimed.next_attempt_at == now + timedelta(seconds=60)
    # While leased, nobody else takes it; a worker that died holding it gives it back by expiry.
    assert outbox.outbox_claim(now=now + timedelta(seconds=59)) == []
    [again] = outbox.outbox_claim(now=now + timedelta(seconds=61))
    assert again.attempts == 2


@pytest.mark.django_db
def test_claims_take_the_oldest_due_first_in_batches(settings):
    settings.OUTBOX_BATCH_SIZE = 2
    now = timezone.now()
    later = OutboxMessageFactory(next_attempt_at=now - timedelta(seconds=1))
    oldest = OutboxMessageFactory(next_attempt_at=now - timedelta(seconds=30))
    middle = OutboxMessageFactory(next_attempt_at=now - timedelta(seconds=10))
    OutboxMessageFactory(next_attempt_at=now + timedelta(seconds=30))  # not due
    OutboxMessageFactory(status=Status.DEAD, next_attempt_at=now - timedelta(hours=1))
    assert [m.pk for m in outbox.outbox_claim(now=now)] == [oldest.pk, middle.pk]
    assert [m.pk for m in outbox.outbox_claim(now=now)] == [later.pk]
    assert outbox.outbox_claim(now=now) == []


@pytest.mark.django_db
def test_a_stale_claim_cannot_overwrite_a_newer_one():
    message = OutboxMessageFactory()
    [stale] = outbox.outbox_claim()
    # Its lease ran out and another relay claimed the row again.
    [fresh] = outbox.outbox_claim(now=timezone.now() + timedelta(hours=1))
    assert outbox._record(stale, outbox.Outcome(False, "late failure")) == "superseded"
    message.refresh_from_db()
    assert message.attempts == 2 and message.last_error == "" and message.status == Status.PENDING
    # ...but a late success is still a success.
    assert outbox._record(stale, outbox.Outcome(True)) == "delivered"
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert outbox._record(fresh, outbox.Outcome(False, "x")) == "superseded"


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_rows_another_relay_has_locked():
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    locked, free = OutboxMessageFactory(), OutboxMessageFactory()
    holding, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        claimed = outbox.outbox_claim()
        assert [m.pk for m in claimed] == [free.pk]
        assert time.monotonic() - started < 2  # skipped, not waited for
    finally:
        release.set()
        thread.join()
    assert [m.pk for m in outbox.outbox_claim()] == [locked.pk]


@pytest.mark.django_db(transaction=True)
def test_two_relays_running_at_once_deliver_every_message_exactly_once(settings):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("concurrent relays need PostgreSQL (the SQLite demo runs one worker)")
    settings.OUTBOX_BATCH_SIZE = 2
    with Receiver(delay=0.05) as receiver:
        messages = [_webhook(receiver.url, key=f"k{i}") for i in range(16)]
        barrier = threading.Barrier(2)
        results = []

        def relay():
            try:
                barrier.wait(10)
                results.append(outbox.outbox_relay())
            finally:
                connection.close()

        threads = [threading.Thread(target=relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(receiver.keys()) == sorted(m.idempotency_key for m in messages)  # each once, none lost
    assert all(r.get("delivered", 0) > 0 for r in results), results  # both relays really worked
    assert sum(r["delivered"] for r in results) == 16
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.DELIVERED, 1)}


# --- wiring -----------------------------------------------------------------------------------------

def test_beat_runs_the_relay_every_relay_interval(settings):
    settings.OUTBOX_RELAY_INTERVAL_SECONDS = 2
    entry = beat_schedule(5)["outbox-relay"]
    assert entry["task"] == "tsconsole.tasks.outbox_relay" and entry["schedule"] == 2.0
    assert entry["options"]["expires"] == 4.0


@pytest.mark.django_db
def test_the_relay_task_delivers():
    with Receiver() as receiver:
        message = _webhook(receiver.url)
        tasks.outbox_relay.apply()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and len(receiver.requests) == 1


@pytest.mark.parametrize("overrides,fragment", [
    ({"OUTBOX_LEASE_SECONDS": "40", "OUTBOX_BATCH_SIZE": "5", "OUTBOX_TIMEOUT_SECONDS": "10"}, "OUTBOX_LEASE_SECONDS"),
    ({"OUTBOX_BACKOFF_BASE_SECONDS": "120", "OUTBOX_BACKOFF_CAP_SECONDS": "60"}, "OUTBOX_BACKOFF_CAP_SECONDS"),
    ({"OUTBOX_MAX_ATTEMPTS": "0"}, "OUTBOX_MAX_ATTEMPTS"),
])
def test_inconsistent_relay_settings_stop_start_up(tmp_path, overrides, fragment):
    from .test_settings import _boot

    result = _boot(tmp_path, **overrides)
    assert result.returncode != 0 and fragment in result.stderr


@pytest.mark.django_db
def test_the_receiver_snippet_in_the_readme_verifies_a_real_delivery():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [snippet] = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S)
                 if "def verify_tsconsole_signature" in block]
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    verify = namespace["verify_tsconsole_signature"]
    with Receiver() as receiver:
        _webhook(receiver.url)
        outbox.outbox_relay()
    [request] = receiver.requests
    ts, signature = request.headers["x-tsconsole-timestamp"], request.headers["x-tsconsole-signature"]
    assert verify("s3cret", request.body, ts, signature)
    assert not verify("s3cret", request.body + b" ", ts, signature)
    assert not verify("s3cret", request.body, str(int(ts) - 301), signature)
    assert not verify("wrong", request.body, ts, signature)
