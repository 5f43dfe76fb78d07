"""Template helpers for the workspace pages: timeline sentences, priority reasons, clocks."""

from django import template
from django.utils import timezone

from ..models import CaseStatus

register = template.Library()

_STATUS = dict(CaseStatus.choices)


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


def compact_duration(seconds: int) -> str:
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 365:
        return f"{days // 365}y {days % 365}d"
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


@register.filter
def until(value) -> str:
    """Time left until `value` ("12m left") or past it ("3h 5m overdue")."""
    if not value:
        return "—"
    seconds = int((value - timezone.now()).total_seconds())
    return f"{compact_duration(seconds)} left" if seconds >= 0 else f"{compact_duration(seconds)} overdue"


@register.filter
def status_pill(status: str) -> str:
    return {"open": "", "in_review": "ok", "on_hold": "warn", "escalated": "bad", "awaiting_approval": "warn",
            "resolved": "ok"}.get(status, "")
