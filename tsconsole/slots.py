"""Page slots: a lower app's page shows panels that higher apps register, without importing them.

The home page renders slot "home"; the case page renders slot "case" (enforcement adds its
decision panel there). Apps register in AppConfig.ready():

    register_panel("case", Panel(key="enforcement", template="enforcement/_case_panel.html",
                                 capability="case.view", context=lambda request, case: {...}))
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
