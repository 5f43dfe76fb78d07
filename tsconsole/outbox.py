"""Delivering the transactional outbox, at least once.

Other services write `OutboxMessage` rows inside their own transaction (`services.outbox_enqueue`,
`services.outbox_publish`). The relay here turns those rows into deliveries, in three steps:

1. **Claim** (`outbox_claim`): one short transaction takes up to `OUTBOX_BATCH_SIZE` due pending
   rows with `SELECT ... FOR UPDATE SKIP LOCKED` (so concurrent relays take disjoint rows),
   increments `attempts` and pushes `next_attempt_at` forward by `OUTBOX_LEASE_SECONDS`. The lease
   is the crash recovery: a worker killed mid-delivery leaves the row pending, and the row is due
   again when its lease runs out. No transaction stays open across a network call.
2. **Deliver** outside any transaction (`outbox_deliver`).
3. **Record** with a conditional UPDATE: delivered; or the next attempt after a capped, jittered
   exponential backoff; or `dead` after `OUTBOX_MAX_ATTEMPTS` (or at once when retrying cannot help,
   e.g. an inactive webhook endpoint). A person sees dead rows on the Deliveries page and retries them.

A message can therefore be delivered twice (a worker killed after the receiver answered but before
the record was written). Receivers make that harmless: every attempt carries the same
`Idempotency-Key` and a byte-identical body.

Payloads by channel (written by the services that enqueue):
- `webhook`: any JSON object; sent as `data` inside `{"id", "topic", "created_at", "data"}`.
- `email`: `{"subject", "body"}` to `recipient` (an address).
- `slack`: `{"text"}` posted to `recipient` (an incoming-webhook URL).
- `in_app`: `{"user_id", "title", "body", "url"}`.
"""

import hashlib
import hmac
import http.client
import json
import logging
import random
import smtplib
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .errors import Conflict, InvalidInput, NotFound
from .models import OutboxMessage
from .services import Notice, audit_record, users_notify

log = logging.getLogger(__name__)

Status = OutboxMessage.Status
Channel = OutboxMessage.Channel

# Receivers should refuse signatures older (or newer) than this: it bounds replay of a captured request.
SIGNATURE_TOLERANCE_SECONDS = 300
# One relay run stops claiming new batches after this long and hands the worker slot back; beat
# starts the next run. Concurrent runs are safe (SKIP LOCKED), so a long backlog is shared out.
RELAY_RUN_SECONDS = 30
ERROR_MAX_CHARS = 1000
USER_AGENT = "tsconsole-outbox/1"


# --- Signatures -------------------------------------------------------------------------------

def signature_for(secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, the X-Tsconsole-Signature header."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(*, secret: str, body: bytes, timestamp: str, signature: str,
                     tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """For receivers: True when `signature` signs exactly `body` at `timestamp` with `secret`, and the
    timestamp is within `tolerance_seconds` of now. Pass the raw request body, not re-serialised JSON."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    expected = signature_for(secret, sent_at, body).encode()
    return hmac.compare_digest(expected, (signature or "").encode("utf-8", "replace"))


def webhook_body(message: OutboxMessage) -> bytes:
    """The JSON body of a webhook delivery: compact, sorted keys, so every attempt sends the same bytes."""
    envelope = {
        "id": message.pk,
        "topic": message.topic,
        "created_at": message.created_at.isoformat(),
        "data": message.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


# --- Retry schedule ---------------------------------------------------------------------------

def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """Delay before the next try after `attempts` failed ones.

    The ceiling doubles per attempt, base × 2^(attempts−1), up to OUTBOX_BACKOFF_CAP_SECONDS; the
    delay is half the ceiling plus a random part of the other half ("equal jitter"), so retries
    after one outage spread out instead of all arriving at the recovering endpoint together.
    """
    base, cap = settings.OUTBOX_BACKOFF_BASE_SECONDS, settings.OUTBOX_BACKOFF_CAP_SECONDS
    ceiling = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


# --- Channels ---------------------------------------------------------------------------------

class DeliveryFailed(Exception):
    """This attempt failed. `permanent`: retrying cannot help, so the message goes dead at once."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST loses its body (urllib turns it into a GET), so a redirect is reported instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST `body`; return on 2xx, raise DeliveryFailed with a reason a person can act on otherwise."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed(f"{url!r} is not an http(s) URL.", permanent=True)
    timeout = settings.OUTBOX_TIMEOUT_SECONDS
    request = urllib.request.Request(url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers})
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(4096)  # drain a little so the connection closes cleanly
    except urllib.error.HTTPError as exc:
        code = exc.code
        try:
            snippet = exc.read(300).decode("utf-8", "replace").strip()
        except (OSError, http.client.HTTPException):
            snippet = ""
        answer = f"HTTP {code}" + (f": {snippet}" if snippet else "")
        if 300 <= code < 400:
            raise DeliveryFailed(f"{answer} (redirect to {exc.headers.get('Location', '?')}); deliveries do not "
                                 "follow redirects, so update the endpoint URL.")
        if code in (408, 429):
            reason = "rate limited by the endpoint" if code == 429 else "the endpoint timed out reading the request"
            raise DeliveryFailed(f"{answer} ({reason}).", retry_after=_retry_after(exc.headers))
        if 400 <= code < 500:
            raise DeliveryFailed(f"{answer} (the endpoint refused the request: check its URL, that it accepts "
                                 "POST, and that it verifies signatures with the current secret).")
        raise DeliveryFailed(f"{answer} (server error at the endpoint).", retry_after=_retry_after(exc.headers))
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise DeliveryFailed(f"No answer within {timeout} s.")
        raise DeliveryFailed(f"Could not connect: {exc.reason}.")
    except TimeoutError:
        raise DeliveryFailed(f"No answer within {timeout} s.")
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"Connection failed: {type(exc).__name__}: {exc}.")


def _deliver_webhook(message: OutboxMessage) -> None:
    endpoint = message.endpoint
    if endpoint is None:
        raise DeliveryFailed("The webhook endpoint of this delivery no longer exists.", permanent=True)
    if not endpoint.is_active:
        raise DeliveryFailed(f"Webhook endpoint “{endpoint.name}” is inactive; activate it, then retry.",
                             permanent=True)
    body = webhook_body(message)
    timestamp = int(time.time())
    _http_post(endpoint.url, body, {
        "Content-Type": "application/json",
        "X-Tsconsole-Timestamp": str(timestamp),
        "X-Tsconsole-Signature": signature_for(endpoint.secret, timestamp, body),
        "X-Tsconsole-Topic": message.topic,
        "X-Tsconsole-Attempt": str(message.attempts),
        "Idempotency-Key": message.idempotency_key,
    })


def _deliver_email(message: OutboxMessage) -> None:
    if not message.recipient:
        raise DeliveryFailed("The email has no recipient address.", permanent=True)
    payload = message.payload
    subject = " ".join(str(payload.get("subject") or payload.get("title") or message.topic).split())
    body = str(payload.get("body") or payload.get("text") or "")
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "tsconsole"
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
    email = EmailMessage(subject=subject, body=body, to=[message.recipient], headers={
        # The same Message-ID on every attempt lets mail clients fold a repeated delivery into one.
        "Message-ID": f"<{digest}@{domain}>",
        "X-Tsconsole-Idempotency-Key": message.idempotency_key,
    })
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"The mail server refused the recipient: {exc.recipients}.", permanent=True)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"Mail server error: {type(exc).__name__}: {exc}.")


def _deliver_slack(message: OutboxMessage) -> None:
    if not message.recipient:
        raise DeliveryFailed("The chat message has no webhook URL.", permanent=True)
    text = message.payload.get("text") or message.payload.get("title")
    if not text:
        raise DeliveryFailed("The chat message has no text.", permanent=True)
    body = json.dumps({"text": str(text)}, separators=(",", ":")).encode()
    _http_post(message.recipient, body, {"Content-Type": "application/json"})


def _deliver_in_app(message: OutboxMessage) -> None:
    payload = message.payload
    user_id = payload.get("user_id")
    valid_id = isinstance(user_id, int) or isinstance(user_id, str) and user_id.isdigit()
    user = get_user_model().objects.filter(pk=int(user_id)).first() if valid_id else None
    if user is None:
        raise DeliveryFailed(f"User {user_id!r} does not exist.", permanent=True)
    # Idempotent by key: a repeated delivery adds no second notification.
    users_notify([Notice(
        user=user, kind=message.topic, title=str(payload.get("title") or message.topic),
        body=str(payload.get("body") or ""), url=str(payload.get("url") or ""), key=message.idempotency_key,
    )])


CHANNELS = {
    Channel.WEBHOOK: _deliver_webhook,
    Channel.EMAIL: _deliver_email,
    Channel.SLACK: _deliver_slack,
    Channel.IN_APP: _deliver_in_app,
}


# --- The relay --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def outbox_claim(*, limit: int | None = None, now=None) -> list[OutboxMessage]:
    """Claim up to `limit` due pending messages for this worker, oldest due first.

    Claiming counts the attempt and leases the row (next_attempt_at = now + lease) in one short
    transaction. Rows another relay has locked are skipped, not waited for. On SQLite (the demo,
    one worker) the select is plain.
    """
    now = now or timezone.now()
    limit = limit or settings.OUTBOX_BATCH_SIZE
    with transaction.atomic():
        due = OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        OutboxMessage.objects.filter(id__in=ids).update(
            attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS))
        claimed = {m.pk: m for m in OutboxMessage.objects.filter(id__in=ids).select_related("endpoint")}
    return [claimed[pk] for pk in ids]


def _attempt(message: OutboxMessage) -> Outcome:
    handler = CHANNELS.get(message.channel)
    if handler is None:
        return Outcome(False, f"Unknown channel {message.channel!r}.", permanent=True)
    try:
        handler(message)
    except DeliveryFailed as exc:
        return Outcome(False, str(exc), exc.permanent, exc.retry_after)
    except Exception as exc:  # an unexpected failure is one failed attempt; the message must not be lost
        log.exception("outbox message %s: delivery raised", message.pk)
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    return Outcome(True)


def _record(message: OutboxMessage, outcome: Outcome) -> str:
    """Write the result of the attempt made under `message`'s claim; returns what became of it."""
    now = timezone.now()
    if outcome.ok:
        # A successful delivery is the truth even if this claim's lease ran out meanwhile.
        OutboxMessage.objects.filter(pk=message.pk).exclude(status=Status.DELIVERED).update(
            status=Status.DELIVERED, delivered_at=now)
        return "delivered"
    # Only while our claim is the latest one: otherwise another worker owns the row now.
    mine = OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING, attempts=message.attempts)
    if outcome.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        error = outcome.error if outcome.permanent else (
            f"Gave up after {message.attempts} attempts. Last error: {outcome.error}")
        updated = mine.update(status=Status.DEAD, last_error=error[:ERROR_MAX_CHARS])
        return "dead" if updated else "superseded"
    delay = backoff_seconds(message.attempts)
    if outcome.retry_after:
        delay = max(delay, min(outcome.retry_after, settings.OUTBOX_BACKOFF_CAP_SECONDS))
    updated = mine.update(next_attempt_at=now + timedelta(seconds=delay), last_error=outcome.error[:ERROR_MAX_CHARS])
    return "retrying" if updated else "superseded"


def outbox_deliver(message: OutboxMessage) -> str:
    """Deliver one claimed message and record the outcome: delivered, retrying, dead or superseded."""
    outcome = _attempt(message)
    result = _record(message, outcome)
    log.info("outbox message %s (%s via %s) attempt %s: %s%s", message.pk, message.topic, message.channel,
             message.attempts, result, f" ({outcome.error})" if outcome.error else "")
    return result


def outbox_relay(*, max_seconds: float = RELAY_RUN_SECONDS) -> dict[str, int]:
    """Claim and deliver due messages batch by batch until none is due or `max_seconds` have passed."""
    started = time.monotonic()
    counts: Counter[str] = Counter()
    while time.monotonic() - started < max_seconds:
        batch = outbox_claim()
        if not batch:
            break
        for message in batch:
            counts[outbox_deliver(message)] += 1
    return dict(counts)


# --- Retrying dead letters (the Deliveries page) ------------------------------------------------

def outbox_retry_blocker(message: OutboxMessage) -> str:
    """Why retrying this message could only fail again ("" when nothing stands in the way)."""
    if message.channel == Channel.WEBHOOK:
        if message.endpoint is None:
            return "Its webhook endpoint no longer exists."
        if not message.endpoint.is_active:
            return f"Webhook endpoint “{message.endpoint.name}” is inactive; activate it in the admin first."
    return ""


def outbox_retry(*, message_id: int, actor) -> OutboxMessage:
    """Give a dead message a fresh set of attempts, due now, and audit who did it."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFound("No such delivery.")
        if message.status != Status.DEAD:
            raise Conflict(f"Only dead deliveries can be retried; this one is {message.get_status_display().lower()}.")
        reason = outbox_retry_blocker(message)
        if reason:
            raise InvalidInput(f"Retrying would fail again. {reason}")
        previous_attempts = message.attempts
        message.status = Status.PENDING
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_record(actor=actor, verb="outbox.retry", object_type="outbox_message", object_ref=message.pk, data={
            "topic": message.topic, "channel": message.channel,
            "previous_attempts": previous_attempts, "last_error": message.last_error,
        })
    return message


def outbox_retry_dead(*, actor, topic: str = "", channel: str = "") -> int:
    """Retry every dead message (optionally of one topic and/or channel) in one UPDATE; audited once.

    Webhooks whose endpoint is gone or inactive stay dead: retrying them could only fail again.
    """
    with transaction.atomic():
        dead = OutboxMessage.objects.filter(status=Status.DEAD)
        if topic:
            dead = dead.filter(topic=topic)
        if channel:
            dead = dead.filter(channel=channel)
        dead = dead.exclude(Q(channel=Channel.WEBHOOK) & (Q(endpoint__isnull=True) | Q(endpoint__is_active=False)))
        count = dead.update(status=Status.PENDING, attempts=0, next_attempt_at=timezone.now())
        if count:
            audit_record(actor=actor, verb="outbox.retry_dead", object_type="outbox_message", data={
                "topic": topic, "channel": channel, "count": count,
            })
    return count
