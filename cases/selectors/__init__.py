"""Reads for the cases app. Topic modules live beside this one (cases/selectors/<topic>.py)."""

from ..models import Category


def categories_active():
    return Category.objects.filter(is_active=True).select_related("parent").order_by("position", "name")


def queue_open_summary(user) -> list[dict]:
    """Open and unassigned counts per active queue the user may work, with the oldest open case's
    opening time: the queue page's counts (`workspace.queue_counts`, shared for a few seconds; each
    row's `counted_at` says when).
    Queues the user may not work are neither listed nor counted: their size and age are not theirs
    to see."""
    from django.utils import timezone

    from .workspace import queue_counts, queues_workable

    queues = list(queues_workable(user))
    if not queues:
        return []
    counts, counted_at = queue_counts([queue.pk for queue in queues], timezone.now())
    summary = []
    for queue in queues:
        row = counts.get(queue.id, {})
        summary.append({
            "queue": queue,
            "open_count": row.get("open_count", 0),
            "unassigned": row.get("unassigned", 0),
            "oldest": row.get("oldest_open"),
            "counted_at": counted_at,
        })
    return summary
