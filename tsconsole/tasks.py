from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(name="tsconsole.tasks.heartbeat")
def heartbeat(component: str = "worker") -> str:
    """Record that a worker picked up a task; beat sends one a minute. Shown on the health page."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(component=component, defaults={"seen_at": now})
    return now.isoformat()
