"""The support lookup's appeal filing form, its decision picker written in Python (see tsconsole.rows):
an account with a hundred appealable decisions spent more on the picker's dates than on its lookup."""

from django import template
from django.utils.safestring import mark_safe

from tsconsole.rows import local, text

register = template.Library()


@register.simple_tag
def appealable_options(decisions, selected) -> str:
    """The <option>s of the decisions an appeal may be filed against, `selected` selected."""
    return mark_safe("".join(
        f'<option value="{text(d["decision"])}"{" selected" if selected == d["decision"] else ""}>'
        f'{text(d["label"])}, {local(d["date"], "%Y-%m-%d")} (appealable until {local(d["until"], "%Y-%m-%d")})</option>'
        for d in decisions))
