"""The QA queue page: its rows (written in Python, qa/templatetags/qa_tags.py) read as the template
loops they replace did, and a lead assigns a due sample from the page."""

import re

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils.safestring import mark_safe

from qa import sampling
from qa.models import Sample, SampleStatus
from qa.selectors import sample_list
from tsconsole import roles

pytestmark = pytest.mark.django_db

OLD_SAMPLE_ROWS = Template(
    """{% for s in page.samples %}<tr><td><a href="{% url 'qa-sample' s.pk %}">Sample {{ s.pk }}</a></td><td>#{{ s.case_id }}</td>
    {% if lead %}<td>{{ s.analyst.get_username }}</td>{% endif %}<td>{% if lead or s.status == "reviewed" %}{{ s.rule.name }}{% else %}<span class="muted">hidden until reviewed</span>{% endif %}</td>
    <td>{% if s.reviewer %}{{ s.reviewer.get_username }}{% else %}<span class="pill warn">unassigned</span>{% endif %}
      {% if lead and s.status == "due" %}<form method="post" action="{% url 'qa-sample-assign' s.pk %}" class="inline">{% csrf_token %}
        <select name="reviewer" aria-label="Reviewer">{{ reviewer_options }}</select><button type="submit">Assign</button></form>{% endif %}</td>
    <td>{{ s.get_status_display }}</td><td>{{ s.due_at|date:"Y-m-d" }}</td></tr>
  {% empty %}<tr><td colspan="7" class="muted">No samples.</td></tr>{% endfor %}""")
NEW_SAMPLE_ROWS = Template("{% load qa_tags %}{% sample_rows page.samples lead reviewer_options %}")
OLD_DUE_ROWS = Template(
    """{% for s in due %}<tr><td><a href="{% url 'qa-sample' s.pk %}" data-testid="due-sample">Sample {{ s.pk }}</a></td><td>#{{ s.case_id }}</td><td>{{ s.case.category.name }}</td>
      <td>{{ s.due_at|date:"Y-m-d" }}{% if s.due_at < now %} <span class="pill bad">overdue</span>{% endif %}</td></tr>{% endfor %}""")
NEW_DUE_ROWS = Template("{% load qa_tags %}{% due_sample_rows due now %}")


def _same_markup(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).replace("> ", ">").replace(" <", "<").strip()


@pytest.fixture
def drawn(make_user, reviewers, decide, rule):
    """Three samples, newest first: unassigned; reviewed by qa0; due for qa0 (the rule's name needs
    escaping, as does the analyst's)."""
    analyst = make_user(roles.ANALYST, username="an<b>")
    for _ in range(3):
        decide(analyst, ("warn",))
    rule("random", name="random <i>rule</i>", rate=1)
    sampling.samples_draw()
    samples = list(Sample.objects.order_by("-id"))
    Sample.objects.filter(pk=samples[0].pk).update(reviewer=None)
    Sample.objects.filter(pk__in=[s.pk for s in samples[1:]]).update(reviewer=reviewers[0])
    Sample.objects.filter(pk=samples[1].pk).update(status=SampleStatus.REVIEWED)
    return list(Sample.objects.select_related("case__category", "rule", "reviewer", "analyst").order_by("-id"))


def test_rows_read_as_the_template_loops_showed_them(drawn, make_user, reviewers):
    """The old loop drew whole samples and hid what a reviewer may not see; the tag draws the rows
    the selector gives each reader, with the same markup."""
    from django.utils import timezone

    lead = make_user(roles.LEAD, username="leader")
    for reader, is_lead in ((lead, True), (reviewers[0], False)):
        theirs = [s for s in drawn if is_lead or s.reviewer_id == reader.pk]
        rows = sample_list(reader)["samples"]
        assert [r.pk for r in rows] == [s.pk for s in theirs]
        context = {"lead": is_lead, "reviewer_options": mark_safe('<option value="qa0">qa0</option>'),
                   "csrf_token": "token-123"}
        old = OLD_SAMPLE_ROWS.render(Context({**context, "page": {"samples": theirs}}))
        assert _same_markup(NEW_SAMPLE_ROWS.render(Context({**context, "page": {"samples": rows}}))) == _same_markup(old)
    context = {"due": drawn, "now": timezone.now()}
    assert _same_markup(NEW_DUE_ROWS.render(Context(context))) == _same_markup(OLD_DUE_ROWS.render(Context(context)))
    empty = {"page": {"samples": []}, "lead": True, "reviewer_options": ""}
    assert _same_markup(NEW_SAMPLE_ROWS.render(Context(empty))) == _same_markup(OLD_SAMPLE_ROWS.render(Context(empty)))


def test_a_lead_assigns_a_due_sample_from_the_queue_page(make_user, reviewers, drawn):
    lead = make_user(roles.LEAD, username="leader")
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    page = client.get(reverse("qa-queue")).content.decode()
    unassigned = drawn[0]
    form = page.split(f'action="{reverse("qa-sample-assign", args=[unassigned.pk])}"')[1].split("</form>")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert 'value="qa1"' in form
    response = client.post(reverse("qa-sample-assign", args=[unassigned.pk]),
                           {"reviewer": "qa1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Sample.objects.get(pk=unassigned.pk).reviewer == reviewers[1]
