"""The navigation bar: each entry shows only for the roles whose capability it needs.

Apps add their pages here as they ship them; nothing is listed before it exists. Entries that
share a `group` fold into one menu (a disclosure: a button that opens a short list of links), so a
lead's bar stays on one line at desktop widths; a group with one entry for the user is a plain link.
"""

from dataclasses import dataclass

from django.urls import get_script_prefix, reverse

from .roles import can, user_roles


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: str | None  # None: every signed-in user
    key: str = ""  # keyboard shortcut hint, shown in the shortcuts dialog
    group: str = ""  # entries with the same group fold into one menu


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "home", None),
    NavItem("Queues", "queue-list", "case.work"),
    NavItem("My work", "my-work", "case.view"),
    NavItem("Cases", "case-list", "case.view"),
    NavItem("Search", "case-search", "case.view"),
    NavItem("Escalations", "escalations", "escalation.view"),
    NavItem("Approvals", "enforcement-approvals", "approval.decide"),
    NavItem("Insights", "insights-home", "insights.view"),
    NavItem("QA reviews", "qa-queue", "qa.review", group="Quality"),
    NavItem("QA feedback", "qa-feedback", "qa.feedback", group="Quality"),
    NavItem("Calibration", "qa-calibrations", "calibration.participate", group="Quality"),
    NavItem("Support lookup", "support-lookup", "support.lookup"),
    NavItem("Health", "system-health", "system.health", group="System"),
    NavItem("Deliveries", "outbox-list", "outbox.manage", group="System"),
    NavItem("API docs", "api-docs", "taxonomy.view", group="System"),
]


# (roles, current page, script prefix) -> entries: the bar depends on nothing else, and every page shows it.
_NAV_CACHE: dict[tuple, list[dict]] = {}


def nav_for(user, current: str = "") -> list[dict]:
    """The user's entries in order: links {"label", "url", "name"}, and groups {"label", "name",
    "children": [links], "current"} where the user may open more than one page of the group.
    Kept per process for each set of roles and page (templates only read them)."""
    key = (user_roles(user), current, get_script_prefix())
    entries = _NAV_CACHE.get(key)
    if entries is None:
        entries = _NAV_CACHE[key] = _nav_entries(user, current)
    return entries


def _nav_entries(user, current: str) -> list[dict]:
    entries: list[dict] = []
    groups: dict[str, dict] = {}
    for item in NAV_ITEMS:
        if item.capability is not None and not can(user, item.capability):
            continue
        link = {"label": item.label, "url": reverse(item.url_name), "name": item.url_name}
        if not item.group:
            entries.append(link)
        elif item.group in groups:
            groups[item.group]["children"].append(link)
        else:
            groups[item.group] = {"label": item.group, "name": f"group-{item.group.lower()}", "children": [link]}
            entries.append(groups[item.group])
    for index, entry in enumerate(entries):
        if "children" in entry:
            if len(entry["children"]) == 1:
                entries[index] = entry["children"][0]
            else:
                entry["current"] = any(child["name"] == current for child in entry["children"])
    return entries
