"""What the table rows written in Python share (case tables, dashboard tables, the QA queue): a
template loop of fifty or a hundred rows cost those pages more than everything else on them, so
their rows are f-strings, built with these instead of the template engine's per-value machinery."""

import html

from django.urls import reverse
from django.utils import timezone

_ID = 987654321


def text(value) -> str:
    """`value` as text, HTML-escaped as the template engine escapes it."""
    return html.escape(str(value))


def local(value, fmt: str, empty: str = "") -> str:
    """`value` in the reader's zone, as the template's |date does (`empty` when there is none)."""
    return timezone.localtime(value).strftime(fmt) if value else empty


def around_id(url_name: str) -> tuple[str, str]:
    """What comes before and after the id in the url `url_name` ("/cases/", "/"): reversed once
    per table instead of once per row."""
    before, after = reverse(url_name, args=[_ID]).split(str(_ID))
    return before, after
