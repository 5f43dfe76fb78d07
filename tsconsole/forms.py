from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from . import signin
from .models import OutboxMessage


class ThrottledSignin:
    """Mixin for authentication forms: each attempt is counted per account and per client address
    (tsconsole/signin.py) before the password is checked."""

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


class RateLimitedLoginForm(ThrottledSignin, AuthenticationForm):
    """The console's sign-in form."""


class ThrottledAdminLoginForm(ThrottledSignin, AdminAuthenticationForm):
    """The Django admin's sign-in form: the same budget as the console's, so it is no side door."""


class OutboxFilterForm(forms.Form):
    """Filters and the keyset cursor of the Deliveries list (GET parameters)."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *OutboxMessage.Status.choices])
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *OutboxMessage.Channel.choices])
    topic = forms.CharField(required=False, max_length=80)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
