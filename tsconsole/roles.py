"""Roles and what each may do. Every view and API view checks a capability from CAPABILITIES.

Roles are Django groups. A capability names an act ("case.view"); the map below says which
roles hold it, so a role's reach is read in one place and tested URL by URL.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

ANALYST = "analyst"
LEAD = "lead"
QA_REVIEWER = "qa_reviewer"
SUPPORT_AGENT = "support_agent"
ADMIN = "admin"
INTEGRATION = "integration"

ROLES = [ANALYST, LEAD, QA_REVIEWER, SUPPORT_AGENT, ADMIN, INTEGRATION]
ROLE_LABELS = {
    ANALYST: "Analyst",
    LEAD: "Lead",
    QA_REVIEWER: "QA reviewer",
    SUPPORT_AGENT: "Support agent",
    ADMIN: "Admin",
    INTEGRATION: "Integration",
}

STAFF_ROLES = {ANALYST, LEAD, QA_REVIEWER, ADMIN}

CAPABILITIES: dict[str, set[str]] = {
    # cases
    "case.view": {ANALYST, LEAD, ADMIN},
    "case.work": {ANALYST, LEAD, ADMIN},
    "case.reassign": {LEAD, ADMIN},
    "report.create": {INTEGRATION, ANALYST, LEAD, ADMIN},
    "taxonomy.view": {INTEGRATION, ANALYST, LEAD, QA_REVIEWER, ADMIN},
    "queue.configure": {LEAD, ADMIN},
    "queue.work_all": {LEAD, ADMIN},  # every queue, whatever its allowed teams (supervision)
    "routing.configure": {ADMIN},
    # leads
    "approval.decide": {LEAD, ADMIN},
    "action.reverse": {LEAD, ADMIN},
    "escalation.manage": {LEAD, ADMIN},  # see and answer every escalation, whatever the team
    "escalation.view": {ANALYST, LEAD, ADMIN},  # the escalations page: your teams' escalations
    # appeals
    "appeal.create": {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN},  # file one (the platform, or support for a user)
    "appeal.view": {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN},  # status and outcome; internals need case.view
    "appeal.decide": {ANALYST, LEAD, ADMIN},  # review one (never your own decision: checked by the service)
    # support
    "support.lookup": {SUPPORT_AGENT, LEAD, ADMIN},
    "subject.status": {INTEGRATION, SUPPORT_AGENT, ANALYST, LEAD, ADMIN},
    # insights: analysts see their own figures; leads see queues, every analyst, KPIs and DSA reports
    "insights.view": {ANALYST, LEAD, ADMIN},
    "insights.lead": {LEAD, ADMIN},
    "insights.transparency": {LEAD, ADMIN},
    "dsa.statements": {INTEGRATION, LEAD, ADMIN},
    # quality assurance (qa/)
    "qa.review": {QA_REVIEWER, LEAD, ADMIN},  # audit the samples assigned to you
    "qa.manage": {LEAD, ADMIN},  # sampling rules, rubrics, every sample, disputes, corrections, calibration
    "qa.feedback": {ANALYST, LEAD, ADMIN},  # your own QA feedback inbox
    "calibration.participate": {ANALYST, QA_REVIEWER, LEAD, ADMIN},
    # administration
    "outbox.manage": {ADMIN},
    "system.health": {LEAD, ADMIN},
    # wellness: everyone has their own preferences; leads see their teams' exposure to sensitive material
    "wellness.team": {LEAD, ADMIN},
}


def remember_roles(user, group_names) -> frozenset[str]:
    """Cache the user's roles on the user object from its group names (for the request)."""
    names = set(group_names) & set(ROLES)
    if user.is_superuser:
        names |= {ADMIN, LEAD}
    user._tsconsole_roles = frozenset(names)
    return user._tsconsole_roles


def user_roles(user) -> frozenset[str]:
    """The user's roles, cached on the user object for the request. Superusers hold every staff role."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_tsconsole_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def users_with_role(role: str):
    """Active users in the role's group, by username (the fallback audience of leads' notices)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=role, is_active=True).order_by("username")


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def can(user, capability: str) -> bool:
    try:
        allowed = CAPABILITIES[capability]
    except KeyError:
        raise ValueError(f"unknown capability {capability!r}")
    return bool(user_roles(user) & allowed)


# What a capability lets people do, for refusals people read ("(case.work)" means nothing to them).
CAPABILITY_TEXT = {
    "case.view": "reading cases",
    "case.work": "working on cases",
    "case.reassign": "reassigning cases",
    "report.create": "sending reports",
    "taxonomy.view": "reading the taxonomy",
    "queue.configure": "configuring queues",
    "queue.work_all": "working every queue",
    "routing.configure": "configuring routing",
    "approval.decide": "approving decisions",
    "action.reverse": "reversing actions",
    "escalation.manage": "managing escalations",
    "escalation.view": "the escalations page",
    "support.lookup": "the support lookup",
    "subject.status": "reading subject status",
    "outbox.manage": "managing deliveries",
    "system.health": "the system health page",
    "wellness.team": "the team's exposure figures",
}


def refusal_text(user, capability: str) -> str:
    """"Working on cases is for analysts, leads and admins; you are signed in as a support agent."."""
    what = CAPABILITY_TEXT.get(capability, "this page")
    allowed = [ROLE_LABELS[r].lower() + "s" for r in ROLES if r in CAPABILITIES.get(capability, ()) and r != INTEGRATION]
    mine = [ROLE_LABELS[r].lower() for r in sorted(user_roles(user))]
    who = ", ".join(allowed[:-1]) + " and " + allowed[-1] if len(allowed) > 1 else "".join(allowed) or "nobody"
    you = f"you are signed in as {' and '.join(mine)}" if mine else "your account has no role yet"
    return f"{what[0].upper()}{what[1:]} is for {who}; {you}. Ask an administrator if you need it."


def capability_required(capability: str):
    """View decorator: anonymous users go to login; users without the capability get 403."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                raise PermissionDenied(refusal_text(request.user, capability))
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability
        return wrapped

    return decorator


def Can(capability: str) -> type[BasePermission]:  # noqa: N802 - reads like a permission class
    """DRF permission class factory: `permission_classes = [Can("case.view")]`."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    class _Can(BasePermission):
        message = f"Your role does not allow this ({capability})."

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and can(request.user, capability))

    _Can.__name__ = f"Can[{capability}]"
    return _Can
