"""The Python-rendered choice widgets write what Django's templates write (whitespace and the order
of attributes aside), for selected, unselected, invalid and grouped choices."""

from html.parser import HTMLParser

import pytest
from django import forms
from django.http import QueryDict

from cases.filters import CaseFilter
from cases.models import Case
from tests.factories import CategoryFactory, QueueFactory
from tsconsole.widgets import FastCheckboxSelectMultiple, FastSelect

pytestmark = pytest.mark.django_db


class _Tokens(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tokens = []

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("start", tag, tuple(sorted(attrs, key=lambda a: a[0]))))

    def handle_endtag(self, tag):
        self.tokens.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.tokens.append(("text", data.strip()))


def tokens(html: str) -> list:
    parser = _Tokens()
    parser.feed(str(html))
    return parser.tokens


def django_rendered(widget, name, value, attrs):
    plain = (forms.Select if isinstance(widget, FastSelect) else forms.CheckboxSelectMultiple)(
        attrs=widget.attrs, choices=widget.choices)
    return plain.render(name, value, attrs)


@pytest.mark.parametrize("query", ["status=open&status=in_review&priority=1", "queue=q-two&category=child",
                                   "category=nope&status=bogus", ""])
def test_the_case_filter_form_renders_as_djangos_templates_do(query):
    parent = CategoryFactory(slug="parent", name="Parent <&>")
    CategoryFactory(slug="child", name="Child", parent=parent)
    QueueFactory(slug="q-one", name="One"), QueueFactory(slug="q-two", name="Two & more")
    form = CaseFilter(QueryDict(query), queryset=Case.objects.all()).form
    form.is_valid()
    fast = [name for name, field in form.fields.items() if isinstance(field.widget, (FastSelect, FastCheckboxSelectMultiple))]
    assert sorted(fast) == ["category", "priority", "queue", "status"]
    for name in fast:
        bound = form[name]
        ours = str(bound)
        field = form.fields[name]
        field.widget = (forms.Select if isinstance(field.widget, FastSelect) else forms.CheckboxSelectMultiple)(
            attrs=field.widget.attrs, choices=field.widget.choices)
        assert tokens(ours) == tokens(str(form[name])), name


@pytest.mark.parametrize("widget, value", [
    (FastSelect(choices=[("", "Any"), ("a", "A <b>"), ("b", "B")]), "a"),
    (FastSelect(choices=[("a", "A"), ("a", "A again")]), "a"),  # only the first match is selected
    (FastSelect(choices=[("Group", [("a", "A")]), ("b", "B")]), "a"),  # groups: Django's templates
    (FastCheckboxSelectMultiple(choices=[("x", "X"), ("y", "Y & Z")], attrs={"class": "checks"}), ["y"]),
    (FastCheckboxSelectMultiple(choices=[("x", "X")]), None),
])
def test_single_widgets_match_django(widget, value):
    attrs = {"id": "id_field"}
    assert tokens(widget.render("field", value, attrs)) == tokens(django_rendered(widget, "field", value, attrs))
