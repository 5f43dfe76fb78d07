"""One way to show a moment on every page: relative ("3h 5m ago", "in 55m"), with the absolute
time in the reader's zone on hover and in the `datetime` attribute for scripts.

The zone is the one TimezoneMiddleware activated (the reader's own from Preferences, else the
browser's, sent in the `tz` cookie), so `localtime` here is the reader's local time; the label
names the zone so nobody guesses.
Loaded as a template builtin: `{{ case.opened_at|when }}`, `{{ x|when_abs }}`.
"""

import re

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()

ABSOLUTE = "%a %d %b %Y, %H:%M"
_URL = re.compile(r"https?://\S+")


def compact_duration(seconds: int) -> str:
    """45s, 12m, 3h 5m, 4d 2h, 1y 20d: one compact form for ages, countdowns and durations."""
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


def zone_label(moment) -> str:
    """"CET (Europe/Paris)", or "UTC"."""
    name = str(timezone.get_current_timezone())
    abbrev = moment.strftime("%Z")
    return name if abbrev == name or not abbrev else f"{abbrev} ({name})"


def absolute(value) -> str:
    local = timezone.localtime(value)
    return f"{local.strftime(ABSOLUTE)} {zone_label(local)}"


def relative(value, now=None) -> str:
    seconds = int((value - (now or timezone.now())).total_seconds())
    if abs(seconds) < 45:
        return "just now"
    return f"in {compact_duration(seconds)}" if seconds > 0 else f"{compact_duration(seconds)} ago"


@register.filter(is_safe=True)
def when(value):
    """<time> saying how long ago (or how soon), the absolute local time on hover."""
    if not value:
        return "—"
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), absolute(value), relative(value))


@register.filter
def when_title(value) -> str:
    """The absolute local time with its zone, for a title attribute."""
    return absolute(value) if value else ""


@register.filter(is_safe=True)
def when_abs(value):
    """<time> with the absolute local time shown (and the relative one on hover)."""
    if not value:
        return "—"
    local = timezone.localtime(value)
    # An f-string rather than format_html: tables call this for every row.
    return mark_safe(f'<time datetime="{value.isoformat()}" title="{relative(value)}">{escape(local.strftime(ABSOLUTE))} '
                     f'<span class="tz">{escape(local.strftime("%Z") or str(local.tzinfo))}</span></time>')


@register.simple_tag
def current_zone() -> str:
    """The zone pages are shown in, for labels ("Times in Europe/Paris")."""
    return str(timezone.get_current_timezone())


@register.filter
def first_line(text, limit: int = 160) -> str:
    """The first non-blank line of a text without its web addresses (the title links there), cut
    to `limit` characters: a notification's one-line summary."""
    for line in (text or "").splitlines():
        line = _URL.sub("", line).strip(" :-\t")
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


@register.filter
def more_lines(text) -> bool:
    """Whether a text says more than its first line."""
    return len([line for line in (text or "").splitlines() if line.strip()]) > 1
