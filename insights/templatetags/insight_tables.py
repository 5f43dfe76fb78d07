"""The dashboards' tables ({"columns", "rows"}), written in Python: a month of daily flow or a team
of analysts is hundreds of cells, and a template loop of a node per cell cost the dashboards more
than reading their figures."""

import html

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import mark_safe

from cases.models import CaseStatus

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


def _moment(value) -> str:
    # the template's |date:"Y-m-d H:i": in the reader's zone
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"


@register.simple_tag
def kpi_case_rows(cases) -> str:
    """The rows of the cases behind a KPI (a hundred a page): case, queue, priority, status,
    category, opened, resolved and by whom."""
    case_url = reverse("case-detail", args=[0])[:-2]  # "/cases/": the row's id and "/" follow
    statuses = dict(CaseStatus.choices)
    return mark_safe("".join(
        f'<tr><td><a href="{case_url}{c.pk}/">#{c.pk}</a></td><td>{html.escape(c.queue.name)}</td><td>P{int(c.priority)}</td>'
        f'<td>{html.escape(str(statuses.get(c.status, c.status)))}</td><td>{html.escape(c.category.name)}</td>'
        f'<td>{_moment(c.opened_at)}</td><td>{_moment(c.resolved_at)}</td>'
        f'<td>{html.escape(c.resolved_by.username) if c.resolved_by_id else "–"}</td></tr>'
        for c in cases))
