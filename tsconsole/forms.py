import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from . import signin
from .models import OutboxMessage, PreviewMode
from .services import BREAK_AFTER_MAX, BREAK_AFTER_MIN


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


BROWSER_ZONE = ""


@lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone this server knows, areas first ("Europe/Paris"), the rest after."""
    names = sorted(zoneinfo.available_timezones(), key=lambda n: ("/" not in n, n))
    return [(BROWSER_ZONE, "Browser’s time zone"), *[(name, name.replace("_", " ")) for name in names
                                                      if not name.startswith(("Etc/", "SystemV/"))]]


class PreferencesForm(forms.Form):
    """A person's own settings. The service checks the same rules again for any other caller."""

    preview_mode = forms.ChoiceField(
        label="Sensitive images", choices=PreviewMode.choices, widget=forms.RadioSelect,
        help_text="How images in sensitive cases are shown to you.",
    )
    time_zone = forms.ChoiceField(
        label="Show times in", required=False,
        help_text="Times on every page are shown in this zone. The browser’s zone follows your computer.",
        error_messages={"invalid_choice": "“%(value)s” is not a time zone this console knows; pick one from the list."},
    )
    break_after_minutes = forms.IntegerField(
        label="Suggest a break after (minutes)", required=False, min_value=BREAK_AFTER_MIN, max_value=BREAK_AFTER_MAX,
        help_text="Of continuous work on sensitive cases. Leave blank for the default.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zone_choices()
        self.fields["break_after_minutes"].widget.attrs["placeholder"] = str(settings.WELLNESS_BREAK_AFTER_MINUTES)

    PREVIEW_HINTS = {
        PreviewMode.BLURRED: "Blurred until you reveal it; in colour after.",
        PreviewMode.GREYSCALE: "A soft grey copy until you reveal it; grey after too (colour on request).",
        PreviewMode.GREYSCALE_BLURRED: "Blurred and grey until you reveal it; grey after (colour on request).",
    }

    def preview_options(self) -> list[dict]:
        """The choices with a line each on what they do, for the page's radio buttons."""
        current = self["preview_mode"].value()
        return [{"value": value, "label": label, "hint": self.PREVIEW_HINTS[value], "checked": value == current,
                 "id": f"preview-{value}"} for value, label in PreviewMode.choices]

    def add_service_errors(self, field_errors: dict) -> None:
        for field, message in field_errors.items():
            self.add_error(field if field in self.fields else None, message)
