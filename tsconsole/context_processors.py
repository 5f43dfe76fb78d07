from .middleware import session_preferences
from .navigation import nav_for
from .roles import ROLE_LABELS, user_roles
from .selectors import preview_label, unread_badge


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = sorted(user_roles(user))
    match = getattr(request, "resolver_match", None)
    prefs = session_preferences(request)
    preview = prefs.get("preview") or "blurred"
    return {
        "nav_items": nav_for(user, match.url_name if match else ""),
        # How this person sees sensitive images (Preferences); pages read it without a query.
        "preview_mode": preview,
        "preview_mode_label": preview_label(preview),
        "user_role_labels": [ROLE_LABELS[r] for r in roles],
        "unread_badge": unread_badge(user),
        "is_admin_user": user.is_staff,
    }
