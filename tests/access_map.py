"""Who may open which URL. test_access.py walks every named URL of the console with every role,
and fails when a URL exists that this map does not mention, so a new page cannot ship unchecked.

Each entry: url name → how to build the path from the `world` fixture, the roles allowed, and
the method. Admin-site URLs are Django's own and are checked by Django's staff rule.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from tsconsole.roles import ADMIN, ANALYST, INTEGRATION, LEAD, QA_REVIEWER, ROLES, SUPPORT_AGENT

EVERYONE = set(ROLES)
HUMANS = EVERYONE - {INTEGRATION}
CASE_WORKERS = {ANALYST, LEAD, ADMIN}
LEADS = {LEAD, ADMIN}


@dataclass
class UrlCheck:
    name: str
    path: Callable  # (world) -> str
    allowed: set
    method: str = "get"
    data: dict = field(default_factory=dict)
    api: bool = False
    public: bool = False  # answers without a session at all


CHECKS: list[UrlCheck] = [
    UrlCheck("home", lambda w: reverse("home"), EVERYONE),
    UrlCheck("healthz", lambda w: reverse("healthz"), EVERYONE, public=True),
    UrlCheck("system-health", lambda w: reverse("system-health"), LEADS),
    UrlCheck("notifications", lambda w: reverse("notifications"), EVERYONE),
    UrlCheck("notifications-read", lambda w: reverse("notifications-read"), EVERYONE, method="post"),
    UrlCheck("outbox-list", lambda w: reverse("outbox-list"), {ADMIN}),
    UrlCheck("outbox-detail", lambda w: reverse("outbox-detail", args=[w.outbox_message.pk]), {ADMIN}),
    UrlCheck("outbox-retry", lambda w: reverse("outbox-retry", args=[w.outbox_message.pk]), {ADMIN}, method="post"),
    UrlCheck("outbox-retry-dead", lambda w: reverse("outbox-retry-dead"), {ADMIN}, method="post"),
    UrlCheck("login", lambda w: reverse("login"), EVERYONE, public=True),
    UrlCheck("logout", lambda w: reverse("logout"), EVERYONE, method="post", public=True),
    UrlCheck("api-token", lambda w: reverse("api-token"), EVERYONE, method="post", api=True, public=True,
             data={"username": "nobody", "password": "wrong"}),
    UrlCheck("api-schema", lambda w: reverse("api-schema"), EVERYONE, api=True),
    UrlCheck("api-docs", lambda w: reverse("api-docs"), EVERYONE, api=True),
    UrlCheck("api-categories", lambda w: reverse("api-categories"), {INTEGRATION, ANALYST, LEAD, QA_REVIEWER, ADMIN}, api=True),
]

# Roles referenced so that linters keep the imports meaningful for entries added later.
_ = SUPPORT_AGENT
