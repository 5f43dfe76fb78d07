"""Forms of the enforcement pages. They parse input only; every rule lives in services.py, whose
field errors are put back on the matching form fields by `apply_errors`."""

from django import forms

from tsconsole.errors import DomainError

from .models import DURATION_OPTIONAL, DURATION_REQUIRED, VISIBILITY_FORMS, ActionType, DecisionGround

# The order the decision panel lists the action types in.
PANEL_ACTIONS = [
    ActionType.REMOVE_CONTENT, ActionType.RESTRICT_VISIBILITY, ActionType.WARN, ActionType.FEATURE_RESTRICTION,
    ActionType.SUSPENSION, ActionType.TRANSACTION_HOLD, ActionType.TERMINATION, ActionType.NO_VIOLATION,
]
TIMED = DURATION_REQUIRED | DURATION_OPTIONAL


UNITS = [("days", "days"), ("hours", "hours")]


def split_hours(hours: int | None) -> tuple[int | None, str]:
    """48 → (2, "days"); 36 → (36, "hours"): a duration as the panel shows it."""
    if hours and hours % 24 == 0:
        return hours // 24, "days"
    return hours, "hours"


class DecisionForm(forms.Form):
    """The decision panel: which actions, for how long, under which policy, why, and what the user is told.

    `offered` limits the action rows to the types that fit the case's subject (the service refuses
    the others anyway). A duration is a number and a unit; a post without a unit means hours, as
    the API does.
    """

    policy = forms.CharField(required=False)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    macro = forms.CharField(required=False)
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    departure_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    ground = forms.ChoiceField(choices=[("", "Policy default")] + list(DecisionGround.choices), required=False)
    visibility = forms.ChoiceField(
        choices=[(key, key.replace("_", " ").capitalize()) for key in VISIBILITY_FORMS], required=False,
    )

    def __init__(self, *args, offered=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = [k for k in PANEL_ACTIONS if offered is None or k in offered]
        for kind in PANEL_ACTIONS:
            self.fields[f"act_{kind}"] = forms.BooleanField(required=False, label=ActionType(kind).label)
            if kind in TIMED:
                self.fields[f"hours_{kind}"] = forms.IntegerField(required=False, min_value=1)
                self.fields[f"unit_{kind}"] = forms.ChoiceField(choices=UNITS, required=False)

    def action_rows(self):
        """(type, label, checkbox, duration field, unit field) per offered action type (None for untimed)."""
        return [
            (kind, ActionType(kind).label, self[f"act_{kind}"],
             self[f"hours_{kind}"] if kind in TIMED else None, self[f"unit_{kind}"] if kind in TIMED else None)
            for kind in self.offered
        ]

    def actions(self) -> list[dict]:
        """The checked actions in the API's shape, durations in hours (the service validates them)."""
        data = self.cleaned_data
        chosen = []
        for kind in PANEL_ACTIONS:
            if data.get(f"act_{kind}"):
                item = {"type": str(kind)}
                if kind in TIMED and data.get(f"hours_{kind}"):
                    amount = data[f"hours_{kind}"]
                    item["duration_hours"] = amount * 24 if data.get(f"unit_{kind}") == "days" else amount
                if kind == ActionType.RESTRICT_VISIBILITY and data.get("visibility"):
                    item["visibility"] = data["visibility"]
                chosen.append(item)
        return chosen

    def apply_errors(self, exc: DomainError, actions: list[dict]) -> bool:
        """Show a service refusal on the fields it names (per-action errors on that action's row).
        Returns False when it names no field (the caller shows the message itself)."""
        placed = False
        for name, problems in exc.field_errors.items():
            if name == "actions" and isinstance(problems, list) and problems and isinstance(problems[0], dict):
                for index, item_errors in enumerate(problems):
                    if not item_errors or index >= len(actions):
                        continue
                    kind = actions[index]["type"]
                    if kind not in self.offered:
                        continue  # no row to show it on: the caller shows the message
                    for key, messages in item_errors.items():
                        target = f"hours_{kind}" if key == "duration_hours" and kind in TIMED else f"act_{kind}"
                        for message in messages:
                            self.add_error(target, message)
                            placed = True
            elif name == "macro_values" and isinstance(problems, dict):
                self.add_error("statement", f"Fill the placeholders: {', '.join(problems)}.")
                placed = True
            elif name in self.fields and isinstance(problems, list):
                for message in problems:
                    self.add_error(name, message)
                    placed = True
        return placed


class ReviewForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=10_000)


class ReverseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)


class LookupForm(forms.Form):
    q = forms.CharField(label="Account or content", max_length=200, required=False)
    kind = forms.ChoiceField(
        choices=[("", "Account or content"), ("account", "Account"), ("content", "Content")], required=False,
    )
