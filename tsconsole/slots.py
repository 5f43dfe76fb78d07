"""Page slots: a lower app's page shows panels that higher apps register, without importing them.

The home page renders slot "home"; the case page renders slot "case" in its side column
(enforcement adds its decision panel there) and slot "case_main" above the subject in its main
column (appeals put the appeal beside the contested decision there); the support lookup renders
slot "support_lookup" below its results. Apps register in AppConfig.ready():

    register_panel("case", Panel(key="enforcement", template="enforcement/_case_panel.html",
                                 capability="case.view", context=lambda request, case: {...}))

Facts work the same way for reads that are not pages: the subject status API reads fact slot
"subject_status", to which appeals add the subject's appeals:

    register_facts("subject_status", "appeals", lambda subject, now: [...])
"""

from collections.abc import Callable
from dataclasses import dataclass

from .roles import can


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    capability: str
    context: Callable[..., dict]  # (request, **slot_kwargs) -> dict
    order: int = 100


_SLOTS: dict[str, dict[str, Panel]] = {}


def register_panel(slot: str, panel: Panel) -> None:
    _SLOTS.setdefault(slot, {})[panel.key] = panel


def panels_for(slot: str, request, **slot_kwargs) -> list[dict]:
    """The panels of `slot` the user may see, each as {"key", "template", "context"}."""
    shown = []
    for panel in sorted(_SLOTS.get(slot, {}).values(), key=lambda p: p.order):
        if can(request.user, panel.capability):
            shown.append({"key": panel.key, "template": panel.template, "context": panel.context(request, **slot_kwargs)})
    return shown


_FACTS: dict[str, dict[str, Callable]] = {}


def register_facts(slot: str, key: str, provider: Callable[..., object]) -> None:
    """A higher app adds `key` to the read named `slot`; `provider(**slot_kwargs)` gives its value."""
    _FACTS.setdefault(slot, {})[key] = provider


def facts_for(slot: str, **slot_kwargs) -> dict:
    """{key: value} of every provider registered for `slot` (empty when no higher app is installed)."""
    return {key: provider(**slot_kwargs) for key, provider in sorted(_FACTS.get(slot, {}).items())}
