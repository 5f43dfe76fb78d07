from django.apps import AppConfig


class QaConfig(AppConfig):
    """Quality assurance: sampled, blinded audits of resolved cases and calibration."""

    name = "qa"
    verbose_name = "Quality assurance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tsconsole.demo import register_seeder
        from tsconsole.slots import Panel, register_panel

        from . import demo, views

        register_seeder("qa", demo.seed, order=40)
        register_panel("home", Panel(
            key="qa.samples", template="qa/_home_panel.html", capability="qa.review",
            context=views.home_panel_context, order=15,
        ))
