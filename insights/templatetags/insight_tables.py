"""The dashboards' tables ({"columns", "rows"}), written in Python: a month of daily flow or a team
of analysts is hundreds of cells, and a template loop of a node per cell cost the dashboards more
than reading their figures."""

from django import template
from django.utils.formats import localize
from django.utils.safestring import mark_safe

from cases.models import CaseStatus
from tsconsole.rows import around_id, local, text

register = template.Library()


def _cell(value) -> str:
    # as the template engine shows a value: localized (numbers, dates), then escaped; None as "–"
    return "–" if value is None else text(localize(value))


_NUM = ' class="num"'


@register.simple_tag
def table_body(table) -> str:
    """<thead> and <tbody> of `table`: the first column a label, the others numbers (right-aligned)."""
    head = "".join(f"<th{_NUM if i else ''}>{text(c)}</th>" for i, c in enumerate(table["columns"]))
    rows = "".join(
        "<tr>" + "".join(f"<td{_NUM if i else ''}>{_cell(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in table["rows"])
    return mark_safe(f"<thead><tr>{head}</tr></thead>\n  <tbody>{rows}</tbody>")


_STATUS = dict(CaseStatus.choices)
_MINUTE = "%Y-%m-%d %H:%M"  # the template's |date:"Y-m-d H:i"


@register.simple_tag
def kpi_case_rows(cases) -> str:
    """The rows of the cases behind a KPI (a hundred a page): case, queue, priority, status,
    category, opened, resolved and by whom."""
    before, after = around_id("case-detail")
    return mark_safe("".join(
        f'<tr><td><a href="{before}{c.pk}{after}">#{c.pk}</a></td><td>{text(c.queue.name)}</td><td>P{int(c.priority)}</td>'
        f'<td>{text(_STATUS.get(c.status, c.status))}</td><td>{text(c.category.name)}</td>'
        f'<td>{local(c.opened_at, _MINUTE, "–")}</td><td>{local(c.resolved_at, _MINUTE, "–")}</td>'
        f'<td>{text(c.resolved_by.username) if c.resolved_by_id else "–"}</td></tr>'
        for c in cases))
