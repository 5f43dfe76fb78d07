from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tsconsole.slots import Panel, register_panel

        from . import views

        register_panel("home", Panel(
            key="insights.action_now", template="insights/_home_action_now.html", capability="insights.lead",
            context=views.home_action_now_context, order=5,
        ))
