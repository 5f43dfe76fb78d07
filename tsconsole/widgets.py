"""Choice widgets rendered in Python.

Django renders a select or a group of checkboxes through templates, including one template per
option (and another for its attributes): the case list's filter form, with its 40-odd categories,
cost more to render than the 50 cases under it. These widgets write the same elements and
attributes as Django's templates (tests compare the two), without the template per option.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    # Django's attrs.html: True renders the bare name, False leaves the attribute out.
    return flatatt({name: value for name, value in attrs.items() if value is not False})


def _flat(choices) -> list | None:
    """The choices as a list, or None when they have groups (left to Django's templates)."""
    choices = [choice for choice in choices]  # noqa: C416 -- list() would ask a model iterator for a COUNT first
    return None if any(isinstance(label, (list, tuple)) for _, label in choices) else choices


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        choices = _flat(self.choices)
        if choices is None or self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        selected = set(self.format_value(value))
        options, chosen = [], False
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            is_selected = text in selected and not chosen
            chosen = chosen or is_selected
            options.append(format_html('<option value="{}"{}>{}</option>', text,
                                       mark_safe(" selected") if is_selected else "", label))
        return format_html('<select name="{}"{}>\n  {}\n</select>', name, mark_safe(_attrs(self.build_attrs(self.attrs, attrs))),
                           mark_safe("\n  ".join(options)))


class FastCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    def render(self, name, value, attrs=None, renderer=None):
        choices = _flat(self.choices)
        if choices is None:
            return super().render(name, value, attrs, renderer)
        selected = set(self.format_value(value))
        base = self.build_attrs(self.attrs, attrs)
        group_id = base.get("id")
        rows = []
        for index, (option_value, label) in enumerate(choices):
            text = "" if option_value is None else str(option_value)
            option_attrs = dict(base)
            if group_id:
                option_attrs["id"] = self.id_for_label(group_id, index)
            if text in selected:
                option_attrs["checked"] = True
            label_for = format_html(' for="{}"', option_attrs["id"]) if option_attrs.get("id") else ""
            rows.append(format_html('<div><label{}><input type="checkbox" name="{}" value="{}"{}> {}</label></div>',
                                    label_for, name, text, mark_safe(_attrs(option_attrs)), label))
        outer = format_html(' id="{}"', group_id) if group_id else ""
        if base.get("class"):
            outer += format_html(' class="{}"', base["class"])
        return mark_safe(f"<div{outer}>{''.join(rows)}\n</div>")

