from django.apps import AppConfig


class TsconsoleConfig(AppConfig):
    name = "tsconsole"
    verbose_name = "Console: teams, outbox, notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .slots import Panel, register_panel

        user_logged_in.connect(_remember_preferences, dispatch_uid="tsconsole.remember_preferences")

        from . import selectors

        register_panel("home", Panel(
            key="wellness.own", template="tsconsole/_home_exposure.html", capability="case.work",
            context=lambda request: {"exposure": selectors.exposure_summary(request.user)}, order=90,
        ))
        register_panel("home", Panel(
            key="wellness.team", template="tsconsole/_home_team_exposure.html", capability="wellness.team",
            context=lambda request: {"exposure": selectors.team_exposure(request.user)}, order=95,
        ))


def _remember_preferences(sender, request, user, **kwargs):
    """Sign-in loads the preferences into the new session (one query then, none per page after)."""
    if request is not None and hasattr(request, "session"):
        from .middleware import remember_preferences
        from .selectors import preferences_of

        remember_preferences(request, preferences_of(user))
