"""Insights reads that are not dashboards: statements of reasons and their submission status."""

from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast

from .models import StatementOfReasons


def statements_page(*, period, after=None, limit: int) -> list[tuple]:
    """Valid statements applied in the period after the (applied_at, id) cursor: `limit + 1` rows of
    (id, applied_at, statement as JSON text), so the caller knows whether another page follows.
    The stored JSON is passed through as text: an export never decodes and re-encodes it."""
    qs = StatementOfReasons.objects.filter(errors={}, applied_at__gte=period.start, applied_at__lt=period.end)
    if after is not None:
        applied_at, pk = after
        qs = qs.filter(Q(applied_at__gt=applied_at) | Q(applied_at=applied_at, id__gt=pk))
    return list(qs.order_by("applied_at", "id").annotate(text=Cast("statement", TextField()))
                .values_list("id", "applied_at", "text")[: limit + 1])


def statement_status(period) -> dict:
    """How many statements of the period are valid, refused by the rules, waiting or handed over."""
    return StatementOfReasons.objects.filter(applied_at__gte=period.start, applied_at__lt=period.end).aggregate(
        total=Count("id"),
        invalid=Count("id", filter=~Q(errors={})),
        submitted=Count("id", filter=Q(batch__isnull=False)),
        waiting=Count("id", filter=Q(batch__isnull=True, errors={})),
    )


def invalid_statements(period, *, limit: int = 20) -> list[StatementOfReasons]:
    return list(
        StatementOfReasons.objects.filter(applied_at__gte=period.start, applied_at__lt=period.end)
        .exclude(errors={}).order_by("-applied_at")[:limit]
    )
