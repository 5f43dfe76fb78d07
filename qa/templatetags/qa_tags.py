"""QA template filters."""

from django import template

from enforcement.models import ActionType

register = template.Library()
_LABELS = dict(ActionType.choices)


@register.filter
def action_labels(types) -> str:
    """["suspension", "warn"] or "suspension+warn" → "Suspension, Warning"."""
    if isinstance(types, str):
        types = types.split("+") if types else []
    return ", ".join(_LABELS.get(t, t) for t in types or [])
