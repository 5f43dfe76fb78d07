from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

from .models import OutboxMessage


class RateLimitedLoginForm(AuthenticationForm):
    """Refuses further attempts for a username+address after too many failures in a window."""

    def _key(self) -> str:
        username = (self.data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return f"login-failures:{username}:{address}"

    def clean(self):
        key = self._key()
        if cache.get(key, 0) >= settings.LOGIN_RATE_LIMIT:
            raise forms.ValidationError(
                "Too many failed sign-in attempts. Wait a few minutes and try again.", code="rate_limited"
            )
        try:
            return super().clean()
        except forms.ValidationError:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.LOGIN_RATE_WINDOW_SECONDS)
            raise


class OutboxFilterForm(forms.Form):
    """Filters and the keyset cursor of the Deliveries list (GET parameters)."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *OutboxMessage.Status.choices])
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *OutboxMessage.Channel.choices])
    topic = forms.CharField(required=False, max_length=80)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
