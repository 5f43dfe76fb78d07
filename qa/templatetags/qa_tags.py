"""QA template filters, and the QA queue's and overview's table rows."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from enforcement.models import ActionType
from tsconsole.rows import around_id, local, text

from ..models import SampleStatus

register = template.Library()
_LABELS = dict(ActionType.choices)


@register.filter
def action_labels(types) -> str:
    """["suspension", "warn"] or "suspension+warn" → "Suspension, Warning"."""
    if isinstance(types, str):
        types = types.split("+") if types else []
    return ", ".join(_LABELS.get(t, t) for t in types or [])


# The QA queue's tables, written in Python: a page of fifty samples (with, for a lead, an assignment
# form on each due one) cost the queue most of its time as template loops.

_DAY = "%Y-%m-%d"  # the template's |date:"Y-m-d"
_OVERDUE = ' <span class="pill bad">overdue</span>'


@register.simple_tag
def due_sample_rows(samples, now) -> str:
    """Rows of the samples due for the reader: sample, case, category, due date (overdue marked)."""
    before, after = around_id("qa-sample")
    return mark_safe("".join(
        f'<tr><td><a href="{before}{s.pk}{after}" data-testid="due-sample">Sample {s.pk}</a></td><td>#{s.case_id}</td>'
        f'<td>{text(s.case.category.name)}</td><td>{local(s.due_at, _DAY)}'
        f'{_OVERDUE if s.due_at < now else ""}</td></tr>'
        for s in samples))


@register.simple_tag(takes_context=True)
def sample_rows(context, samples, lead, reviewer_options) -> str:
    """Rows of the sample list (`qa.selectors.SampleRow`s), drawn as the selector blinded them: a
    withheld rule reads "hidden until reviewed". A lead's table has the analyst column and a form to
    assign each due sample."""
    if not samples:
        return mark_safe('<tr><td colspan="7" class="muted">No samples.</td></tr>')
    (page, page_end), (assign, assign_end) = around_id("qa-sample"), around_id("qa-sample-assign")
    csrf = text(context.get("csrf_token", ""))
    options = conditional_escape(reviewer_options)  # the view's options are marked safe; anything else is text
    statuses = dict(SampleStatus.choices)
    rows = []
    for s in samples:
        analyst = f"<td>{text(s.analyst_name)}</td>" if lead else ""
        rule = text(s.rule_name) if s.rule_name is not None else '<span class="muted">hidden until reviewed</span>'
        reviewer = text(s.reviewer_name) if s.reviewer_name is not None else '<span class="pill warn">unassigned</span>'
        form = ""
        if lead and s.status == SampleStatus.DUE:
            form = (f'<form method="post" action="{assign}{s.pk}{assign_end}" class="inline">'
                    f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
                    f'<select name="reviewer" aria-label="Reviewer">{options}</select>'
                    f'<button type="submit">Assign</button></form>')
        rows.append(f'<tr><td><a href="{page}{s.pk}{page_end}">Sample {s.pk}</a></td><td>#{s.case_id}</td>{analyst}'
                    f'<td>{rule}</td><td>{reviewer} {form}</td>'
                    f'<td>{text(statuses.get(s.status, s.status))}</td><td>{local(s.due_at, _DAY)}</td></tr>')
    return mark_safe("".join(rows))


@register.simple_tag
def audit_rows(name, rows) -> str:
    """The QA overview's rows for one breakdown ("analyst", "policy" or "queue"): audits by final
    outcome and the agreement rate; an analyst's name opens the samples of their decisions."""
    if not rows:
        return mark_safe('<tr><td colspan="7" class="muted">No audits yet.</td></tr>')
    queue = reverse("qa-queue")
    cells = []
    for row in rows:
        label = row["label"]
        if name == "analyst":
            first = f'<a href="{queue}?{text(urlencode({"analyst": label}))}">{text(label)}</a>'
        else:
            first = text(label) if label else "—"
        cells.append(
            f'<tr><td>{first}</td><td class="num">{row["audits"]}</td><td class="num">{row["agree"]}</td>'
            f'<td class="num">{row["minor"]}</td><td class="num">{row["major"]}</td>'
            f'<td class="num">{row["critical"]}</td><td class="num">{row["rate"]}%</td></tr>')
    return mark_safe("".join(cells))
