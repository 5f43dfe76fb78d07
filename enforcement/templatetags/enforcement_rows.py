"""The support lookup's outcome rows, written in Python (see tsconsole.rows): a subject with a
hundred outcomes spent most of its page in the template engine's per-value work."""

from django import template
from django.utils.safestring import mark_safe
from django.utils.text import normalize_newlines

from enforcement.models import ActionStatus, ActionType
from tsconsole.rows import local, text
from tsconsole.templatetags.timefmt import when_abs

register = template.Library()


def _statement(value: str) -> str:
    """As the template's |linebreaksbr|default:"—" wrote it."""
    return text(normalize_newlines(value)).replace("\n", "<br>") if value else "—"


def _appeal(outcome: dict) -> str:
    until = local(outcome["appeal_until"], "%Y-%m-%d")
    if outcome["appealable"]:
        return f"Appealable until {until}"
    if outcome["status"] == ActionStatus.REVERSED:
        return "Reversed: nothing to appeal"
    return f"Appeal window closed {until}"


@register.simple_tag
def outcome_rows(outcomes) -> str:
    """The <tr>s of a subject's outcomes (see enforcement/support_lookup.html)."""
    rows = []
    for o in outcomes:
        if o["duration"]:
            ends = f", until {when_abs(o['ends_at'])}" if o["ends_at"] else ""
            duration = f"{text(o['duration'])}{ends}"
        else:
            duration = "permanent"
        restricting = o["status"] == ActionStatus.ACTIVE and o["action_type"] != ActionType.NO_VIOLATION
        reversed_on = f" {local(o['reversed_at'], '%Y-%m-%d')}" if o["reversed_at"] else ""
        rows.append(
            f'<tr data-testid="outcome"><td>{text(o["action"])}</td><td>{text(o["target"])}</td>'
            f'<td>{when_abs(o["date"])}</td><td>{duration}</td>'
            f'<td><span class="pill {"bad" if restricting else "ok"}">{text(o["status_label"])}</span>{reversed_on}</td>'
            f'<td>{_statement(o["statement"])}</td><td>{text(_appeal(o))}</td></tr>\n')
    return mark_safe("".join(rows))
