"""The navigation bar: each entry shows only for the roles whose capability it needs.

Apps add their pages here as they ship them; nothing is listed before it exists.
"""

from dataclasses import dataclass

from django.urls import reverse

from .roles import can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: str | None  # None: every signed-in user
    key: str = ""  # keyboard shortcut hint, shown in the shortcuts dialog


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "home", None),
    NavItem("Queues", "queue-list", "case.work"),
    NavItem("My work", "my-work", "case.view"),
    NavItem("Cases", "case-list", "case.view"),
    NavItem("Search", "case-search", "case.view"),
    NavItem("Escalations", "escalations", "escalation.view"),
    NavItem("Approvals", "enforcement-approvals", "approval.decide"),
    NavItem("Insights", "insights-home", "insights.view"),
    NavItem("QA", "qa-queue", "qa.review"),
    NavItem("QA feedback", "qa-feedback", "qa.feedback"),
    NavItem("Calibration", "qa-calibrations", "calibration.participate"),
    NavItem("Support lookup", "support-lookup", "support.lookup"),
    NavItem("Health", "system-health", "system.health"),
    NavItem("Deliveries", "outbox-list", "outbox.manage"),
    NavItem("API docs", "api-docs", "taxonomy.view"),
]


def nav_for(user) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if item.capability is None or can(user, item.capability):
            items.append({"label": item.label, "url": reverse(item.url_name), "name": item.url_name})
    return items
