"""Insights reads that are not dashboards: statements of reasons and their submission status, and
the leads' home panel."""

from datetime import timedelta

from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast

from cases.models import Case, CaseStatus, Escalation
from enforcement import selectors as enforcement_selectors
from qa import selectors as qa_selectors
from tsconsole.shared import shared_for

from .models import StatementOfReasons

# The backlog's clock counts are shared by every lead's home page for this long (0: count afresh),
# like the queue page's counts.
BACKLOG_CLOCKS_CACHE_SECONDS = 10


def backlog_clock_counts(now) -> dict:
    """How many unresolved cases fall due within the hour and how many are breached: one pass over
    the open cases (an index-only scan of case_open_cover), tens of milliseconds at tens of
    thousands of open cases, so kept in the shared cache for BACKLOG_CLOCKS_CACHE_SECONDS."""
    def count():
        soon = now + timedelta(hours=1)
        due = Q(resolution_due_at__gt=now, resolution_due_at__lte=soon) | Q(
            first_touched_at__isnull=True, first_touch_due_at__gt=now, first_touch_due_at__lte=soon)
        breached = Q(resolution_due_at__lte=now) | Q(first_touched_at__isnull=True, first_touch_due_at__lte=now)
        return Case.objects.exclude(status=CaseStatus.RESOLVED).aggregate(
            due_within_hour=Count("id", filter=due), breached=Count("id", filter=breached))

    return shared_for("insights:backlog-clocks", BACKLOG_CLOCKS_CACHE_SECONDS, count)


def action_now_counts(*, now) -> dict:
    """The numbers a lead acts on now: breaches coming and present (shared for a few seconds),
    escalations waiting for an acknowledgement, decisions waiting for approval, QA samples due."""
    cases = backlog_clock_counts(now)
    escalations = Escalation.objects.filter(status=Escalation.Status.OPEN).aggregate(
        waiting=Count("id"), overdue=Count("id", filter=Q(ack_due_at__lte=now)))
    return {
        "due_within_hour": cases["due_within_hour"],
        "breached": cases["breached"],
        "escalations_waiting": escalations["waiting"],
        "escalations_overdue": escalations["overdue"],
        "approvals": enforcement_selectors.pending_approval_count(),
        "qa": qa_selectors.samples_due_counts(now=now),
    }


def statements_page(*, period, after=None, limit: int) -> list[tuple]:
    """Valid statements applied in the period after the (applied_at, id) cursor: `limit + 1` rows of
    (id, applied_at, statement as JSON text), so the caller knows whether another page follows.
    The stored JSON is passed through as text: an export never decodes and re-encodes it."""
    qs = StatementOfReasons.objects.filter(errors={}, applied_at__gte=period.start, applied_at__lt=period.end)
    if after is not None:
        applied_at, pk = after
        # `applied_at >= cursor` bounds the index scan (sor_applied) where the page starts; the OR
        # alone is only a filter, and every page would walk the index from the period's start
        qs = qs.filter(applied_at__gte=applied_at).filter(Q(applied_at__gt=applied_at) | Q(applied_at=applied_at, id__gt=pk))
    return list(qs.order_by("applied_at", "id").annotate(text=Cast("statement", TextField()))
                .values_list("id", "applied_at", "text")[: limit + 1])


def statement_status(period) -> dict:
    """How many statements of the period are valid, refused by the rules, waiting or handed over.
    Counted from the indexes sor_applied_batch and sor_invalid (index-only scans: the rows hold the
    whole statement); waiting = valid and not yet handed over."""
    qs = StatementOfReasons.objects.filter(applied_at__gte=period.start, applied_at__lt=period.end).order_by()
    counts = qs.aggregate(total=Count("applied_at"), submitted=Count("batch"))
    refused = qs.exclude(errors={}).aggregate(invalid=Count("applied_at"), submitted=Count("batch"))
    return {
        "total": counts["total"], "invalid": refused["invalid"], "submitted": counts["submitted"],
        "waiting": counts["total"] - counts["submitted"] - (refused["invalid"] - refused["submitted"]),
    }


def invalid_statements(period, *, limit: int = 20) -> list[StatementOfReasons]:
    return list(
        StatementOfReasons.objects.filter(applied_at__gte=period.start, applied_at__lt=period.end)
        .exclude(errors={}).order_by("-applied_at")[:limit]
    )
