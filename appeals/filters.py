"""The appeal list's filters, shared by the API (and any HTML list)."""

import django_filters

from tsconsole.filters import FilterSet

from .models import Appeal, AppealStatus, Outcome


class AppealFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=AppealStatus.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    queue = django_filters.CharFilter(field_name="case__queue__slug", label="Queue slug")
    policy = django_filters.CharFilter(field_name="policy__slug", label="Policy slug")
    decided_by = django_filters.CharFilter(field_name="decided_by__username", label="Reviewer's username")
    created_after = django_filters.IsoDateTimeFilter(field_name="filed_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="filed_at", lookup_expr="lt")

    class Meta:
        model = Appeal
        fields = ["status", "outcome", "queue", "policy", "decided_by", "created_after", "created_before"]
