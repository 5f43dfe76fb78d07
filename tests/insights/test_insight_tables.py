"""The dashboards' tables are written in Python (insights/templatetags/insight_tables.py); each cell
must read exactly as the template loop they replace showed it."""

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template

from insights.templatetags.insight_tables import kpi_case_rows, table_body

TEMPLATE_LOOP = Template(
    '<thead><tr>{% for c in table.columns %}<th{% if not forloop.first %} class="num"{% endif %}>{{ c }}</th>'
    '{% endfor %}</tr></thead>\n  <tbody>{% for row in table.rows %}<tr>{% for v in row %}<td{% if not forloop.first %}'
    ' class="num"{% endif %}>{% if v is None %}–{% else %}{{ v }}{% endif %}</td>{% endfor %}</tr>{% endfor %}</tbody>')


def test_cells_read_as_the_template_loop_showed_them():
    table = {
        "columns": ["Queue", "Backlog", "Met %", "Points", "Since"],
        "rows": [
            ["Spam <b>&</b> scams", 1200, 97.5, Decimal("12.50"), date(2026, 12, 1)],
            ["Legal \"EU\"", 0, None, Decimal("0"), None],
            ["", -3, 100.0, 1.0e-7, "2026-12-01 10:00"],
        ],
    }
    assert table_body(table) == TEMPLATE_LOOP.render(Context({"table": table}))


def test_an_empty_table_has_its_header_only():
    table = {"columns": ["Day", "Inflow"], "rows": []}
    assert table_body(table) == '<thead><tr><th>Day</th><th class="num">Inflow</th></tr></thead>\n  <tbody></tbody>'


OLD_KPI_ROWS = Template(
    """{% for c in cases %}<tr><td><a href="{% url 'case-detail' c.pk %}">#{{ c.pk }}</a></td><td>{{ c.queue.name }}</td>"""
    """<td>P{{ c.priority }}</td><td>{{ c.get_status_display }}</td><td>{{ c.category.name }}</td>"""
    """<td>{{ c.opened_at|date:"Y-m-d H:i" }}</td><td>{{ c.resolved_at|date:"Y-m-d H:i"|default:"–" }}</td>"""
    """<td>{{ c.resolved_by.username|default:"–" }}</td></tr>{% endfor %}""")


@pytest.mark.django_db
def test_the_cases_behind_a_kpi_read_as_the_template_loop_showed_them(settings):
    from django.utils import timezone

    from cases.models import Case
    from tests import factories as fx

    lead = fx.UserFactory(username="o'brien <lead>")
    fx.CaseFactory(queue=fx.QueueFactory(name="Fraud & <scams>"), status="resolved", resolved_by=lead,
                   resolved_at=timezone.now())
    fx.CaseFactory(status="on_hold", priority=0)
    cases = list(Case.objects.select_related("queue", "category", "resolved_by").order_by("-id"))
    with timezone.override("Europe/Paris"):  # times in the reader's zone, as the template's |date
        assert kpi_case_rows(cases) == OLD_KPI_ROWS.render(Context({"cases": cases}))
