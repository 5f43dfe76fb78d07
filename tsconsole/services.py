"""Cross-cutting writes: the outbox, in-app notifications and the audit log.

These run inside the caller's transaction, so an outward effect exists if and only if the
change that caused it was committed.
"""

import json
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .bulk import chunks, values_sql
from .errors import InvalidInput, NotAllowed
from .links import absolute_url
from .models import (
    AuditEntry,
    ExposureClock,
    ExposureDay,
    Notification,
    OutboxMessage,
    PreviewMode,
    UserPreferences,
    WebhookEndpoint,
)
from .selectors import break_after_minutes


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


# --------------------------------------------------------------------------- preferences

BREAK_AFTER_MIN, BREAK_AFTER_MAX = 5, 480


def valid_time_zone(name: str) -> bool:
    """An IANA zone this server knows (the select offers exactly these)."""
    return name in zoneinfo.available_timezones()


def preferences_update(*, user, preview_mode: str, time_zone: str, break_after_minutes: int | None,
                       actor) -> UserPreferences:
    """Save a person's own preferences and audit what changed. Only the person themself may do it.

    `time_zone` blank means the browser's zone; `break_after_minutes` None means the site default.
    """
    if actor is None or actor.pk != user.pk:
        raise NotAllowed("You can only change your own preferences.")
    errors = {}
    if preview_mode not in PreviewMode.values:
        errors["preview_mode"] = f"Choose one of: {', '.join(PreviewMode.labels)}."
    if time_zone and not valid_time_zone(time_zone):
        errors["time_zone"] = f"“{time_zone[:64]}” is not a time zone this console knows; pick one from the list."
    if break_after_minutes is not None and not (BREAK_AFTER_MIN <= break_after_minutes <= BREAK_AFTER_MAX):
        errors["break_after_minutes"] = f"Choose between {BREAK_AFTER_MIN} and {BREAK_AFTER_MAX} minutes, or leave it blank."
    if errors:
        raise InvalidInput(" ".join(errors.values()), field_errors=errors)
    with transaction.atomic():
        prefs, _ = UserPreferences.objects.select_for_update().get_or_create(user=user)
        new = {"preview_mode": preview_mode, "time_zone": time_zone, "break_after_minutes": break_after_minutes}
        changed = {field: [getattr(prefs, field), value] for field, value in new.items() if getattr(prefs, field) != value}
        if changed:
            for field, value in new.items():
                setattr(prefs, field, value)
            prefs.save()
            audit_record(actor=actor, verb="preferences_changed", object_type="user", object_ref=user.pk,
                         data={"changed": changed})
    return prefs


# --------------------------------------------------------------------------- exposure to sensitive material


@dataclass(frozen=True)
class ExposureTick:
    """What one heartbeat did: whether its minute was new, and the person's figures after it."""

    counted: bool
    reason: str = ""
    today_minutes: int | None = None
    stretch_minutes: int | None = None
    prompt_due: bool = False

    def as_json(self) -> dict:
        """The heartbeat endpoints' answer (static/js/wellness.js reads `prompt`)."""
        return {"counted": self.counted, "reason": self.reason, "today_minutes": self.today_minutes,
                "stretch_minutes": self.stretch_minutes,
                "prompt": {"minutes": self.stretch_minutes} if self.prompt_due else None}


def exposure_record(*, user, now: datetime | None = None, zone=None) -> ExposureTick:
    """Count the minute of `now` as one minute of sensitive exposure for `user`, at most once.

    One statement: the per-person clock accepts the minute only when it is later than the last one
    counted (two tabs beating in the same minute count once; a late beat for an earlier minute
    counts nothing), and only then is the day's total raised. The clock also keeps the current
    stretch: a gap longer than WELLNESS_BREAK_RESET_MINUTES starts a new one and clears the snooze.
    The day is the person's local day in `zone` (default: the zone active for the request).
    """
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    day = timezone.localtime(minute, zone or timezone.get_current_timezone()).date()
    reset = timedelta(minutes=settings.WELLNESS_BREAK_RESET_MINUTES)
    clock, days = ExposureClock._meta.db_table, ExposureDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH tick AS (
                INSERT INTO {clock} AS c (user_id, last_minute, stretch_started, stretch_minutes, snoozed_until_minutes)
                VALUES (%(user)s, %(minute)s, %(minute)s, 1, 0)
                ON CONFLICT (user_id) DO UPDATE SET
                    last_minute = EXCLUDED.last_minute,
                    stretch_started = CASE WHEN EXCLUDED.last_minute - c.last_minute > %(reset)s
                                           THEN EXCLUDED.last_minute ELSE c.stretch_started END,
                    stretch_minutes = CASE WHEN EXCLUDED.last_minute - c.last_minute > %(reset)s
                                           THEN 1 ELSE c.stretch_minutes + 1 END,
                    snoozed_until_minutes = CASE WHEN EXCLUDED.last_minute - c.last_minute > %(reset)s
                                                 THEN 0 ELSE c.snoozed_until_minutes END
                WHERE c.last_minute < EXCLUDED.last_minute
                RETURNING c.stretch_minutes, c.snoozed_until_minutes
            ), today AS (
                INSERT INTO {days} AS d (user_id, day, minutes)
                SELECT %(user)s, %(day)s, 1 FROM tick
                ON CONFLICT (user_id, day) DO UPDATE SET minutes = d.minutes + 1
                RETURNING d.minutes
            )
            SELECT tick.stretch_minutes, tick.snoozed_until_minutes, today.minutes FROM tick, today
            """,
            {"user": user.pk, "minute": minute, "day": day, "reset": reset},
        )
        row = cursor.fetchone()
    threshold = break_after_minutes(user)
    if row is None:
        clock = ExposureClock.objects.filter(user=user).first()
        today = ExposureDay.objects.filter(user=user, day=day).values_list("minutes", flat=True).first() or 0
        stretch = clock.stretch_minutes if clock else 0
        return ExposureTick(counted=False, reason="This minute was already counted.", today_minutes=today,
                            stretch_minutes=stretch,
                            prompt_due=bool(clock) and stretch >= threshold and stretch >= clock.snoozed_until_minutes)
    stretch, snoozed_until, today = row
    return ExposureTick(counted=True, today_minutes=today, stretch_minutes=stretch,
                        prompt_due=stretch >= threshold and stretch >= snoozed_until)


def exposure_break_dismiss(*, user, actor, now: datetime | None = None) -> ExposureClock | None:
    """Hide the break prompt until the current stretch has run another full threshold.

    Returns the clock, or None when there is no stretch to snooze (nothing to do, not an error).
    """
    if actor is None or actor.pk != user.pk:
        raise NotAllowed("You can only dismiss your own break prompt.")
    threshold = break_after_minutes(user)
    with transaction.atomic():
        clock = ExposureClock.objects.select_for_update().filter(user=user).first()
        if clock is None:
            return None
        clock.snoozed_until_minutes = clock.stretch_minutes + threshold
        clock.save(update_fields=["snoozed_until_minutes"])
    return clock
