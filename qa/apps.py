from django.apps import AppConfig


class QaConfig(AppConfig):
    """Quality assurance: sampled, blinded audits of resolved cases and calibration."""

    name = "qa"
    verbose_name = "Quality assurance"
    default_auto_field = "django.db.models.BigAutoField"
