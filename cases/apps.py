from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tsconsole.demo import register_seeder
        from tsconsole.slots import Panel, register_panel

        from . import demo, selectors
        from .selectors import workspace as workspace_selectors
        from .services import intake  # noqa: F401 - connects the intake-context invalidation signals

        register_seeder("cases", demo.seed, order=10)

        register_panel("home", Panel(
            key="cases.work", template="cases/_home_work.html", capability="case.work",
            context=lambda request: workspace_selectors.home_work(request.user), order=5,
        ))
        register_panel("home", Panel(
            key="cases.queues", template="cases/_home_queues.html", capability="case.view",
            context=lambda request: {"queues": selectors.queue_open_summary(request.user)}, order=10,
        ))

        from . import demo_escalations
        from .selectors import escalations as escalation_selectors

        register_seeder("escalations", demo_escalations.seed, order=12)

        from . import demo_exposure

        register_seeder("exposure", demo_exposure.seed, order=27)  # after the workday's replay

        register_panel("home", Panel(
            key="cases.escalations", template="cases/_home_escalations.html", capability="escalation.manage",
            context=lambda request: {"escalations": escalation_selectors.awaiting_acknowledgement(request.user)},
            order=15,
        ))

        register_panel("case", Panel(
            key="cases.escalation", template="cases/_escalation_panel.html", capability="case.view",
            context=lambda request, case: escalation_selectors.case_panel(request.user, case), order=20,
        ))
