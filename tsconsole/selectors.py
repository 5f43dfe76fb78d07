"""Reads for the console shell: home summaries, notifications, health."""

from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Heartbeat, Notification, OutboxMessage

HEARTBEAT_STALE_SECONDS = 180


def notifications_for(user, *, limit: int = 50):
    return list(Notification.objects.filter(user=user).order_by("-created_at")[:limit])


def system_health() -> dict:
    """Heartbeats of the background components and the state of the outbox."""
    now = timezone.now()
    beats = []
    for beat in Heartbeat.objects.order_by("component"):
        age = (now - beat.seen_at).total_seconds()
        beats.append({"component": beat.component, "seen_at": beat.seen_at, "age_seconds": int(age),
                      "healthy": age <= HEARTBEAT_STALE_SECONDS})
    outbox = OutboxMessage.objects.aggregate(
        pending=Count("id", filter=Q(status=OutboxMessage.Status.PENDING)),
        dead=Count("id", filter=Q(status=OutboxMessage.Status.DEAD)),
        oldest_pending=Min("created_at", filter=Q(status=OutboxMessage.Status.PENDING)),
    )
    return {"heartbeats": beats, "outbox": outbox, "now": now}
