"""Reads for the console shell: home summaries, notifications, health."""

from django.db.models import Min
from django.utils import timezone

from .models import Heartbeat, Notification, OutboxMessage

HEARTBEAT_STALE_SECONDS = 180


NOTIFICATIONS_PAGE_SIZE = 25


def notifications_page(user, *, before_id: int | None = None, limit: int = NOTIFICATIONS_PAGE_SIZE) -> dict:
    """A page of the user's notifications, newest first, keyset-paginated on id."""
    qs = Notification.objects.filter(user=user).order_by("-id")
    if before_id:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs[: limit + 1])
    items = rows[:limit]
    return {"items": items, "next_before": items[-1].pk if len(rows) > limit else None}


def system_health() -> dict:
    """Heartbeats of the background components and the state of the outbox."""
    now = timezone.now()
    beats = []
    for beat in Heartbeat.objects.order_by("component"):
        age = (now - beat.seen_at).total_seconds()
        beats.append({"component": beat.component, "seen_at": beat.seen_at, "age_seconds": int(age),
                      "healthy": age <= HEARTBEAT_STALE_SECONDS})
    outbox = {
        **outbox_backlog(),
        # Pending rows are few and found through their partial index; no scan of delivered history.
        "oldest_pending": OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .aggregate(oldest=Min("created_at"))["oldest"],
    }
    return {"heartbeats": beats, "outbox": outbox, "now": now}


OUTBOX_PAGE_SIZE = 50


def outbox_messages(*, status: str = "", topic: str = "", channel: str = "", before: int | None = None,
                    limit: int = OUTBOX_PAGE_SIZE) -> tuple[list[OutboxMessage], int | None]:
    """One page of outbox messages, newest first, and the keyset cursor of the next page (or None).

    Keyset on id: a page costs the same at any depth. No total count (the table grows without bound).
    """
    messages = OutboxMessage.objects.select_related("endpoint").order_by("-id")
    if status:
        messages = messages.filter(status=status)
    if topic:
        messages = messages.filter(topic=topic)
    if channel:
        messages = messages.filter(channel=channel)
    if before:
        messages = messages.filter(id__lt=before)
    rows = list(messages[: limit + 1])
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def outbox_backlog() -> dict:
    """Pending and dead counts; each is answered from its partial index, not a table scan."""
    return {
        "pending": OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count(),
        "dead": OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).count(),
    }
