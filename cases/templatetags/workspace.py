"""Template helpers for the workspace pages: timeline sentences, priority reasons, clocks."""

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from tsconsole.rows import around_id, text
from tsconsole.templatetags.timefmt import compact_duration, when, when_title

from ..models import CaseStatus, Priority, Source

register = template.Library()

_STATUS = dict(CaseStatus.choices)
_CLOCK_LABELS = {"first_touch": "First-touch", "resolution": "Resolution"}


def _status(value: str) -> str:
    return _STATUS.get(value, value or "—").lower()


@register.filter
def event_text(event) -> str:
    """One line saying what an event did, from its verb and data (unknown verbs read generically)."""
    d = event.data or {}
    verb = event.verb
    reason = f": {d['reason']}" if d.get("reason") else ""
    if verb == "opened":
        return f"opened the case in {d.get('queue', 'its queue')}" + (
            f" at P{d['priority']}" if d.get("priority") is not None else "")
    if verb == "claimed":
        return "claimed the case" + (" (next in queue)" if d.get("next") else "")
    if verb == "released":
        return "released the case to the queue" + reason
    if verb == "claim_expired":
        return f"claim expired after {d.get('timeout_minutes', '?')} idle minutes; the case went back to the queue"
    if verb == "note_added":
        return "added a note"
    if verb == "evidence_added":
        kind = "a text extract" if d.get("kind") == "text" else f"a file ({d.get('content_type', '?')})"
        return f"added evidence: {kind}, SHA-256 {str(d.get('sha256', ''))[:12]}…"
    if verb == "evidence_revealed":
        return f"revealed sensitive evidence #{d.get('evidence_id', '?')}"
    if verb == "category_changed":
        return f"changed the category from {d.get('from')} to {d.get('to')}" + reason
    if verb == "priority_changed":
        return f"changed the priority from P{d.get('from')} to P{d.get('to')}" + reason
    if verb == "tags_changed":
        parts = [f"+{t}" for t in d.get("added", [])] + [f"−{t}" for t in d.get("removed", [])]
        return "changed tags " + " ".join(parts)
    if verb == "held":
        who = d.get("helper") or (f"team {d['team']}" if d.get("team") else "help")
        return f"put the case on hold, asking {who}" + reason
    if verb == "resumed":
        if d.get("taken_over"):
            return f"resumed the case and took it over from {d.get('previous_assignee')}"
        return "resumed the case"
    if verb == "handed_off":
        return f"handed the case from {d.get('from')} to {d.get('to')}" + reason
    if verb == "resolved":
        outcome = str(d.get("resolution", "")).replace("_", " ") or "resolved"
        return f"resolved the case: {outcome}" + reason
    if verb in ("sla_at_risk", "sla_breached"):
        clock = _CLOCK_LABELS.get(d.get("clock"), "SLA")
        text = f"{clock} target {'at risk' if verb == 'sla_at_risk' else 'breached'}"
        return text + (" (after a priority raise)" if d.get("after_priority_raise") else "")
    text = verb.replace("_", " ").replace(".", " ")
    if event.from_status or event.to_status:
        text += f" ({_status(event.from_status)} → {_status(event.to_status)})"
    return text


@register.filter
def actor_name(event) -> str:
    if event.actor_id:
        return event.actor.get_username()
    return "System" if event.actor_kind == "system" else event.get_actor_kind_display()


@register.filter
def reason_text(reason) -> str:
    """A priority reason as intake or a person wrote it (text, or a {"text"/"reason"/"label"} object)."""
    if isinstance(reason, dict):
        for key in ("text", "reason", "label", "detail"):
            if reason.get(key):
                return str(reason[key])
        return ", ".join(f"{k}: {v}" for k, v in reason.items())
    return str(reason)


@register.filter
def clock_pill(state: str) -> str:
    return {"running": "ok", "met": "ok", "at_risk": "warn", "paused": "", "breached": "bad", "missed": "bad"}.get(
        state, "")


@register.filter
def age(value) -> str:
    """A compact age: 45s, 12m, 3h 5m, 4d 2h."""
    if not value:
        return "—"
    seconds = int((timezone.now() - value).total_seconds()) if hasattr(value, "tzinfo") else int(value)
    return compact_duration(seconds)


@register.filter
def until(value, now=None) -> str:
    """Time left until `value` ("12m left") or past it ("3h 5m overdue")."""
    if not value:
        return "—"
    seconds = int((value - (now or timezone.now())).total_seconds())
    return f"{compact_duration(seconds)} left" if seconds >= 0 else f"{compact_duration(seconds)} overdue"


@register.filter
def status_pill(status: str) -> str:
    return {"open": "", "in_review": "ok", "on_hold": "warn", "escalated": "bad", "awaiting_approval": "warn",
            "resolved": "ok"}.get(status, "")


_PRIORITY = dict(Priority.choices)


def _due_cell(case, resolved: bool, now) -> str:
    if case.status == CaseStatus.RESOLVED:
        return when(case.resolved_at) if resolved else '<span class="muted">resolved</span>'
    due = case.resolution_due_at
    if not due:
        return "—"
    return f'<time datetime="{due.isoformat()}" data-countdown title="{text(when_title(due))}">{until(due, now)}</time>'


@register.simple_tag
def case_table_rows(cases, clickable=False, resolved=False, empty=""):
    """The <tr>s of a case table (see cases/_case_table.html), written in Python (tsconsole.rows).
    `resolved` shows when resolved cases were resolved instead of "resolved"."""
    now = timezone.now()
    before, after = around_id("case-detail")
    rows = []
    for case in cases:
        url = f"{before}{case.pk}{after}"
        hold = ""
        if case.status == CaseStatus.ON_HOLD and case.hold_reason:
            hold = f'<div class="muted small">{text(Truncator(case.hold_reason).chars(60))}</div>'
        assignee = case.assignee
        who = text(assignee.get_full_name() or assignee.get_username()) if assignee else "—"
        href = f' data-href="{url}"' if clickable else ""
        rows.append(
            f'<tr data-keyrow{href}><td><a href="{url}">#{case.pk}</a></td>'
            f'<td>{text(case.subject)}</td><td>{text(case.queue.name) if case.queue_id else ""}</td>'
            f'<td>{text(case.category.name) if case.category_id else ""}</td>'
            f'<td><span class="pill {status_pill(case.status)}">{text(_STATUS.get(case.status, case.status))}</span>{hold}</td>'
            f'<td class="prio-{int(case.priority)}">{text(_PRIORITY.get(case.priority, case.priority))}</td>'
            f'<td>{who}</td><td>{_due_cell(case, resolved, now)}</td></tr>\n')
    if not rows:
        return format_html('<tr><td colspan="8" class="muted">{}</td></tr>', empty or "Nothing here.")
    return mark_safe("".join(rows))


@register.filter
def collapse_repeats(events) -> list[dict]:
    """Timeline rows with consecutive identical system lines (the sweep's repeated SLA marks) folded
    into one with a count: [{"event", "times", "last"}]."""
    rows: list[dict] = []
    for event in events:
        previous = rows[-1] if rows else None
        if (previous and event.actor_id is None and previous["event"].actor_id is None
                and event.verb == previous["event"].verb and event.verb.startswith("sla_")
                and event_text(event) == event_text(previous["event"])):
            previous["times"] += 1
            previous["last"] = event
            continue
        rows.append({"event": event, "times": 1, "last": event})
    return rows


@register.filter
def clock_state_label(state: str) -> str:
    return {"running": "On track", "met": "Met", "missed": "Missed", "at_risk": "At risk", "paused": "Paused",
            "breached": "Breached", "none": "No target"}.get(state, state)


@register.filter
def source_label(value: str) -> str:
    """"user_report" → "User report"."""
    return dict(Source.choices).get(value, str(value or "").replace("_", " ").capitalize())


@register.simple_tag
def category_options(categories, selected_id):
    """The category picker's <option>s (dozens on every open case's page), the one of `selected_id`
    selected: one Python join instead of a template loop of a node per value."""
    return mark_safe("".join(
        f'<option value="{escape(c["slug"])}"{" selected" if c["pk"] == selected_id else ""}>{escape(c["label"])}</option>'
        for c in categories))
