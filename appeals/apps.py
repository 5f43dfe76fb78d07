from django.apps import AppConfig


class AppealsConfig(AppConfig):
    """Appeals against enforcement decisions and their independent review."""

    name = "appeals"
    verbose_name = "Appeals"
    default_auto_field = "django.db.models.BigAutoField"
