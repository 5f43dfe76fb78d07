from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tsconsole.demo import register_seeder
        from tsconsole.slots import Panel, register_panel

        from . import demo, views

        register_seeder("insights", demo.seed, order=90)

        register_panel("home", Panel(
            key="insights.action_now", template="insights/_home_action_now.html", capability="insights.lead",
            context=views.home_action_now_context, order=5,
        ))
