"""The dashboards' tables ({"columns", "rows"}), written in Python: a month of daily flow or a team
of analysts is hundreds of cells, and a template loop of a node per cell cost the dashboards more
than reading their figures."""

import html

from django import template
from django.utils.formats import localize
from django.utils.safestring import mark_safe

register = template.Library()


def _cell(value) -> str:
    # as the template engine shows a value: localized (numbers, dates), then escaped; None as "–"
    return "–" if value is None else html.escape(str(localize(value)))


_NUM = ' class="num"'


@register.simple_tag
def table_body(table) -> str:
    """<thead> and <tbody> of `table`: the first column a label, the others numbers (right-aligned)."""
    head = "".join(f"<th{_NUM if i else ''}>{html.escape(str(c))}</th>" for i, c in enumerate(table["columns"]))
    rows = "".join(
        "<tr>" + "".join(f"<td{_NUM if i else ''}>{_cell(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in table["rows"])
    return mark_safe(f"<thead><tr>{head}</tr></thead>\n  <tbody>{rows}</tbody>")
