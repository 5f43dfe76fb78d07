from celery import shared_task
from django.utils import timezone

from . import outbox
from .models import Heartbeat


@shared_task(name="tsconsole.tasks.heartbeat")
def heartbeat(component: str = "worker") -> str:
    """Record that a worker picked up a task; beat sends one a minute. Shown on the health page."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(component=component, defaults={"seen_at": now})
    return now.isoformat()


@shared_task(name="tsconsole.tasks.outbox_relay")
def outbox_relay() -> dict:
    """Deliver due outbox messages (tsconsole/outbox.py). Beat sends it every
    OUTBOX_RELAY_INTERVAL_SECONDS. Runs may overlap (each claims rows the others skip) and a run
    killed mid-delivery loses nothing: its claimed rows fall due again when their lease runs out.
    """
    return outbox.outbox_relay()
