"""The QA queue page: its rows (written in Python, qa/templatetags/qa_tags.py) read as the template
loops they replace did, and a lead assigns a due sample from the page."""

import re

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils.safestring import mark_safe

from qa import sampling
from qa.models import Sample
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
    analyst = make_user(roles.ANALYST, username="an<b>")
    for _ in range(3):
        decide(analyst, ("warn",))
    rule("random", rate=1)
    sampling.samples_draw()
    samples = list(Sample.objects.select_related("case__category", "rule", "reviewer", "analyst").order_by("-id"))
    Sample.objects.filter(pk=samples[0].pk).update(reviewer=None)
    samples[0].reviewer, samples[0].reviewer_id = None, None
    return samples


def test_rows_read_as_the_template_loops_showed_them(drawn):
    from django.utils import timezone

    for lead in (True, False):
        context = {"page": {"samples": drawn}, "lead": lead, "reviewer_options": mark_safe('<option value="qa0">qa0</option>'),
                   "csrf_token": "token-123", "due": drawn, "now": timezone.now()}
        assert _same_markup(NEW_SAMPLE_ROWS.render(Context(context))) == _same_markup(OLD_SAMPLE_ROWS.render(Context(context)))
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
