"""Forms of the appeal pages: they parse input; every rule lives in services.py."""

from django import forms

from enforcement.forms import DecisionForm

from .models import Channel, Outcome


class AppealDecisionForm(DecisionForm):
    """The appeal decision: an outcome, the internal rationale, the statement to the appellant and,
    for a modified decision (or a notifier's appeal overturned), the new actions."""

    outcome = forms.ChoiceField(choices=Outcome.choices, required=False)


class AppealFileForm(forms.Form):
    """A support agent files an appeal for the user, in the user's words, noting how it reached them."""

    decision = forms.CharField(max_length=64, required=False)
    appellant_kind = forms.ChoiceField(choices=[("subject", "The affected user"), ("notifier", "A notifier")],
                                       required=False)
    appellant = forms.CharField(max_length=200, required=False)
    channel = forms.ChoiceField(choices=[c for c in Channel.choices if c[0] != Channel.IN_PRODUCT], required=False)
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    q = forms.CharField(max_length=200, required=False)
