"""Reads for the cases app. Topic modules live beside this one (cases/selectors/<topic>.py)."""

from django.db.models import Count, Min, Q

from ..models import Case, CaseStatus, Category


def categories_active():
    return Category.objects.filter(is_active=True).select_related("parent").order_by("position", "name")


def queue_open_summary(user) -> list[dict]:
    """Open and unassigned counts per active queue the user may work, with the oldest open case's
    opening time. Queues the user may not work are neither listed nor counted: their size and age
    are not theirs to see."""
    from .workspace import queues_workable

    queues = list(queues_workable(user))
    counts = {
        row["queue_id"]: row
        for row in Case.objects.exclude(status=CaseStatus.RESOLVED)
        .filter(queue_id__in=[queue.pk for queue in queues])
        .values("queue_id")
        .annotate(
            open_count=Count("id"),
            unassigned=Count("id", filter=Q(status=CaseStatus.OPEN, assignee__isnull=True)),
            oldest=Min("opened_at"),
        )
    }
    summary = []
    for queue in queues:
        row = counts.get(queue.id, {})
        summary.append({
            "queue": queue,
            "open_count": row.get("open_count", 0),
            "unassigned": row.get("unassigned", 0),
            "oldest": row.get("oldest"),
        })
    return summary
