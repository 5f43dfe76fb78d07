from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "enforcement"
    verbose_name = "Enforcement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tsconsole.demo import register_seeder
        from tsconsole.slots import Panel, register_panel

        from . import demo, demo_workday, views

        register_seeder("enforcement", demo.seed, order=20)
        register_seeder("workday", demo_workday.seed, order=25)
        register_panel("case", Panel(
            key="enforcement.decision", template="enforcement/_case_panel.html", capability="case.view",
            context=views.case_panel_context, order=10,
        ))
        register_panel("home", Panel(
            key="enforcement.approvals", template="enforcement/_home_approvals.html", capability="approval.decide",
            context=views.home_approvals_context, order=20,
        ))
        register_panel("home", Panel(
            key="enforcement.lookup", template="enforcement/_home_lookup.html", capability="support.lookup",
            context=views.home_lookup_context, order=30,
        ))
