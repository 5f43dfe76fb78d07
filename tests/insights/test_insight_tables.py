"""The dashboards' tables are written in Python (insights/templatetags/insight_tables.py); each cell
must read exactly as the template loop they replace showed it."""

from datetime import date
from decimal import Decimal

from django.template import Context, Template

from insights.templatetags.insight_tables import table_body

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
