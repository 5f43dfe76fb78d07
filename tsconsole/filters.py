"""The base of every FilterSet (HTML lists and API alike): query values a filter cannot take are
the caller's mistake, answered as form errors (400 in the API), never passed to the database."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from .validators import SINGLE_LINE_MESSAGE, has_control_characters

BIGINT_MAX = 2**63 - 1


class FilterSet(django_filters.FilterSet):
    """Refuses control characters in any filter's value before a field sees it: a ModelChoiceFilter
    looks its value up in the database while cleaning, and PostgreSQL refuses NUL."""

    def __init__(self, data=None, *args, **kwargs):
        self.refused: dict[str, str] = {}
        if data is not None:
            data = data.copy()
            for key in list(data.keys()):
                if key in self.base_filters and any(has_control_characters(str(v)) for v in data.getlist(key)):
                    self.refused[key] = SINGLE_LINE_MESSAGE
                    del data[key]
        super().__init__(data, *args, **kwargs)

    @property
    def errors(self):
        errors = self.form.errors
        for key, message in self.refused.items():
            if key not in errors and key in self.form.fields:
                self.form.add_error(key, ValidationError(message, code="control_characters"))
        return self.form.errors

    def is_valid(self):
        self.errors  # noqa: B018 -- adds the refused values' messages to the form
        return super().is_valid() and not self.refused


class IdFilter(django_filters.Filter):
    """An id: a whole number that fits the id column (a NumberFilter takes 1e308 and -1.79e308)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class _ListedChoices(django_filters.fields.ModelChoiceIterator):
    """Reads the choices with one plain query. Django's iterator reads them through a server-side
    cursor (DECLARE, FETCH, CLOSE: three statements), which suits large tables, not a list of queues."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class _ListedChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _ListedChoices


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """ModelChoiceFilter over a short table (queues, categories) shown as a drop-down."""

    field_class = _ListedChoiceField
