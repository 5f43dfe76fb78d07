"""Reads for the cases app. Topic modules live beside this one (cases/selectors/<topic>.py)."""

from django.db.models import Count, Min, Q

from ..models import Case, CaseStatus, Category, Queue


def categories_active():
    return Category.objects.filter(is_active=True).select_related("parent").order_by("position", "name")


def queue_open_summary() -> list[dict]:
    """Open and unassigned counts per active queue, with the oldest open case's opening time."""
    counts = {
        row["queue_id"]: row
        for row in Case.objects.exclude(status=CaseStatus.RESOLVED)
        .values("queue_id")
        .annotate(
            open_count=Count("id"),
            unassigned=Count("id", filter=Q(status=CaseStatus.OPEN, assignee__isnull=True)),
            oldest=Min("opened_at"),
        )
    }
    summary = []
    for queue in Queue.objects.filter(is_active=True).order_by("position", "name"):
        row = counts.get(queue.id, {})
        summary.append({
            "queue": queue,
            "open_count": row.get("open_count", 0),
            "unassigned": row.get("unassigned", 0),
            "oldest": row.get("oldest"),
        })
    return summary
