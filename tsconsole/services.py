"""Cross-cutting writes: the outbox, in-app notifications and the audit log.

These run inside the caller's transaction, so an outward effect exists if and only if the
change that caused it was committed.
"""

import json
import uuid

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .bulk import chunks, values_sql
from .models import AuditEntry, Notification, OutboxMessage, WebhookEndpoint


def outbox_enqueue(
    *, topic: str, channel: str, payload: dict, idempotency_key: str | None = None,
    endpoint: WebhookEndpoint | None = None, recipient: str = "",
) -> OutboxMessage | None:
    """Write one delivery. A repeated idempotency key is a no-op (returns None), so callers may retry."""
    key = idempotency_key or f"{topic}:{uuid.uuid4()}"
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                topic=topic, channel=channel, payload=payload, idempotency_key=key,
                endpoint=endpoint, recipient=recipient, next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        if OutboxMessage.objects.filter(idempotency_key=key).exists():
            return None
        raise


def outbox_enqueue_many(messages: list[dict], *, batch_size: int = 1000) -> int:
    """`outbox_enqueue` for many rows in a few statements (sweeps that notify thousands at once).

    Each dict holds outbox_enqueue's keyword arguments; `idempotency_key` is required. Keys that
    exist already are skipped, as with outbox_enqueue. Returns how many rows were offered.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = OutboxMessage._meta.db_table
    pending = str(OutboxMessage.Status.PENDING)
    rows = [
        (m["topic"], m["channel"], getattr(m.get("endpoint"), "pk", None), m.get("recipient", ""),
         json.dumps(m["payload"]), m["idempotency_key"], pending, 0, now, "", now)
        for m in messages
    ]
    for chunk in chunks(rows, batch_size):
        values, params = values_sql(chunk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (topic, channel, endpoint_id, recipient, payload, idempotency_key, status, "
                f"attempts, next_attempt_at, last_error, created_at) VALUES {values} "
                f"ON CONFLICT (idempotency_key) DO NOTHING", params,
            )
    return len(rows)


def outbox_publish(*, topic: str, payload: dict, key: str) -> list[OutboxMessage]:
    """Fan a platform event out to every active webhook endpoint subscribed to `topic`."""
    messages = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True):
        if endpoint.wants(topic):
            message = outbox_enqueue(
                topic=topic, channel=OutboxMessage.Channel.WEBHOOK, payload=payload,
                idempotency_key=f"{key}:ep{endpoint.pk}", endpoint=endpoint,
            )
            if message:
                messages.append(message)
    return messages


def notification_create(*, user, title: str, body: str = "", url: str = "", kind: str = "",
                        dedupe_key: str | None = None) -> Notification | None:
    """An in-app notification; with a dedupe_key, a second call for the same key adds nothing."""
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user, title=title[:200], body=body, url=url, kind=kind, dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())


def audit_record(*, actor, verb: str, object_type: str = "", object_ref: str = "", data: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb, object_type=object_type, object_ref=str(object_ref), data=data or {},
    )
