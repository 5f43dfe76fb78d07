"""Cross-cutting writes: the outbox, in-app notifications and the audit log.

These run inside the caller's transaction, so an outward effect exists if and only if the
change that caused it was committed.
"""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .bulk import chunks, values_sql
from .links import absolute_url
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


def _outbox_rows(messages: list[dict]) -> list[tuple]:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    pending = str(OutboxMessage.Status.PENDING)
    return [
        (m["topic"], m["channel"], getattr(m.get("endpoint"), "pk", None), m.get("recipient", ""),
         json.dumps(m["payload"]), m["idempotency_key"], pending, 0, now, "", now)
        for m in messages
    ]


def _outbox_insert(rows: list[tuple]) -> tuple[str, list]:
    values, params = values_sql(rows)
    return (
        f"INSERT INTO {OutboxMessage._meta.db_table} (topic, channel, endpoint_id, recipient, payload, "
        f"idempotency_key, status, attempts, next_attempt_at, last_error, created_at) VALUES {values} "
        f"ON CONFLICT (idempotency_key) DO NOTHING", params,
    )


def outbox_enqueue_many(messages: list[dict], *, batch_size: int = 1000) -> int:
    """`outbox_enqueue` for many rows in a few statements (sweeps that notify thousands at once).

    Each dict holds outbox_enqueue's keyword arguments; `idempotency_key` is required. Keys that
    exist already are skipped, as with outbox_enqueue. Returns how many rows were offered.
    """
    rows = _outbox_rows(messages)
    for chunk in chunks(rows, batch_size):
        sql, params = _outbox_insert(chunk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
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


@dataclass(frozen=True)
class Notice:
    """One thing to tell one person: in the console, and by email too when `email` is set.
    `key` makes it idempotent: telling the same notice twice adds nothing."""

    user: object
    kind: str
    title: str
    key: str
    body: str = ""
    url: str = ""
    email: bool = False


def users_notify(notices: Iterable[Notice], *, also: Iterable[dict] = (), batch_size: int = 1000) -> int:
    """The one way a person is notified. Each notice becomes an in-app Notification (unread badge)
    at once and, when it asks for one and the person has an address, an email through the outbox.
    `also` takes outbox messages of the same event (a chat post) so that they are written with it.

    Runs in the caller's transaction. Per batch one statement writes both kinds of row (the
    notifications in a data-modifying CTE of the outbox INSERT), so a sweep that tells thousands
    of people costs what its outbox insert alone cost. Returns how many rows were offered.
    """
    notices = [notice for notice in notices if notice.user is not None and notice.user.is_active]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    in_app = [
        (n.user.pk, n.title[:200], n.body, n.url[:300], n.kind[:60], f"{n.key}:in_app"[:200], now)
        for n in notices
    ]
    messages = [
        dict(topic=n.kind, channel=OutboxMessage.Channel.EMAIL, recipient=n.user.email,
             idempotency_key=f"{n.key}:email", payload={"subject": n.title, "body": f"{n.body}\n\n{absolute_url(n.url)}"})
        for n in notices if n.email and n.user.email
    ] + list(also)
    outbox = _outbox_rows(messages)
    notification_batches, outbox_batches = list(chunks(in_app, batch_size)), list(chunks(outbox, batch_size))
    for index in range(max(len(notification_batches), len(outbox_batches))):
        statement, params = "", []
        if index < len(notification_batches):
            values, params = values_sql(notification_batches[index])
            statement = (
                f"INSERT INTO {Notification._meta.db_table} (user_id, title, body, url, kind, dedupe_key, created_at) "
                f"VALUES {values} ON CONFLICT (dedupe_key) DO NOTHING"
            )
        if index < len(outbox_batches):
            insert, outbox_params = _outbox_insert(outbox_batches[index])
            statement = f"WITH notified AS ({statement}) {insert}" if statement else insert
            params = params + outbox_params
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
    return len(in_app) + len(outbox)


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
