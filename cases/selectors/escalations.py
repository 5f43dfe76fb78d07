"""Reads for escalations: who sees which, the escalations page (keyset pages), one escalation
with its paging history, and the case page panel.

Leads (`escalation.manage`) see every escalation; everyone else with `escalation.view` sees the
escalations sent to their teams and the ones they sent.
"""

import datetime as dt

import django_filters
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tsconsole.filters import FilterSet, IdFilter
from tsconsole.models import Team, TeamMembership
from tsconsole.reusable import ReusableQuery
from tsconsole.roles import can

from ..models import Case, CaseStatus, Escalation, EscalationNotification, EscalationSeverity
from ..transitions import can_transition
from .workspace import case_has, case_page_choices, unshown_columns

PAGE_SIZE = 50
CASE_PANEL_LIMIT = 10
ACTIVE = (Escalation.Status.OPEN, Escalation.Status.ACKNOWLEDGED)


class EscalationFilter(FilterSet):
    """Shared by the escalations page and GET /api/v1/escalations/."""

    status = django_filters.ChoiceFilter(
        choices=[("active", "Not resolved"), *Escalation.Status.choices], method="filter_status",
        empty_label="Any status",
    )
    severity = django_filters.ChoiceFilter(choices=EscalationSeverity.choices, empty_label="Any severity")
    team = django_filters.ModelChoiceFilter(
        field_name="team", queryset=Team.objects.order_by("name"), to_field_name="slug", empty_label="Any team",
    )
    case = IdFilter(field_name="case_id")

    class Meta:
        model = Escalation
        fields = ["status", "severity", "team", "case"]

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(status__in=ACTIVE)
        return queryset.filter(status=value)


def escalations_visible_to(user):
    """The escalations `user` may open."""
    queryset = Escalation.objects.all()
    if can(user, "escalation.manage"):
        return queryset
    if not can(user, "escalation.view"):
        return queryset.none()
    teams = TeamMembership.objects.filter(user_id=user.pk).values("team_id")
    return queryset.filter(Q(team_id__in=teams) | Q(created_by_id=user.pk))


def _list_base(queryset):
    return queryset.select_related("case", "team", "created_by", "acknowledged_by", "resolved_by")


def _encode(escalation: Escalation, by_deadline: bool) -> str:
    if by_deadline:
        return f"{escalation.severity}|{escalation.ack_due_at.isoformat()}|{escalation.pk}"
    return str(escalation.pk)


def _after(queryset, cursor: str, by_deadline: bool):
    """Rows after `cursor` in the page order; a malformed cursor restarts at the first page."""
    try:
        if by_deadline:
            severity, due_text, pk_text = cursor.split("|")
            due, pk = parse_datetime(due_text), int(pk_text)
            if due is None or severity not in EscalationSeverity.values:
                raise ValueError(cursor)
            return queryset.filter(
                Q(severity__gt=severity) | Q(severity=severity, ack_due_at__gt=due)
                | Q(severity=severity, ack_due_at=due, pk__gt=pk)
            )
        return queryset.filter(pk__lt=int(cursor))
    except (TypeError, ValueError):
        return queryset


def escalation_page(user, params, *, after: str = "", limit: int | None = None) -> dict:
    """One page of the escalations `user` may see, filtered by `params` (EscalationFilter).

    Unresolved escalations come most severe first, then nearest deadline (the order people work
    them in); a list that includes resolved ones comes newest first. Keyset pages: no OFFSET and
    no COUNT over the table.
    """
    limit = limit or PAGE_SIZE
    data = params.copy()
    if "status" not in data:
        data["status"] = "active"
    filterset = EscalationFilter(data, queryset=escalations_visible_to(user))
    queryset = filterset.qs if filterset.is_valid() else escalations_visible_to(user).none()
    by_deadline = filterset.is_valid() and filterset.form.cleaned_data.get("status") in ("active", *ACTIVE)
    queryset = queryset.order_by("severity", "ack_due_at", "pk") if by_deadline else queryset.order_by("-pk")
    if after:
        queryset = _after(queryset, after, by_deadline)
    rows = list(_list_base(queryset)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "filter": filterset,
        "rows": rows,
        "next": _encode(rows[-1], by_deadline) if more else "",
        "by_deadline": by_deadline,
    }


def open_counts_by_severity(user) -> dict[str, int]:
    """Unresolved escalations `user` can see, per severity (a GROUP BY over a small, indexed set)."""
    counts = {severity: 0 for severity in EscalationSeverity.values}
    for row in escalations_visible_to(user).filter(status__in=ACTIVE).values("severity").annotate(n=Count("pk")):
        counts[row["severity"]] = row["n"]
    return counts


def awaiting_acknowledgement(user, *, limit: int = 10) -> list[Escalation]:
    """Escalations `user` can see that nobody has acknowledged yet, the closest deadline first."""
    return list(_list_base(escalations_visible_to(user)).filter(status=Escalation.Status.OPEN)
                .order_by("ack_due_at", "id")[:limit])


def escalation_for(user, pk) -> Escalation | None:
    return _list_base(escalations_visible_to(user)).filter(pk=pk).first()


def escalation_paging_log(escalation: Escalation) -> list[EscalationNotification]:
    """Who was paged, step by step."""
    return list(escalation.notifications.select_related("recipient").order_by("step", "created_at", "id"))


def seconds_to_deadline(escalation: Escalation, now: dt.datetime | None = None) -> int:
    """Seconds left to acknowledge (negative when overdue)."""
    return int((escalation.ack_due_at - (now or timezone.now())).total_seconds())


_CASE_ESCALATIONS = ReusableQuery(
    "case_escalations",
    lambda limit, case_id: Escalation.objects.filter(case_id=case_id).select_related("team", "created_by")
    .defer(*unshown_columns(team="team", created_by="user")).order_by("-created_at", "-id")[:limit])


def case_escalations(case: Case, *, limit: int = CASE_PANEL_LIMIT) -> list[Escalation]:
    return _CASE_ESCALATIONS(limit, case_id=case.pk)


def may_escalate(user, case: Case) -> bool:
    """Whether the case page offers the escalate form (the service decides; this only hides it)."""
    if not can(user, "case.work") or not can_transition(case.status, CaseStatus.ESCALATED):
        return False
    return case.assignee_id in (None, user.pk) or can(user, "case.reassign")


def escalation_teams():
    return list(Team.objects.order_by("name"))


def case_panel(user, case: Case) -> dict:
    """Context of the escalation panel on the case page (slot "case")."""
    offer = may_escalate(user, case)
    return {
        "case": case,
        "escalations": case_escalations(case) if case_has(case, "escalations") else [],
        "may_view": can(user, "escalation.view"),
        "may_escalate": offer,
        "severities": EscalationSeverity.choices if offer else [],
        # the teams the case page's other pickers list (shared, as theirs, through the cache)
        "teams": case_page_choices()["teams"] if offer else [],
        "now": timezone.now(),
    }
