"""FilterSets shared by the HTML lists and the API, so both filter the same way."""

import django_filters
from django import forms
from django.db.models import Q

from tsconsole.filters import FilterSet, ListedModelChoiceFilter
from tsconsole.widgets import FastCheckboxSelectMultiple, FastSelect

from .models import Case, CaseStatus, Category, Priority, Queue


class CaseFilter(FilterSet):
    """Cases by status, queue, assignee, priority, category (with its subcategories), tag and
    opening time. `assignee` takes a username, `me`, or `none` (unassigned)."""

    # Status and priority are columns of the case, so no row can repeat: without distinct=False
    # django-filter wraps the whole list (and its count) in a SELECT DISTINCT over every column.
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, widget=FastCheckboxSelectMultiple,
                                                 distinct=False)
    queue = ListedModelChoiceFilter(queryset=Queue.objects.all(), to_field_name="slug", empty_label="Any queue",
                                    widget=FastSelect)
    assignee = django_filters.CharFilter(method="filter_assignee", label="Assignee",
                                         help_text="A username, “me”, or “none” for unassigned.")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, widget=FastCheckboxSelectMultiple,
                                                   distinct=False)
    # A category's label names its parent: joined, or the form's options cost a query each.
    category = ListedModelChoiceFilter(
        queryset=Category.objects.select_related("parent"), to_field_name="slug", method="filter_category",
        empty_label="Any category", widget=FastSelect)
    tag = django_filters.CharFilter(field_name="tags__name", label="Tag")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="opened_at", lookup_expr="gte", label="Opened from",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    created_before = django_filters.IsoDateTimeFilter(
        field_name="opened_at", lookup_expr="lt", label="Opened before",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    class Meta:
        model = Case
        fields = ["status", "queue", "assignee", "priority", "category", "tag", "created_after", "created_before"]

    def filter_assignee(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        if value.lower() == "none":
            return queryset.filter(assignee__isnull=True)
        if value.lower() == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee_id=user.pk if user and user.is_authenticated else None)
        return queryset.filter(assignee__username=value)

    def filter_category(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Q(category=value) | Q(category__parent=value))
