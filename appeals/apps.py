from django.apps import AppConfig


class AppealsConfig(AppConfig):
    """Appeals against enforcement decisions and their independent review."""

    name = "appeals"
    verbose_name = "Appeals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tsconsole.demo import register_seeder
        from tsconsole.slots import Panel, register_facts, register_panel

        from . import demo, selectors, views

        register_seeder("appeals", demo.seed, order=30)
        register_facts("subject_status", "appeals", selectors.subject_appeals)
        register_panel("case_main", Panel(
            key="appeals.appeal", template="appeals/_case_panel.html", capability="case.view",
            context=views.case_panel_context, order=5,
        ))
        register_panel("support_lookup", Panel(
            key="appeals.lookup", template="appeals/_lookup_panel.html", capability="support.lookup",
            context=views.lookup_panel_context, order=10,
        ))
        register_panel("home", Panel(
            key="appeals.queue", template="appeals/_home_appeals.html", capability="appeal.decide",
            context=views.home_context, order=25,
        ))
