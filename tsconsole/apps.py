from django.apps import AppConfig


class TsconsoleConfig(AppConfig):
    name = "tsconsole"
    verbose_name = "Console: teams, outbox, notifications"
    default_auto_field = "django.db.models.BigAutoField"
