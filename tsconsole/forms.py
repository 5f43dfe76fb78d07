from django import forms
from django.contrib.auth.forms import AuthenticationForm

from . import signin
from .models import OutboxMessage


class RateLimitedLoginForm(AuthenticationForm):
    """The sign-in form, throttled per account and per client address (tsconsole/signin.py)."""

    def clean(self):
        try:
            attempt = signin.begin(self.request, self.data.get("username") or "")
        except signin.SigninLocked as locked:
            raise forms.ValidationError(str(locked), code="rate_limited")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            attempt.failed()
            raise
        attempt.succeeded()
        return cleaned


class OutboxFilterForm(forms.Form):
    """Filters and the keyset cursor of the Deliveries list (GET parameters)."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *OutboxMessage.Status.choices])
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *OutboxMessage.Channel.choices])
    topic = forms.CharField(required=False, max_length=80)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
